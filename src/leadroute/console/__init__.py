"""The web console: server-rendered pages for admins, managers and reps (see docs/console.md)."""

from leadroute.console.app import console_app

__all__ = ["console_app"]
