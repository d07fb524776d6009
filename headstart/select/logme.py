"""LogME: the evidence of a Bayesian linear model fitted on frozen features.

You, Liu, Wang, Long, "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
ICML 2021.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from headstart.select._inputs import (
    class_codes,
    feature_matrix,
    one_hot,
    regression_targets,
)

MAX_ITERATIONS = 100
RELATIVE_TOLERANCE = 1e-8
TINY = np.finfo(np.float64).tiny
# When the features fit a target exactly, beta grows without bound and the evidence tends to a
# finite limit (n <= d) or to infinity (n > d, e.g. a feature column that equals the label).
# Capping beta * max_i s_i / alpha keeps the score finite, scale-free and independent of rounding.
MAX_SIGNAL_TO_NOISE = 1e12


def logme(features: ArrayLike, labels: ArrayLike, *, regression: bool = False) -> float:
    r"""Mean over target columns of the maximised log evidence, divided by the number of examples.

    Each target column ``y`` (one-hot class indicator, or a regression target) gets the model
    ``y = F w + e`` with ``w ~ N(0, I/alpha)``, ``e ~ N(0, I/beta)``, i.e. ``y ~ N(0, F F^T/alpha + I/beta)``.
    With ``A = alpha I + beta F^T F`` and the posterior mean ``m = beta A^{-1} F^T y``::

        log p(y | alpha, beta) = n/2 log beta + d/2 log alpha - n/2 log 2 pi
                                 - beta/2 |F m - y|^2 - alpha/2 |m|^2 - 1/2 log det A

    ``alpha, beta`` come from MacKay's fixed point ``gamma = sum_i beta s_i / (alpha + beta s_i)``,
    ``alpha = gamma / |m|^2``, ``beta = (n - gamma) / |F m - y|^2``, where ``s_i = sigma_i^2`` are the
    squared singular values of ``F``. One thin SVD ``F = U S V^T`` serves every column and iteration: with
    ``z = U^T y`` and ``r_i = 1 / (alpha + beta s_i)``,
    ``|m|^2 = sum_i (beta sigma_i z_i r_i)^2`` and
    ``|F m - y|^2 = sum_i (alpha z_i r_i)^2 + |y|^2 - |z|^2``;
    the ``d - rank`` singular values the thin SVD omits are zeros (they add ``log alpha`` each to
    ``log det A``), so ``n < d`` and ``n >= d`` take the same path. An exact fit, whose evidence
    grows without bound as ``beta -> inf``, is scored at ``beta = 1e12 alpha / max_i s_i``.
    The score is invariant to rescaling or rotating the features. Higher is better.
    """
    f = feature_matrix(features)
    n, d = f.shape
    if regression:
        targets = regression_targets(labels, n)
    else:
        targets = one_hot(*class_codes(labels, n))
    u, singular_values, _ = np.linalg.svd(f, full_matrices=False)
    projected = u.T @ targets
    outside_norm_sq = np.maximum(np.sum(targets**2, axis=0) - np.sum(projected**2, axis=0), 0.0)
    evidence = _max_log_evidence(singular_values**2, projected, outside_norm_sq, n, d)
    return float(np.mean(evidence) / n)


def _max_log_evidence(
    sq_singular: np.ndarray, projected: np.ndarray, outside_norm_sq: np.ndarray, n: int, d: int
) -> np.ndarray:
    """Log evidence at the fixed point of ``alpha, beta``, one value per target column (vectorised)."""
    alpha = np.ones(projected.shape[1])
    beta = np.ones(projected.shape[1])
    largest = max(sq_singular.max(), TINY)
    for _ in range(MAX_ITERATIONS):
        gamma, rank_minus_gamma, weight_norm_sq, residual_sq = _posterior_terms(
            alpha, beta, sq_singular, projected, outside_norm_sq
        )
        new_alpha = np.maximum(gamma / np.maximum(weight_norm_sq, TINY), TINY)
        n_minus_gamma = n - len(sq_singular) + rank_minus_gamma
        new_beta = n_minus_gamma / np.maximum(residual_sq, TINY)
        new_beta = np.minimum(new_beta, MAX_SIGNAL_TO_NOISE * new_alpha / largest)
        converged = np.allclose(new_alpha, alpha, rtol=RELATIVE_TOLERANCE, atol=0) and np.allclose(
            new_beta, beta, rtol=RELATIVE_TOLERANCE, atol=0
        )
        alpha, beta = new_alpha, new_beta
        if converged:
            break
    _, _, weight_norm_sq, residual_sq = _posterior_terms(alpha, beta, sq_singular, projected, outside_norm_sq)
    log_det_a = np.sum(np.log(alpha + beta * sq_singular[:, None]), axis=0) + (d - len(sq_singular)) * np.log(alpha)
    return 0.5 * (
        n * np.log(beta)
        + d * np.log(alpha)
        - n * np.log(2 * np.pi)
        - beta * residual_sq
        - alpha * weight_norm_sq
        - log_det_a
    )


def _posterior_terms(
    alpha: np.ndarray, beta: np.ndarray, sq_singular: np.ndarray, projected: np.ndarray, outside_norm_sq: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``gamma``, ``rank - gamma``, ``|m|^2`` and ``|F m - y|^2`` per target column.

    ``gamma`` and ``rank - gamma`` are both sums of positive terms, so ``n - gamma`` keeps its
    precision when ``beta s_i >> alpha``.
    """
    inverse_a = 1.0 / (alpha + beta * sq_singular[:, None])
    gamma = np.sum(beta * sq_singular[:, None] * inverse_a, axis=0)
    rank_minus_gamma = np.sum(alpha * inverse_a, axis=0)
    weight_norm_sq = np.sum(sq_singular[:, None] * (beta * projected * inverse_a) ** 2, axis=0)
    residual_sq = np.sum((alpha * projected * inverse_a) ** 2, axis=0) + outside_norm_sq
    return gamma, rank_minus_gamma, weight_norm_sq, residual_sq
