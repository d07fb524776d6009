"""Feature extraction: a frozen backbone and a linear head fit full-batch on cached features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, RidgeCV
from threadpoolctl import threadpool_limits
from torch import nn

from headstart.methods.base import Method, register_method
from headstart.recipe import MethodSettings

C_GRID = np.logspace(-4, 2, 7)  # inverse L2 strengths tried by cross-validation
RIDGE_GRID = np.logspace(-3, 4, 8)


@dataclass
class ProbeSettings(MethodSettings):
    """The probe has no settings of its own: its L2 strength is chosen by cross-validation."""


@register_method("probe", settings=ProbeSettings)
class Probe(Method):
    """Feature extraction: frozen backbone, linear head fit full-batch (L2 chosen by cross-validation)."""

    trains = False

    def first_trainable(self, num_groups: int) -> int:
        return num_groups


def fit_linear_head(features: np.ndarray, targets: np.ndarray, task: str, out_dim: int, seed: int = 0) -> nn.Linear:
    """The convex fit of a linear head, returned as an ``nn.Linear`` producing logits.

    Features are centred and scaled by one number, ``x' = (x - mu) / s`` with ``s`` the root mean
    square of ``x - mu`` (one scale keeps the features' geometry: per-dimension scaling would blow up
    low-variance directions, and with them the head's sensitivity once the backbone is fine-tuned).
    ``W x' + b`` is fit by L2-regularised logistic (or ridge) regression, its strength chosen by
    stratified k-fold cross-validation on the training set, and the scaling is folded back:
    ``W' = W / s``, ``b' = b - W' mu``.
    """
    with threadpool_limits(1):  # BLAS threads only slow these small, many-iteration solves down
        weight, bias = _fit(features, targets, task, out_dim, seed)
    head = nn.Linear(features.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return head


def _fit(features: np.ndarray, targets: np.ndarray, task: str, out_dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    mean = features.mean(0)
    scale = float(np.sqrt(((features - mean) ** 2).mean())) or 1.0
    x = (features - mean) / scale
    if task == "regression":
        y = targets.reshape(len(targets), -1)
        ridge = RidgeCV(alphas=RIDGE_GRID).fit(x, y)
        weight, bias = np.atleast_2d(ridge.coef_), np.atleast_1d(ridge.intercept_)
    elif task == "multilabel":
        rows = [_logistic(x, targets[:, j], seed) for j in range(targets.shape[1])]
        weight = np.stack([w[-1] for w, _ in rows])
        bias = np.array([b[-1] for _, b in rows])
    else:
        weight, bias = _logistic(x, targets, seed, classes=out_dim)
    weight = weight / scale
    return weight, bias - weight @ mean


def _row_space(x: np.ndarray) -> np.ndarray:
    """An orthonormal basis ``(d, r)`` of the rows' span when there are fewer rows than features.

    By the representer theorem the L2-regularised solution lies in that span, so fitting on the
    ``r <= n`` coordinates ``x @ basis`` and mapping back gives the same weights, much faster.
    """
    n, d = x.shape
    if n >= d:
        return np.eye(d)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    return vt[s > s[0] * 1e-10].T


def _logistic(x: np.ndarray, y: np.ndarray, seed: int, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression; returns per-class logit weights ``(classes, d)`` and biases.

    Classes absent from ``y`` get a very negative bias; a binary fit's single logit ``z`` becomes the
    equivalent pair ``(0, z)``.
    """
    present = np.unique(y).astype(int)
    weight, bias = np.zeros((classes, x.shape[1])), np.full(classes, -30.0)
    if len(present) == 1:
        bias[present[0]] = 0.0
        return weight, bias
    basis = _row_space(x)
    z = x @ basis
    folds = min(5, int(np.bincount(y.astype(int))[present].min()))
    if folds >= 2:
        model = LogisticRegressionCV(
            Cs=C_GRID, l1_ratios=(0.0,), cv=folds, scoring="accuracy", max_iter=500, random_state=seed,
            use_legacy_attributes=False,
        )  # pure L2, spelled out: scikit-learn 1.10 and 1.11 change both defaults
    else:
        model = LogisticRegression(C=1.0, max_iter=500)
    model.fit(z, y)
    coef, intercept = model.coef_ @ basis.T, model.intercept_
    if len(present) == 2:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    weight[present], bias[present] = coef, intercept
    return weight, bias
