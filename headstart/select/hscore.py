"""H-score: how much of the features' variance the class means explain.

Bao, Li, Huang, Zheng, Wang, Tong, "An Information-Theoretic Approach to Transferability in Task
Transfer Learning", ICIP 2019. Shrinkage variant: Ibrahim, Ponomareva, Mazumder, "Newer is not
always better: Rethinking transferability metrics, their peculiarities, stability and
performance", ECML PKDD 2022.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import pinvh
from sklearn.covariance import LedoitWolf

from headstart.select._inputs import class_codes, feature_matrix, one_hot


def hscore(features: ArrayLike, labels: ArrayLike, *, shrinkage: bool = False) -> float:
    r"""``H = tr(cov(f)^+ cov(E[f | y]))``; higher is better, at most ``C - 1`` for ``C`` classes.

    Both covariances are the biased (``1/n``) estimates: with ``p_c`` the share of class ``c`` and
    ``mu_c`` its mean of centred features, ``cov(E[f | y]) = sum_c p_c mu_c mu_c^T``. The
    pseudo-inverse makes duplicated or constant feature columns harmless, and the score is
    invariant to any invertible linear map of the features.

    With ``shrinkage=True``, ``cov(f)`` becomes the Ledoit-Wolf estimate
    ``(1 - a) cov(f) + a (tr cov(f) / d) I`` and the score ``tr(cov_a(f)^{-1} (1 - a) cov(E[f | y]))``,
    which stays informative when there are fewer examples than feature dimensions.
    """
    f = feature_matrix(features)
    codes, n_classes = class_codes(labels, len(f))
    centred = f - f.mean(axis=0)
    indicators = one_hot(codes, n_classes)
    class_sizes = indicators.sum(axis=0)
    class_means = (indicators.T @ centred) / class_sizes[:, None]
    between = class_means.T @ (class_means * (class_sizes / len(f))[:, None])
    if shrinkage:
        estimator = LedoitWolf(store_precision=False).fit(f)
        covariance, between = estimator.covariance_, (1.0 - estimator.shrinkage_) * between
    else:
        covariance = centred.T @ centred / len(f)
    return float(np.sum(pinvh(covariance) * between))
