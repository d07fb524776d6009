import numpy as np
import pytest

from headstart.errors import HeadstartError
from headstart.select import nce


def test_example_by_hand():
    # Z = 0, 0, 1, 1 and Y = 0, 1, 1, 1: given Z = 0, Y is a fair coin (entropy ln 2);
    # given Z = 1, Y is certain. H(Y|Z) = 1/2 ln 2 + 1/2 * 0, so NCE = -ln(2) / 2
    assert nce([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(-np.log(2) / 2)


def test_at_most_zero_and_zero_when_target_is_a_function_of_source(rng):
    source = rng.integers(0, 9, size=500)
    assert nce(source, rng.integers(0, 4, size=500)) < 0
    assert nce(source, source % 3) == pytest.approx(0.0, abs=1e-12)


def test_invariant_to_permuting_class_ids(rng):
    source = rng.integers(0, 6, size=400)
    target = (source + rng.integers(0, 2, size=400)) % 4
    renamed_source = rng.permutation(6)[source]
    renamed_target = np.array(["w", "x", "y", "z"])[rng.permutation(4)][target]
    assert nce(renamed_source, renamed_target) == pytest.approx(nce(source, target), rel=1e-12)


def test_independent_labels_score_minus_target_entropy(rng):
    # with Z constant H(Y|Z) = H(Y); Y uniform over 2 classes gives -ln 2
    assert nce(np.zeros(4, dtype=int), [0, 1, 0, 1]) == pytest.approx(-np.log(2))


def test_rejects_probabilities_instead_of_class_ids():
    with pytest.raises(HeadstartError, match="integer class ids"):
        nce(np.array([0.2, 0.8, 0.5]), [0, 1, 1])
