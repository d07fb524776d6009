"""User-facing errors: one line that names the file, row or column and what is wrong.

The CLI prints a ``HeadstartError`` as ``error: <message>`` and exits with status 2; anything else
is a bug and keeps its traceback.
"""


class HeadstartError(Exception):
    """An error in the user's input or environment, with a message fit to show as is."""


class DataError(HeadstartError):
    """Unreadable, empty or inconsistent data."""


class BackboneError(HeadstartError):
    """An unknown backbone, missing weights, or weights that differ from the expected ones."""
