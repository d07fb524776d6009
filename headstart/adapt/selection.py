r"""Unsupervised model selection: compare adapted models without a single target label.

The criterion is **held-out source accuracy plus the target's normalised information
maximisation** (IM), each in :math:`[0, 1]`:

.. math:: S = \operatorname{acc}_{\text{source val}}
          + \frac{H(\bar p) - \frac1n \sum_i H(p_i)}{\log C},
          \qquad \bar p = \frac1n \sum_i p_i

over the predicted class distributions :math:`p_i` of :math:`n` target examples. The IM term is
high when target predictions are confident (low conditional entropy: target examples lie far
from the decision boundary, the cluster assumption) *and* diverse (high marginal entropy: the
target is not collapsed onto a few classes); the source term guards against an alignment so
strong it erases the classes (a known failure of large adversarial weights). It needs only
forward passes, so it is computed every epoch: it picks the epoch to keep (early stopping), the
alignment weight among a small grid, and the number of self-training rounds.

Why not importance-weighted validation (IWV, DEV)? Its density ratio :math:`p_t(x)/p_s(x)` is
estimated by a domain classifier, and under the shifts adaptation is for (MNIST against digits has
a proxy A-distance near 2: the supports barely overlap) the weights degenerate to a handful of
source examples and the estimate to noise. Reverse validation needs a second training per
candidate. Neither is reliable, and this criterion can be fooled too: target clusters that are
confidently matched to the wrong source classes score well. ``bench/adapt.py`` records the
criterion next to the target accuracy of every candidate, so its choices can be checked.
"""

from __future__ import annotations

import math

import numpy as np


def information_maximisation(probabilities: np.ndarray) -> float:
    r""":math:`(H(\bar p) - \overline{H(p_i)}) / \log C`: 1 for confident predictions spread evenly over
    the classes, 0 for uniform predictions or for every example predicted as one class."""
    p = np.clip(probabilities.astype(np.float64), 1e-12, 1.0)
    marginal = p.mean(0)
    conditional = -(p * np.log(p)).sum(1).mean()
    return float((-(marginal * np.log(marginal)).sum() - conditional) / math.log(p.shape[1]))


def selection_score(source_probabilities: np.ndarray, source_labels: np.ndarray, target_probabilities: np.ndarray) -> dict[str, float]:
    """The criterion and its two terms: ``selection_score``, ``source_val_accuracy``, ``target_im``."""
    accuracy = float((source_probabilities.argmax(1) == source_labels).mean())
    im = information_maximisation(target_probabilities)
    return {"selection_score": accuracy + im, "source_val_accuracy": accuracy, "target_im": im}
