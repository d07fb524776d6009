"""UCR/UEA ``.ts`` classification files as ``Dataset(modality="series")``, read with aeon's loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from headstart.data.dataset import Dataset
from headstart.errors import DataError


def read_ts(path: Path | str, name: str | None = None) -> Dataset:
    """Each case as a float32 array: ``(T,)`` when univariate, ``(C, T)`` when multivariate."""
    from aeon.datasets import load_from_ts_file

    path = Path(path)
    try:
        X, y = load_from_ts_file(str(path))
    except Exception as exc:  # aeon raises many kinds for a malformed file
        raise DataError(f"{path}: not a readable .ts file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    inputs = [np.asarray(x, dtype=np.float32) for x in X]
    inputs = [x[0] if x.shape[0] == 1 else x for x in inputs]
    classes = sorted({str(v) for v in y})
    labels = np.array([classes.index(str(v)) for v in y])
    return Dataset(inputs, labels, classes, "series", name=name or path.stem, meta={"source": str(path)})
