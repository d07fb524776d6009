"""NCE: negative conditional entropy of the target labels given the source model's predictions.

Tran, Nguyen, Hassner, "Transferability and Hardness of Supervised Classification Tasks", ICCV 2019.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy
from sklearn.metrics.cluster import contingency_matrix

from headstart.errors import HeadstartError
from headstart.select._inputs import class_codes


def nce(source_labels_pred: ArrayLike, target_labels: ArrayLike) -> float:
    r"""``-H(Y | Z) = sum_{y,z} P(y, z) log P(y | z) = sum P(y, z) log P(y, z) - sum_z P(z) log P(z)``.

    ``P`` is the empirical joint of the target label ``Y`` and the source classifier's predicted
    class ``Z`` (its argmax). ``NCE <= 0``, with ``0`` exactly when ``Y`` is a function of ``Z``;
    it ignores which ids the classes carry. Higher is better.
    """
    predicted = np.asarray(source_labels_pred)
    if predicted.ndim != 1 or not np.issubdtype(predicted.dtype, np.integer):
        raise HeadstartError(
            f"source_labels_pred must be 1-D integer class ids (the source head's argmax), "
            f"got {predicted.dtype} of shape {predicted.shape}"
        )
    targets, _ = class_codes(target_labels, len(predicted), name="target_labels")
    joint = contingency_matrix(targets, predicted) / len(predicted)
    source_marginal = joint.sum(axis=0)
    return float(np.sum(xlogy(joint, joint)) - np.sum(xlogy(source_marginal, source_marginal)))
