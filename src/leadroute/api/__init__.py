"""The HTTP API of leadroute (FastAPI)."""

from leadroute.api.app import create_app

__all__ = ["create_app"]
