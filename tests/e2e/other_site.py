"""A company's own site for the browser tests: another origin (a port of its own) than the
assistant's, serving fixed files. (Served from a local port: Chromium blocks a page the test
fulfilled itself from opening a loopback socket.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = "text/html; charset=utf-8"


@contextmanager
def other_site(files: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """Serves `files` (path -> content type, body; anything else is a 404) and yields the
    site's address, `http://127.0.0.1:<port>`."""

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            kind, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()
