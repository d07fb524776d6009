"""Partition helpers: every example goes to exactly one client, with the skew each scheme promises."""

import numpy as np
import pytest

pytest.importorskip("flwr")

from headstart.data.dataset import Dataset  # noqa: E402
from headstart.errors import HeadstartError  # noqa: E402
from headstart.federated.partition import partition  # noqa: E402


@pytest.fixture(scope="module")
def data() -> Dataset:
    labels = np.repeat(np.arange(5), 100)  # 5 classes x 100 examples
    return Dataset([f"text {i}" for i in range(500)], labels, [f"c{k}" for k in range(5)], "text")


def covers_once(data: Dataset, parts: list[Dataset]) -> bool:
    seen = sorted(x for p in parts for x in p.inputs)
    return seen == sorted(data.inputs)


def class_share(parts: list[Dataset]) -> float:
    """Mean share of a client's examples in its largest class (0.2 = balanced, 1 = one class)."""
    return float(np.mean([np.bincount(p.labels, minlength=5).max() / len(p) for p in parts]))


def test_iid_splits_evenly_and_keeps_every_example_once(data):
    parts = partition(data, 4, "iid", seed=1)
    assert [len(p) for p in parts] == [125] * 4
    assert covers_once(data, parts)
    assert class_share(parts) < 0.35
    assert all(p.classes == data.classes for p in parts)


def test_dirichlet_skews_classes_more_as_alpha_falls(data):
    skewed, mild = partition(data, 5, "dirichlet:0.1", seed=0), partition(data, 5, "dirichlet:100", seed=0)
    assert covers_once(data, skewed) and covers_once(data, mild)
    assert class_share(skewed) > 0.6 > 0.3 > class_share(mild)
    assert partition(data, 5, "dirichlet:0.1", seed=0)[0].inputs == skewed[0].inputs  # seeded


def test_quantity_skews_sizes_and_by_column_groups(data):
    sizes = [len(p) for p in partition(data, 5, "quantity:0.3", seed=0)]
    assert sum(sizes) == 500 and max(sizes) > 3 * min(sizes) and min(sizes) >= 2
    sites = ["north" if i % 4 else "south" for i in range(500)]
    north, south = partition(data, 2, "by:site", groups=sites)
    assert (len(north), len(south)) == (375, 125) and north.name.endswith("north")


@pytest.mark.parametrize("scheme", ["dirichlet", "dirichlet:-1", "stripes", "by:site"])
def test_bad_schemes_are_refused_in_one_line(data, scheme):
    with pytest.raises(HeadstartError):
        partition(data, 3, scheme)
