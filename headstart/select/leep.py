"""LEEP: log expected empirical prediction of a source classifier re-used through label mapping.

Nguyen, Hassner, Seeger, Archambeau, "LEEP: A New Measure to Evaluate Transferability of Learned
Representations", ICML 2020.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from headstart.select._inputs import class_codes, one_hot, probability_matrix


def leep(source_probs: ArrayLike, target_labels: ArrayLike) -> float:
    r"""``LEEP = 1/n sum_i log sum_z P(y_i | z) theta(x_i)_z``; ``<= 0``, higher is better.

    ``theta(x_i)`` is the source head's softmax over source classes ``z``. The empirical joint
    ``P(y, z) = 1/n sum_{i: y_i = y} theta(x_i)_z`` gives ``P(y | z) = P(y, z) / sum_y' P(y', z)``,
    so each example is scored by the probability its label gets from the source prediction passed
    through that label map. Permuting source or target class ids leaves it unchanged.
    """
    theta = probability_matrix(source_probs)
    targets, n_classes = class_codes(target_labels, len(theta), name="target_labels")
    joint = one_hot(targets, n_classes).T @ theta / len(theta)
    source_marginal = joint.sum(axis=0)
    conditional = np.divide(joint, source_marginal, out=np.zeros_like(joint), where=source_marginal > 0)
    expected_label_prob = np.sum(theta * conditional[targets], axis=1)
    return float(np.mean(np.log(expected_label_prob)))
