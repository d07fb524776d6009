r"""Which task each training batch comes from.

Every batch holds examples of one task. Task ``t`` with ``n_t`` training examples is drawn with

.. math:: p_t = \frac{n_t^{1/T}}{\sum_s n_s^{1/T}},

``T = 1`` being proportional sampling (every example seen equally often; large tasks dominate),
``T -> inf`` uniform sampling (every task equally often; small tasks are revisited), and values
in between (``"temperature"``, T = 2 by default) the usual compromise of multilingual and
multi-task training. Within a task, examples are taken in a fresh random order each pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from headstart.errors import HeadstartError


def task_probabilities(sizes: Sequence[int], sampling: str, temperature: float = 2.0) -> np.ndarray:
    """:math:`p_t` for ``sampling`` = proportional (T = 1), uniform (T = inf) or temperature (T)."""
    exponent = {"proportional": 1.0, "uniform": 0.0}.get(sampling)
    if exponent is None:
        if sampling != "temperature":
            raise HeadstartError(f"unknown task sampling {sampling!r}; use proportional, uniform or temperature")
        exponent = 1.0 / temperature
    weights = np.asarray(sizes, dtype=np.float64) ** exponent
    return weights / weights.sum()


def task_offsets(sizes: Sequence[int]) -> np.ndarray:
    """Start of each task's examples in the run's global numbering (task after task)."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)


class TaskBatchSampler:
    """Yields ``num_batches`` batches of global example indices per epoch, each from one drawn task.

    A batch takes the next ``batch_size`` examples of its task's current pass (fewer at the end of a
    pass); a task's pass is a random permutation, redrawn when it is used up. Draws depend only
    on ``(seed, epoch)``: Lightning calls ``set_epoch``, so a resumed run replays the same batches.
    """

    def __init__(
        self, sizes: Sequence[int], batch_size: int, probabilities: np.ndarray, num_batches: int, seed: int
    ) -> None:
        self.sizes, self.batch_size = list(sizes), batch_size
        self.probabilities, self.num_batches, self.seed = probabilities, num_batches, seed
        self.offsets = task_offsets(sizes)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        passes: list[list[int]] = [[] for _ in self.sizes]  # what is left of each task's current pass
        for task in rng.choice(len(self.sizes), size=self.num_batches, p=self.probabilities):
            if not passes[task]:
                passes[task] = rng.permutation(self.sizes[task]).tolist()
            batch, passes[task] = passes[task][: self.batch_size], passes[task][self.batch_size :]
            yield [int(self.offsets[task]) + i for i in batch]


def sequential_batches(sizes: Sequence[int], batch_size: int) -> list[list[int]]:
    """Every example once, task after task, in batches that never mix tasks (for evaluation)."""
    offsets = task_offsets(sizes)
    return [
        list(range(offset + start, offset + min(start + batch_size, size)))
        for offset, size in zip(offsets, sizes)
        for start in range(0, size, batch_size)
    ]
