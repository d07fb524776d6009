"""headstart: offline-first transfer learning."""

__version__ = "0.1.0"
