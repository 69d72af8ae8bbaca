"""A local HTTP server for stand-ins of remote services (LLM endpoints, Slack's Web API):
the real clients talk real HTTP to it, the test decides every answer."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """An answer other than a plain 200: a status and headers of its own."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Handle = Callable[[str, dict[str, str], bytes], "tuple[str, bytes] | Reply"]
"""(path, headers, body) -> (content type, response body) for a 200, or a `Reply`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a time-out under test) is not an error of the stand-in;
        anything else still prints."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(handle: Handle) -> Iterator[str]:
    """Serve POSTs on a free loopback port; yields the base URL, e.g. http://127.0.0.1:41234."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = handle(self.path, dict(self.headers), body)
            reply = answer if isinstance(answer, Reply) else Reply(200, *answer)
            self.send_response(reply.status)
            for name, value in {"Content-Type": reply.content_type, **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read what the stand-in recorded instead."""

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
