"""The command line: the app (``headstart.cli.app``), shared console and options, one module per command."""

from headstart.cli.app import app, main

__all__ = ["app", "main"]
