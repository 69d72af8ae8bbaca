"""The HTTP interface: FastAPI routers over the runtime's services; no logic of its own."""

from crmassist.api.app import create_app

__all__ = ["create_app"]
