"""The `leadroute` command line."""

from leadroute.cli.main import app

__all__ = ["app"]
