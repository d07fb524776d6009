"""Split one ``Dataset`` into per-client datasets for federated experiments.

Schemes (``partition(data, n, scheme)``): ``iid`` (a random equal split), ``dirichlet:ALPHA``
(class skew: each class's examples are shared out by proportions drawn from Dir(ALPHA); small
ALPHA gives clients few classes), ``quantity:ALPHA`` (size skew: client sizes drawn from
Dir(ALPHA), classes mixed at random) and ``by:COLUMN`` (one client per value of a table column:
a domain, a source, a site).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from headstart.data.dataset import Dataset
from headstart.errors import DataError, HeadstartError

MIN_PER_CLIENT = 2  # a client with fewer examples cannot train a step worth sending


def partition(data: Dataset, clients: int, scheme: str = "iid", *, seed: int = 0, groups: Sequence[Any] | None = None) -> list[Dataset]:
    """``data`` split over ``clients`` by ``scheme``; ``by:COLUMN`` takes the column's values as
    ``groups`` (one per example; ``column_values`` reads them from a table file)."""
    kind, _, arg = scheme.partition(":")
    rng = np.random.default_rng(seed)
    if kind == "iid":
        parts = np.array_split(rng.permutation(len(data)), clients)
    elif kind == "dirichlet":
        parts = dirichlet_indices(_labels(data), clients, _alpha(scheme, arg), rng)
    elif kind == "quantity":
        parts = quantity_indices(len(data), clients, _alpha(scheme, arg), rng)
    elif kind == "by":
        if groups is None or len(groups) != len(data):
            raise HeadstartError(f"partition {scheme}: needs the column {arg!r}'s value for every example")
        return by_group(data, groups)
    else:
        raise HeadstartError(f"unknown partition {scheme!r}; use iid, dirichlet:ALPHA, quantity:ALPHA or by:COLUMN")
    return [data.subset(np.sort(p), name=f"{data.name}-client{i}") for i, p in enumerate(parts)]


def dirichlet_indices(labels: np.ndarray, clients: int, alpha: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Class-skewed shares (Hsu et al. 2019): class c's examples go to the clients in proportions
    ``p_c ~ Dir(alpha)``; redrawn (at most 100 times) until every client has ``MIN_PER_CLIENT``."""
    for _ in range(100):
        parts: list[list[int]] = [[] for _ in range(clients)]
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            cuts = (np.cumsum(rng.dirichlet(np.full(clients, alpha)))[:-1] * len(members)).astype(int)
            for part, share in zip(parts, np.split(members, cuts)):
                part.extend(share.tolist())
        if min(map(len, parts)) >= MIN_PER_CLIENT:
            return [np.array(p, dtype=int) for p in parts]
    raise DataError(f"dirichlet:{alpha} over {clients} clients leaves a client with < {MIN_PER_CLIENT} of {len(labels)} examples")


def quantity_indices(n: int, clients: int, alpha: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Size-skewed shares: client sizes ``~ Dir(alpha) * n`` (at least ``MIN_PER_CLIENT`` each)."""
    if n < MIN_PER_CLIENT * clients:
        raise DataError(f"{n} examples cannot give {clients} clients {MIN_PER_CLIENT} each")
    spare = n - MIN_PER_CLIENT * clients
    sizes = MIN_PER_CLIENT + np.floor(rng.dirichlet(np.full(clients, alpha)) * spare).astype(int)
    sizes[-1] += n - sizes.sum()
    return np.split(rng.permutation(n), np.cumsum(sizes)[:-1])


def by_group(data: Dataset, groups: Sequence[Any]) -> list[Dataset]:
    """One dataset per distinct value of ``groups`` (sorted by value), named after it."""
    values = np.asarray([str(g) for g in groups])
    return [data.subset(np.flatnonzero(values == v), name=f"{data.name}-{v}") for v in sorted(set(values))]


def column_values(path: str | Path, column: str) -> list[Any]:
    """Column ``column`` of a CSV/TSV/JSONL file, row for row as ``load_data`` reads the file."""
    from headstart.data.readers import read_rows

    columns, rows = read_rows(Path(path))
    if column not in columns:
        raise DataError(f"{path}: no column {column!r} to partition by; columns: {', '.join(columns)}")
    return [row.get(column) for _, row in rows]


def _labels(data: Dataset) -> np.ndarray:
    if data.labels is None or data.task != "classification":
        raise HeadstartError("dirichlet partitions need class labels; use iid or quantity:ALPHA")
    return np.asarray(data.labels)


def _alpha(scheme: str, arg: str) -> float:
    try:
        alpha = float(arg)
    except ValueError:
        alpha = 0.0
    if not alpha > 0:
        raise HeadstartError(f"partition {scheme!r}: ALPHA must be a number > 0, e.g. dirichlet:0.5")
    return alpha
