"""Batches follow the backbone's own length hook: longest first when inputs vary, in order otherwise."""

import numpy as np
import pytest

from headstart.data.catalogue import load_dataset
from headstart.features.batching import plan_batches, run_batches
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def minilm():
    return load_backbone("minilm-l6")


def run(backbone, inputs, compute, batch_size):
    return list(run_batches(backbone, inputs, compute, batch_size=batch_size, bf16=False, progress=False, description="test"))


def test_texts_are_batched_longest_first_and_padded_per_batch(minilm):
    texts = load_dataset("rotten_tomatoes").inputs[:20]
    lengths = minilm.input_lengths(texts)
    batches = run(minilm, texts, lambda batch: np.full(len(batch["input_ids"]), batch["input_ids"].shape[1]), batch_size=4)
    padded = [widths[0] for _, widths in batches]
    assert padded == sorted(padded, reverse=True) and len(set(padded)) > 1
    for indices, widths in batches:
        assert widths.tolist() == [lengths[indices].max()] * len(indices)  # each batch padded to its own longest text only
    assert sorted(np.concatenate([i for i, _ in batches]).tolist()) == list(range(len(texts)))


def test_fixed_size_inputs_keep_their_order():
    lite0 = load_backbone("efficientnet-lite0")
    images = [np.full((16, 16), value, np.uint8) for value in range(5)]
    batches = run(lite0, images, lambda batch: tuple(batch.shape), batch_size=2)
    assert [i.tolist() for i, _ in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][1] == (2, 3, lite0.resolution, lite0.resolution)


def test_plan_batches_covers_every_input_once():
    plan = plan_batches(5, 2, np.array([1, 5, 3, 5, 2]))
    assert [b.tolist() for b in plan] == [[1, 3], [2, 4], [0]]
