"""A local HTTP server for stand-ins of remote services (LLM endpoints, Slack's Web API):
the real clients talk real HTTP to it, the test decides every answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handle = Callable[[str, dict[str, str], bytes], tuple[str, bytes]]
"""(path, headers, body) -> (content type, response body); every answer is a 200."""


@contextmanager
def serve(handle: Handle) -> Iterator[str]:
    """Serve POSTs on a free loopback port; yields the base URL, e.g. http://127.0.0.1:41234."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content_type, payload = handle(self.path, dict(self.headers), body)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read what the stand-in recorded instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
