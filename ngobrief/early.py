"""A process started before it is needed: it imports a slow library at once, on the core this process
is not using, then runs the one call it is handed — so the import costs no time of its own.

Two commands use it. `ngobrief brief` starts one that imports WeasyPrint while the command reads the
warehouse and makes the page (ngobrief.pdf_worker). A run starts one that imports Great Expectations
(~3 s) while it copies the published edition and loads the snapshots, and validates the build there
(pipeline.validate_stage). The call runs the same library function the command would run itself, with
the same settings (ngobrief.config as this process has it), so its result is the same. A process that
could not start, or died, leaves the call to the caller (`call` answers None), and an exception the
call raised is raised in the caller. Only the standard library is imported here: this module may run
before anything else."""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import select
import subprocess
import sys

# An early process that has had no call for this long ends (the caller then runs the call itself).
IDLE_S = 1800


# The early processes this library starts: (slot, modules to import first, the variable that turns it off).
PDF = ("pdf", "weasyprint", "NGOBRIEF_PDF_WORKER")
VALIDATE = ("validate", "great_expectations,ngobrief.pipeline", "NGOBRIEF_VALIDATE_WORKER")


def spare_core() -> bool:
    """Whether this process may use a second core (on one core an early process only competes)."""
    return len(os.sched_getaffinity(0)) >= 2


def allowed(env: str) -> bool:
    """An early process is started unless `env` is 0 or the machine has one core for us."""
    return os.environ.get(env, "1") != "0" and spare_core()


class Early:
    """One call to run, in a process of its own that has already imported `preload`."""

    def __init__(self, preload: str):
        """`preload`: the modules to import at once, comma-separated."""
        self.proc = subprocess.Popen([sys.executable, "-m", "ngobrief.early", preload], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=os.environ.copy())
        atexit.register(self.stop)

    def call(self, target: str, *args, **kwargs):
        """`target` ("module:function") called with these arguments in the early process: a 1-tuple
        holding what it returned, or None when the process could not run it (the caller then runs
        it itself). What the call raised is raised here."""
        try:
            pickle.dump((target, args, kwargs, _settings()), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.close()
            status, value = pickle.load(self.proc.stdout)
        except (OSError, EOFError, pickle.PickleError, AttributeError, ImportError):   # gone, or an answer that does not load
            self.stop()
            return None
        finally:
            self.proc.wait()
            atexit.unregister(self.stop)   # ended: a process that lives on keeps no hook per run
        if status == "error":
            raise value
        return (value,)

    def stop(self) -> None:
        """End the process if it is still running (an early process not needed after all)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        atexit.unregister(self.stop)


# slot → [what it is for (None: not known yet), the process]
_slots: dict[str, list] = {}


def start(slot: str, preload: str, env: str, kind: "type[Early] | None" = None) -> None:
    """Start the early process of `slot` (one of PDF, VALIDATE; `kind`: Early or a subclass), unless
    turned off or on one core; an earlier one of that slot that was never taken is stopped."""
    stop(slot)
    if allowed(env):
        try:
            _slots[slot] = [None, (kind or Early)(preload)]
        except OSError:
            pass


def waiting(slot: str) -> bool:
    """Whether an early process of `slot` is running and not yet bound to what it is for."""
    return slot in _slots and _slots[slot][0] is None and _slots[slot][1].proc.poll() is None


def bind(slot: str, key) -> None:
    """The early process of `slot` is for `key` (a build's path): only take(slot, key) gets it."""
    if slot in _slots:
        _slots[slot][0] = key


def take(slot: str, key=None) -> "Early | None":
    """The early process of `slot` bound to `key`, once (None: run the call in this process)."""
    found = _slots.get(slot)
    if found is None or found[0] != key:
        return None
    del _slots[slot]
    return found[1]


def stop(slot: str) -> None:
    """Stop the early process of `slot`, if any (not needed after all)."""
    found = _slots.pop(slot, None)
    if found is not None:
        found[1].stop()


def _settings() -> dict:
    """ngobrief.config's settings as this process has them (a test or a program embedding the library
    may have pointed them elsewhere); {} when it has not imported the library."""
    config = sys.modules.get("ngobrief.config")
    if config is None:
        return {}
    return {k: v for k, v in vars(config).items() if k.isupper()}


def _serve(preload: str) -> None:
    """The early process's side: import `preload`, wait for one call, run it, answer, end."""
    reply = os.fdopen(os.dup(1), "wb")   # the pipe to the caller; anything printed goes to stderr
    os.dup2(2, 1)
    for module in preload.split(","):   # first: the slow part, done while the caller works
        importlib.import_module(module)
    # a caller that never calls (its load failed, in a process that lives on) does not keep this one
    if not select.select([sys.stdin], [], [], IDLE_S)[0]:
        return
    try:
        target, args, kwargs, settings = pickle.load(sys.stdin.buffer)
    except EOFError:   # the caller needed no call after all
        return
    from ngobrief import config

    for k, v in settings.items():
        setattr(config, k, v)
    module, name = target.split(":")
    try:
        result = ("ok", getattr(importlib.import_module(module), name)(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001  (handed back to the caller, which raises it)
        result = ("error", exc)
    try:
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001  (an exception that does not pickle: its message does)
        payload = pickle.dumps(("error", RuntimeError(str(result[1]))), protocol=pickle.HIGHEST_PROTOCOL)
    reply.write(payload)
    reply.flush()
    # the answer is sent and every file the call wrote is closed: end now, without tearing down the
    # imported modules, which the caller would otherwise wait for
    os._exit(0)


if __name__ == "__main__":
    _serve(sys.argv[1])
