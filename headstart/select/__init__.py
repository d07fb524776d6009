"""Transferability scores: how well a backbone's features, or its source classifier, will serve
a labelled target task, computed in seconds before any fine-tuning.

``SCORES`` maps each score's name to a ``Score(function, needs)``: ``function(inputs, target_labels)``
takes pooled features (``needs == "features"``) or the source head's softmax probabilities
(``needs == "source_probs"``), and every score is higher-is-better. All of them expect class
labels; for regression targets call ``logme(..., regression=True)`` directly.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from headstart.errors import HeadstartError, did_you_mean
from headstart.select._inputs import probability_matrix
from headstart.select.hscore import hscore
from headstart.select.leep import leep
from headstart.select.logme import logme
from headstart.select.nce import nce

Needs = Literal["features", "source_probs"]


class Score(NamedTuple):
    """A score as ``function(inputs, target_labels) -> float`` and the kind of inputs it takes."""

    function: Callable[[ArrayLike, ArrayLike], float]
    needs: Needs


def _nce_of_probs(source_probs: ArrayLike, target_labels: ArrayLike) -> float:
    """NCE of the source head's argmax predictions."""
    return nce(np.argmax(probability_matrix(source_probs), axis=1), target_labels)


SCORES: dict[str, Score] = {
    "logme": Score(logme, "features"),
    "hscore": Score(hscore, "features"),
    "hscore_shrinkage": Score(partial(hscore, shrinkage=True), "features"),
    "nce": Score(_nce_of_probs, "source_probs"),
    "leep": Score(leep, "source_probs"),
}


def applicable(score_name: str, has_source_head: bool) -> bool:
    """Whether ``score_name`` can be computed for a backbone with (or without) a source classifier."""
    if score_name not in SCORES:
        raise HeadstartError(f"unknown transferability score {score_name!r}{did_you_mean(score_name, SCORES)}; "
                             f"choose from {', '.join(SCORES)}")
    return SCORES[score_name].needs == "features" or has_source_head


__all__ = ["SCORES", "Score", "applicable", "hscore", "leep", "logme", "nce"]
