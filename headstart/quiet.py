"""Library noise the user cannot act on, silenced in one place (installed by ``import headstart``).

Each filter matches one message exactly; everything else the libraries say still reaches the user.
"""

from __future__ import annotations

import logging
import warnings

IGNORED_WARNINGS = (
    # Lightning's own use of a deprecated torch pytree API (lightning/pytorch/utilities/_pytree.py)
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # runs without validation data (a probe warm start, no split for tiny data) validate nothing on purpose
    r"You defined a `validation_step` but have no `val_dataloader`",
    r"Total length of `\w+` across ranks is zero",
    # frozen groups are in eval mode on purpose: their BatchNorm statistics stay pre-trained
    r"Found \d+ module\(s\) in eval mode",
    # the data are in memory; worker processes would only add start-up time on a CPU
    r".*does not have many workers",
    # Pillow's decompression-bomb warning: headstart.data.images notes a huge image in one line itself
    r"Image size \(\d+ pixels\) exceeds limit",
)


def silence_library_noise() -> None:
    """Ignore ``IGNORED_WARNINGS`` and Lightning's accelerator banner and tips (nothing to act on
    in a CPU-only tool)."""
    for message in IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
