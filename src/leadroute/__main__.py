"""`python -m leadroute` runs the CLI."""

from leadroute.cli import app

app()
