"""Batch samplers of the training path: what each process of a DDP run sees, epoch by epoch;
and the learning-rate schedule."""

import math

import numpy as np
import pytest
import torch

from headstart.multitask.sampling import TaskBatchSampler
from headstart.recipe import Recipe
from headstart.training.data import PairedBatches, Shard, ShuffledBatches
from headstart.training.module import schedule


def test_shuffled_batches_split_each_epoch_between_processes():
    shares = [ShuffledBatches(10, 3, seed=0, rank=r, world=2) for r in range(2)]
    for epoch in (0, 1):
        for share in shares:
            share.set_epoch(epoch)
        seen = [i for share in shares for batch in share for i in batch]
        assert sorted(seen) == list(range(10)) and all(len(share) == 2 for share in shares)
    alone = ShuffledBatches(10, 3, seed=0)
    first = list(alone)
    alone.set_epoch(1)
    assert list(alone) != first and sorted(i for b in alone for i in b) == list(range(10))


@pytest.mark.parametrize("make", [
    lambda: PairedBatches(n_source=20, n_target=9, batch=4, target_batch=4, labelled=np.array([1, 3]), labelled_batch=4, seed=0),
    lambda: TaskBatchSampler([10, 7], 4, np.array([0.5, 0.5]), num_batches=5, seed=3),
])
def test_shards_deal_out_one_sequence_of_batches(make):
    """Process r takes batches r, r + 2, ...: together the two see every batch of the epoch once
    (the odd one out twice, so that both step equally often), and the same again on resume."""
    everything = make()
    everything.set_epoch(2)
    batches = list(everything)
    shards = [Shard(make(), rank, 2) for rank in range(2)]
    for shard in shards:
        shard.set_epoch(2)
    dealt = [list(shard) for shard in shards]
    assert [len(d) for d in dealt] == [len(s) for s in shards] == [math.ceil(len(batches) / 2)] * 2
    assert dealt[0] == batches[0::2] and dealt[1] == (batches[1::2] + batches[:1])[: len(dealt[0])]
    again = Shard(make(), 1, 2)
    again.set_epoch(2)
    assert list(again) == dealt[1]


@pytest.mark.parametrize("kind", ["cosine", "constant"])
def test_schedule_warms_up_linearly_then_decays(kind):
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([parameter], lr=1.0)
    scheduler = schedule(optimizer, Recipe(schedule=kind, warmup=0.2), total_steps=10)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[:3] == pytest.approx([0.0, 0.5, 1.0])  # two warm-up steps
    if kind == "cosine":
        assert rates[2:] == pytest.approx([0.5 * (1 + math.cos(math.pi * k / 8)) for k in range(8)])
    else:
        assert rates[2:] == [1.0] * 8
