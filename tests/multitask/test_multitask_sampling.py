"""Task sampling: the probabilities, and batches drawn in those proportions without mixing tasks."""

import numpy as np
import pytest

from headstart.errors import HeadstartError
from headstart.multitask.sampling import (
    TaskBatchSampler,
    sequential_batches,
    task_offsets,
    task_probabilities,
)

SIZES = [900, 100, 25]


def test_probabilities_follow_the_size_exponent():
    sizes = np.array(SIZES, dtype=float)
    assert np.allclose(task_probabilities(SIZES, "proportional"), sizes / sizes.sum())
    assert np.allclose(task_probabilities(SIZES, "uniform"), [1 / 3] * 3)
    assert np.allclose(task_probabilities(SIZES, "temperature", 2.0), np.sqrt(sizes) / np.sqrt(sizes).sum())
    assert np.allclose(task_probabilities(SIZES, "temperature", 1.0), task_probabilities(SIZES, "proportional"))
    assert np.allclose(task_probabilities(SIZES, "temperature", 1e6), [1 / 3] * 3, atol=1e-4)
    with pytest.raises(HeadstartError, match="unknown task sampling"):
        task_probabilities(SIZES, "round-robin")


def task_of(batch):
    return int(np.searchsorted(task_offsets(SIZES), batch[0], side="right") - 1)


@pytest.mark.parametrize("sampling", ["proportional", "uniform", "temperature"])
def test_batches_come_from_tasks_in_the_drawn_proportions(sampling):
    p = task_probabilities(SIZES, sampling, 2.0)
    sampler = TaskBatchSampler(SIZES, 8, p, num_batches=4000, seed=0)
    counts = np.zeros(3)
    for batch in sampler:
        task = task_of(batch)
        assert all(task_of([i]) == task for i in batch)  # one task per batch
        counts[task] += 1
    assert np.allclose(counts / counts.sum(), p, atol=0.02)


def test_each_pass_over_a_task_covers_its_examples_once():
    sampler = TaskBatchSampler([10, 7], 4, np.array([0.0, 1.0]), num_batches=4, seed=3)
    batches = list(sampler)
    assert [len(b) for b in batches] == [4, 3, 4, 3]  # a pass ends with what is left, then reshuffles
    first_pass = sorted(i for b in batches[:2] for i in b)
    assert first_pass == list(range(10, 17))


def test_draws_depend_on_seed_and_epoch_only():
    p = task_probabilities(SIZES, "uniform")
    a, b = TaskBatchSampler(SIZES, 8, p, 50, seed=1), TaskBatchSampler(SIZES, 8, p, 50, seed=1)
    assert list(a) == list(b) and len(a) == 50
    b.set_epoch(1)
    assert list(a) != list(b)
    a.set_epoch(1)
    assert list(a) == list(b)


def test_sequential_batches_cover_every_example_once_without_mixing():
    batches = sequential_batches([5, 3], 2)
    assert batches == [[0, 1], [2, 3], [4], [5, 6], [7]]
