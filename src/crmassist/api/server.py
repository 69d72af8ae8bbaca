"""uvicorn, plus the discovery file: published once the service listens, withdrawn when it
stops, so CLI commands on the same data directory use the service instead of its index."""

from __future__ import annotations

import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from crmassist import discovery


class DiscoverableServer(uvicorn.Server):
    """A uvicorn server that says where it listens in `<data_dir>/service.json`."""

    def __init__(self, config: uvicorn.Config, data_dir: Path, token: str) -> None:
        super().__init__(config)
        self.data_dir, self.token = data_dir, token

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            discovery.publish(self.data_dir, self.url(), self.token)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        discovery.withdraw(self.data_dir, self.token)  # first: no client is sent to a closing door
        await super().shutdown(sockets)

    def url(self) -> str:
        """Where a local client reaches it: a wildcard host is reached on loopback."""
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: FastAPI, host: str, port: int, data_dir: Path) -> None:
    """Run `app` until interrupted; the local credential only lives in memory and the file."""
    token = discovery.new_token()
    app.state.local_token = token
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    DiscoverableServer(config, data_dir, token).run()
