"""Serve a fitted or exported model over HTTP with dynamic micro-batching."""

from headstart.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]
