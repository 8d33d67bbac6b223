"""A web server on 127.0.0.1 for tests of URL pulls (tests/test_pull.py, tests/reliability/test_faults.py).

It serves `httpd.state["body"]` as GB18030 CSV with an ETag and a Last-Modified date, answers 304 to
a matching If-None-Match, fails with 503 `state["fail"]` times first, or answers `state["status"]`
when one is set. Every request's headers are recorded in `state["requests"]`."""

from __future__ import annotations

import email.utils
import hashlib
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A wide table as a publisher's site might serve it: GB18030, 万 units, one year.
WIDE_GB = ("年份,社会组织（万个）,社会团体,社会服务机构,基金会\n"
           "2022,89.13,37.01万,51.19万,9319\n").encode("gb18030")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        state = self.server.state
        state["requests"].append({k.lower(): v for k, v in self.headers.items()})
        if state["fail"]:
            state["fail"] -= 1
            self.send_response(503)
            self.end_headers()
            return
        if state.get("status"):
            self.send_response(state["status"])
            self.end_headers()
            return
        body = state["body"]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=gb18030")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(0, usegmt=True))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serving(body: bytes = WIDE_GB):
    """A server running until the block ends; then nothing listens on its port any more."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.state = {"requests": [], "fail": 0, "body": body}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def url(httpd, path: str = "/table.csv") -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}{path}"
