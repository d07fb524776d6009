"""What every text backbone shares: string inputs, token lengths and token states of varying length.

A text family implements ``preprocess(texts)`` returning a mapping with an ``attention_mask``
(right-padded) and states as ``TokenState``; this base derives from them the lengths used to sort
batches (padding ``n`` texts of lengths ``l_i`` to the global maximum costs ``n·max(l)`` token
slots, sorted batches about ``Σ l_i``) and the per-example split and per-batch merge of states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from headstart.errors import BackboneError, DataError
from headstart.zoo.base import Backbone

LENGTH_PASS_CHUNK = 1024  # texts tokenised together when measuring lengths
SNIFF_BYTES = 8192  # how much of a file decides whether it is text


def is_binary_file(item: str | Path) -> bool:
    """Whether ``item`` names an existing file whose first bytes are not UTF-8 text (a NUL byte, or
    bytes that do not decode). Long or multi-line strings are texts, never looked up as paths."""
    if isinstance(item, str) and (len(item) > 1024 or "\n" in item):
        return False
    try:
        if not os.path.isfile(item):
            return False
        with open(item, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except (OSError, ValueError):
        return False
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a character cut at the sniff boundary is still text
    return False


def read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as UTF-8 text ({exc})") from None


@dataclass
class TokenState:
    """State of a text encoder between layers: hidden vectors and the padding mask."""

    hidden: Tensor  # (batch, length, dim)
    mask: Tensor  # (batch, length), 1 for real tokens


class TextBackbone(Backbone):
    """A backbone over strings whose states are ``TokenState``; baseline: TF-IDF."""

    modality = "text"
    baseline = "tfidf"
    length_option = "max_length"
    ragged_states = True
    quantisation = "dynamic"

    @classmethod
    def as_inputs(cls, items: Iterable[Any]) -> list[Any]:
        """Strings (numpy string scalars become ``str``), and ``Path``s of text files as their text;
        a path to a binary file (an image, say) is refused, not classified by its name. Anything
        else is left for ``preprocess`` to refuse."""
        texts = []
        for index, item in enumerate(items):
            if isinstance(item, (str, Path)) and is_binary_file(item):
                raise DataError(f"text {index}: {item} is a binary file (an image?), and this model reads text")
            texts.append(read_text_file(item) if isinstance(item, Path) else str(item) if isinstance(item, str) else item)
        return texts

    def tokenize(self, raw: Sequence[str]) -> Mapping[str, Tensor]:
        """``self.tokenizer`` on strings only, truncated at ``self.max_length`` and padded to the
        batch's longest text (a family sets both)."""
        for index, text in enumerate(raw):
            if not isinstance(text, str):
                raise DataError(f"text {index}: expected a string, not {type(text).__name__}")
        encoded = self.tokenizer(
            list(raw), padding="longest", truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return encoded

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        return isinstance(value, str)

    def input_lengths(self, items: Sequence[str]) -> np.ndarray:
        """Number of tokens the backbone will see for each text (after its own truncation)."""
        lengths = []
        for start in range(0, len(items), LENGTH_PASS_CHUNK):
            batch = self.preprocess(list(items[start : start + LENGTH_PASS_CHUNK]))
            if not (isinstance(batch, Mapping) and "attention_mask" in batch):
                raise BackboneError(f"text backbone {self.name!r}: preprocess must return a mapping with an attention_mask")
            lengths.append(np.asarray(batch["attention_mask"]).sum(axis=1))
        return np.concatenate(lengths).astype(np.int64) if lengths else np.zeros(0, np.int64)

    def split_state(self, state: TokenState) -> list[Tensor]:
        """One ``(length, dim)`` tensor per text, cut to its real tokens."""
        lengths = state.mask.sum(1).tolist()
        return [h[: int(n)] for h, n in zip(state.hidden, lengths)]

    def merge_states(self, rows: Sequence[Tensor]) -> TokenState:
        """Right-pad cached ``(length, dim)`` rows to the batch's longest and rebuild the mask."""
        length = max(r.shape[0] for r in rows)
        hidden = rows[0].new_zeros((len(rows), length, rows[0].shape[-1]))
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, r in enumerate(rows):
            hidden[i, : r.shape[0]] = r
            mask[i, : r.shape[0]] = 1
        return TokenState(hidden, mask)
