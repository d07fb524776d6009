"""User-facing errors: one line that names the file, row or column and what is wrong.

The CLI prints a ``HeadstartError`` as ``error: <message>`` and exits with status 2; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class HeadstartError(Exception):
    """An error in the user's input or environment, with a message fit to show as is."""


class DataError(HeadstartError):
    """Unreadable, empty or inconsistent data."""


class BackboneError(HeadstartError):
    """An unknown backbone, missing weights, or weights that differ from the expected ones."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choice closest to a misspelt ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class NegativeTransferWarning(UserWarning):
    """Transfer did worse than the no-transfer control (a baseline, or training from scratch) on
    held-out data: ``auto`` kept the baseline, or an RL transfer lost to scratch within its budget."""
