import numpy as np
import pytest

from headstart.errors import HeadstartError
from headstart.select import SCORES, applicable, hscore, leep, logme, nce


def test_every_score_runs_on_its_declared_input(rng):
    labels = rng.integers(0, 3, size=60)
    inputs = {"features": rng.normal(size=(60, 5)), "source_probs": rng.dirichlet(np.ones(4), size=60)}
    for name, score in SCORES.items():
        assert np.isfinite(score.function(inputs[score.needs], labels)), name


def test_nce_entry_scores_the_argmax_of_the_probabilities(rng):
    probs = rng.dirichlet(np.ones(4), size=60)
    labels = rng.integers(0, 3, size=60)
    assert SCORES["nce"].function(probs, labels) == nce(probs.argmax(axis=1), labels)


def test_applicable_depends_on_the_source_head():
    assert applicable("logme", has_source_head=False)
    assert applicable("hscore_shrinkage", has_source_head=False)
    assert not applicable("leep", has_source_head=False)
    assert applicable("nce", has_source_head=True)
    with pytest.raises(HeadstartError, match="unknown transferability score 'logmee'"):
        applicable("logmee", has_source_head=True)


@pytest.mark.parametrize("feature_score", [logme, hscore])
def test_feature_scores_reject_bad_input(rng, feature_score):
    features = rng.normal(size=(10, 3))
    with pytest.raises(HeadstartError, match="labels has 9 entries but there are 10 examples"):
        feature_score(features, np.arange(9) % 2)
    with pytest.raises(HeadstartError, match="hold 1 distinct class"):
        feature_score(features, np.zeros(10))
    features[4, 1] = np.nan
    with pytest.raises(HeadstartError, match="row 4 holds NaN or inf"):
        feature_score(features, np.arange(10) % 2)


def test_logme_rejects_non_finite_regression_targets(rng):
    targets = rng.normal(size=10)
    targets[7] = np.inf
    with pytest.raises(HeadstartError, match="targets row 7"):
        logme(rng.normal(size=(10, 3)), targets, regression=True)


def test_source_scores_reject_bad_input(rng):
    probs = rng.dirichlet(np.ones(3), size=10)
    with pytest.raises(HeadstartError, match="target_labels has 8 entries but there are 10 examples"):
        leep(probs, np.arange(8) % 2)
    with pytest.raises(HeadstartError, match="hold 1 distinct class"):
        nce(probs.argmax(axis=1), np.ones(10))
    with pytest.raises(HeadstartError, match="row 0 sums to 2, not 1"):
        leep(2 * probs, np.arange(10) % 2)
    with pytest.raises(HeadstartError, match="row 0 holds a negative"):
        leep(np.log(probs), np.arange(10) % 2)
