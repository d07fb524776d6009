"""How far apart two domains are, as seen by a linear classifier."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from headstart.errors import DataError


def proxy_a_distance(source_feats: np.ndarray, target_feats: np.ndarray, seed: int = 0) -> float:
    r"""Proxy :math:`\mathcal A`-distance :math:`\hat d_{\mathcal A} = 2(1 - 2\epsilon)`.

    Ben-David et al., "Analysis of Representations for Domain Adaptation", NeurIPS 2006.
    :math:`\epsilon` is the held-out error of a linear classifier (standardised logistic
    regression) trained to tell source rows from target rows on a stratified half of them and
    scored on the other half. 0 means indistinguishable (values slightly below 0 are chance
    noise), 2 perfectly separable.
    """
    source, target = np.asarray(source_feats, dtype=float), np.asarray(target_feats, dtype=float)
    for name, feats in (("source", source), ("target", target)):
        if feats.ndim != 2 or len(feats) < 4:
            raise DataError(f"{name} features must be a 2-D array with at least 4 rows, got shape {feats.shape}")
    if source.shape[1] != target.shape[1]:
        raise DataError(f"source features have {source.shape[1]} columns but target features have {target.shape[1]}")
    x = np.concatenate([source, target])
    y = np.r_[np.ones(len(source)), np.zeros(len(target))]
    x_fit, x_eval, y_fit, y_eval = train_test_split(x, y, test_size=0.5, stratify=y, random_state=seed)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    error = 1.0 - classifier.fit(x_fit, y_fit).score(x_eval, y_eval)
    return 2.0 * (1.0 - 2.0 * error)
