"""Real series for the series-backbone tests, read from the CSVs inside the installed aeon wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def aeon_series(name: str) -> np.ndarray:
    """The value column of aeon's bundled ``name/name.csv`` (Airline: 144 monthly counts; Lynx: 114 yearly)."""
    import aeon

    path = Path(aeon.__file__).parent / "datasets" / "data" / name / f"{name}.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, dtype=np.float64)
