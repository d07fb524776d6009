import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

from headstart.select import logme


def gaussian_evidence_maximum(features: np.ndarray, target: np.ndarray) -> float:
    """max over alpha, beta of log N(target; 0, F F^T / alpha + I / beta), computed directly."""
    n = len(target)

    def negative_log_evidence(log_precisions: np.ndarray) -> float:
        alpha, beta = np.exp(log_precisions)
        covariance = features @ features.T / alpha + np.eye(n) / beta
        return -multivariate_normal(np.zeros(n), covariance).logpdf(target)

    best = minimize(negative_log_evidence, x0=[0.0, 0.0], method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    return -best.fun


@pytest.mark.parametrize("n, d", [(8, 3), (5, 9)])
def test_equals_directly_maximised_gaussian_evidence(rng, n, d):
    features = rng.normal(size=(n, d))
    target = features @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    assert logme(features, target, regression=True) == pytest.approx(
        gaussian_evidence_maximum(features, target) / n, rel=1e-6
    )


def test_classification_averages_one_hot_columns(rng):
    features = rng.normal(size=(7, 2))
    labels = np.array([0, 1, 2, 0, 1, 2, 2])
    per_class = [gaussian_evidence_maximum(features, (labels == c).astype(float)) / 7 for c in range(3)]
    assert logme(features, labels) == pytest.approx(np.mean(per_class), rel=1e-6)


def test_labels_linear_in_features_beat_shuffled(linear_task, rng):
    features, labels = linear_task
    assert logme(features, labels) > logme(features, rng.permutation(labels)) + 0.1


def test_regression_targets_linear_in_features_beat_shuffled(linear_task, rng):
    features, _ = linear_task
    targets = features @ rng.normal(size=(10, 2)) + 0.1 * rng.normal(size=(300, 2))
    assert logme(features, targets, regression=True) > logme(features, rng.permutation(targets), regression=True) + 1


def test_regression_1d_target_is_one_column_and_columns_average(rng):
    features = rng.normal(size=(50, 4))
    targets = rng.normal(size=(50, 2))
    first, second = (logme(features, targets[:, j], regression=True) for j in range(2))
    assert logme(features, targets[:, :1], regression=True) == pytest.approx(first, rel=1e-12)
    assert logme(features, targets, regression=True) == pytest.approx((first + second) / 2, rel=1e-12)


def test_invariant_to_permuting_class_ids(linear_task):
    features, labels = linear_task
    renamed = np.array(["c", "a", "b"])[labels]
    assert logme(features, renamed) == pytest.approx(logme(features, labels), rel=1e-12)


@pytest.mark.parametrize("scale", [1e-6, 1e8])
def test_invariant_to_feature_scale_and_rotation(linear_task, rng, scale):
    # y ~ N(0, F F^T / alpha + I / beta): F -> c F Q with Q orthogonal is absorbed by alpha -> c^2 alpha
    features, labels = linear_task
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    assert logme(scale * features @ rotation, labels) == pytest.approx(logme(features, labels), rel=1e-6)


def test_duplicating_every_column_equals_scaling_by_sqrt_2(linear_task):
    # [F, F] [F, F]^T = 2 F F^T, the same marginal of y as sqrt(2) F, which LogME ignores
    features, labels = linear_task
    doubled = np.hstack([features, features])
    assert logme(doubled, labels) == pytest.approx(logme(features, labels), rel=1e-6)


def test_duplicated_columns_keep_score_finite_and_ranking(linear_task, rng):
    features, labels = linear_task
    redundant = np.hstack([features, features[:, :3], np.zeros((300, 2))])
    assert np.isfinite(logme(redundant, labels))
    assert logme(redundant, labels) > logme(redundant, rng.permutation(labels))


def test_fewer_examples_than_dimensions(rng):
    features = rng.normal(size=(30, 100))
    labels = (features[:, 0] > 0).astype(int)
    score = logme(features, labels)
    assert np.isfinite(score)
    assert score > logme(features, rng.permutation(labels))


def test_exact_fit_stays_finite_and_scale_free(rng):
    # a feature column per class equal to the label indicator: the evidence grows without bound as
    # beta -> infinity, so the score is capped, and the cap must not depend on scale or duplication
    labels = rng.integers(0, 3, size=300)
    features = np.hstack([rng.normal(size=(300, 5)), np.eye(3)[labels]])
    score = logme(features, labels)
    assert np.isfinite(score)
    assert logme(1e5 * features, labels) == pytest.approx(score, rel=1e-6)
    assert logme(np.hstack([features, features]), labels) == pytest.approx(score, rel=1e-6)
