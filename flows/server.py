"""Which Prefect server a run of `ngobrief run` talks to: one already running (PREFECT_API_URL, or
the one `make server` starts), else a temporary one started for the run, timed, and stopped after it.

Prefect's own temporary server (its "ephemeral mode") imports Prefect's whole server package into
the client just to launch it, after the client has imported Prefect. Here the same server command
is launched before the client imports Prefect at all, so that the two start side by side on two
cores, and without registering block types at start (a flow run needs none)."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from ngobrief.errors import NgobriefError

# Where `make server` listens (Makefile PREFECT_PORT): a server there is used when PREFECT_API_URL is unset.
MAKE_SERVER_URL = "http://127.0.0.1:4200/api"
# How long a server that is up takes to answer /health on this machine, with room for a busy one.
PROBE_TIMEOUT_S = 1.0
STARTUP_TIMEOUT_S = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 60))


def answers(api_url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when a Prefect API answers its health check at `api_url`."""
    try:
        res = httpx.get(api_url.rstrip("/") + "/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return res.status_code == 200 and res.text.strip() == "true"


@dataclass
class Server:
    api_url: str
    note: str                                   # one line for the user: which server, and why
    process: subprocess.Popen | None = None     # the temporary server, when this run started one
    launched_at: float = 0.0                    # perf_counter() when its process was launched
    startup_s: float | None = None

    def stop(self) -> None:
        """Stop the temporary server and its process group (nothing to do for a running server)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_temporary(env: dict[str, str] | None = None) -> Server:
    """Start Prefect's server (the command its ephemeral mode runs, UI and services off) on a free
    loopback port and wait until it answers."""
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server_env = {**(env or os.environ), "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                  "PREFECT__SERVER_FINAL": "1", "PREFECT_API_BLOCKS_REGISTER_ON_START": "false"}
    server_env.pop("PREFECT_API_URL", None)
    launched_at = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=server_env, stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(api_url, "", proc, launched_at)
    # Stopped last at exit: Prefect flushes logs and events to it from its own exit handlers, which
    # are registered later and so run first.
    atexit.register(server.stop)
    return server


def wait_until_up(server: Server) -> Server:
    """Wait for the temporary server to answer; its start-up time goes into the note."""
    proc = server.process
    assert proc is not None
    started = server.launched_at
    while not answers(server.api_url, timeout=0.5):
        if proc.poll() is not None:
            raise NgobriefError(f"the temporary Prefect server exited with code {proc.returncode} before it "
                                "answered; run `make server` in another terminal and try again")
        if time.perf_counter() - started > STARTUP_TIMEOUT_S:
            server.stop()
            raise NgobriefError(f"the temporary Prefect server did not answer within {STARTUP_TIMEOUT_S:g} s "
                                "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); run `make server` and try again")
        time.sleep(0.05)
    server.startup_s = time.perf_counter() - started
    server.note = (f"prefect: no server running; started a temporary one in {server.startup_s:.1f} s "
                   "(`make server` keeps one running for every run)")
    return server


def choose() -> Server:
    """The server this run uses: PREFECT_API_URL when set (it must answer), else a server at
    `make server`'s address, else a temporary one — started now, waited for by `wait_until_up`.
    NGOBRIEF_PREFECT_PROBE=0 skips looking at `make server`'s address."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        if not answers(url):
            raise NgobriefError(f"PREFECT_API_URL is {url}, but no Prefect server answers there: start it "
                                "(`make server`) or unset PREFECT_API_URL to run with a temporary server")
        return Server(url, f"prefect: using the running server at {url} (PREFECT_API_URL)")
    if os.environ.get("NGOBRIEF_PREFECT_PROBE", "1") != "0" and answers(MAKE_SERVER_URL):
        os.environ["PREFECT_API_URL"] = MAKE_SERVER_URL
        return Server(MAKE_SERVER_URL, f"prefect: using the running server at {MAKE_SERVER_URL}")
    server = start_temporary()
    os.environ["PREFECT_API_URL"] = server.api_url
    return server
