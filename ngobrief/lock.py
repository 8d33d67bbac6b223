"""The warehouse write lock: one writer at a time, across processes, and a name for whoever holds it.

DuckDB refuses a second writer process at once, but only while a connection is open; a run opens and
closes the warehouse once per stage, so without this lock another process could write between two
stages (a brief rendered from figures loaded but not yet validated). The lock is an advisory `flock`
on `<warehouse>.lock`: the kernel releases it when its process ends, so a crash never leaves it stuck.
Within one process it is re-entrant, so a run that holds it can call stages that take it again."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from . import config
from .errors import WarehouseBusyError

# Seconds a stage called outside a run waits for the lock (the CLI's pull, validate, brief): 0 fails at once.
WAIT_ENV = "NGOBRIEF_LOCK_WAIT"

_held: dict[Path, list] = {}        # lock file → [open file, depth]: the locks this process holds
_guard = threading.Lock()


def lock_path(warehouse_path: str | Path | None = None) -> Path:
    path = config.warehouse_path(warehouse_path)
    return path.with_name(path.name + ".lock")


def default_wait() -> float:
    try:
        return float(os.environ.get(WAIT_ENV, "0"))
    except ValueError:
        return 0.0


def holder(warehouse_path: str | Path | None = None) -> str:
    """Who holds the lock, as its holder wrote it (empty when nobody has ever held it)."""
    try:
        return lock_path(warehouse_path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def _describe(what: str) -> str:
    since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return f"{what} (pid {os.getpid()} on {socket.gethostname()}, since {since})"


def _command() -> str:
    """This process's command line, as a user would have typed it (`ngobrief brief --year 2013`)."""
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if prog in ("cli.py", "__main__.py") and "ngobrief" in sys.argv[0]:
        prog = "ngobrief"
    return "`" + " ".join([prog, *sys.argv[1:]]) + "`"


# Over 60 lines on purpose: re-entry, waiting, taking and releasing are one flock's lifecycle in one
# generator, so that a release can never run for a lock this block did not take.
@contextmanager
def warehouse_lock(warehouse_path: str | Path | None = None, *, what: str | None = None,
                   wait: float | None = None, on_wait: Callable[[str], None] | None = None,
                   poll: float = 0.2) -> Iterator[Path]:
    """Hold the warehouse's write lock for the duration of the block.

    `what` says who is writing (shown to anyone who has to wait); `wait` is how many seconds to wait
    for another holder (default $NGOBRIEF_LOCK_WAIT, else 0); `on_wait` is told once, with the
    holder's description, when waiting starts. Raises WarehouseBusyError naming the holder."""
    path = lock_path(warehouse_path).resolve()
    with _guard:
        if path in _held:
            _held[path][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                _held[path][1] -= 1
        return

    wait = default_wait() if wait is None else wait
    what = what or _command()
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+", encoding="utf-8")
    deadline = time.monotonic() + max(wait, 0)
    told = False
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                who = holder(warehouse_path) or "another process"
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:g} s" if wait > 0 else ""
                    raise WarehouseBusyError(
                        f"the warehouse {config.warehouse_path(warehouse_path)} is being written by {who}{waited}; "
                        "try again when it has finished") from None
                if on_wait and not told:
                    on_wait(who)
                    told = True
                time.sleep(poll)
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    fh.truncate()
    fh.write(_describe(what) + "\n")
    fh.flush()
    with _guard:
        _held[path] = [fh, 1]
    try:
        yield path
    finally:
        with _guard:
            _held[path][1] -= 1
            last = _held[path][1] == 0
            if last:
                del _held[path]
        if last:
            # Leave the holder's line in the file: it is only read while the lock is held again.
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()
