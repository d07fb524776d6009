"""Collections of time series for forecasting: the ``SeriesCollection`` type and its readers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from headstart.errors import DataError

SEASONS = {"M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "D": 7, "B": 5, "H": 24, "h": 24, "W": 52, "Y": 1, "YS": 1, "YE": 1, "A": 1, "AS": 1}


@dataclass
class SeriesCollection:
    """Many univariate series, each a float64 ``(T,)`` array (NaN = missing).

    ``timestamps`` holds a ``datetime64`` array per series, or is ``None`` for integer steps;
    ``freq`` is a pandas alias ("D", "MS", "YS", ...) or ``None``; ``season`` is the seasonal
    period the frequency implies (1 when there is none).
    """

    name: str
    ids: list[str]
    values: list[np.ndarray]
    timestamps: list[np.ndarray] | None = None
    freq: str | None = None
    season: int = 1
    meta: dict[str, Any] = field(default_factory=dict)
    modality: ClassVar[str] = "series"  # what a backbone's ``check_inputs`` reads

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, ids: Sequence[str]) -> SeriesCollection:
        """The series named ``ids``, in that order."""
        pos = {s: i for i, s in enumerate(self.ids)}
        idx = [pos[s] for s in ids]
        stamps = None if self.timestamps is None else [self.timestamps[i] for i in idx]
        return replace(self, ids=list(ids), values=[self.values[i] for i in idx], timestamps=stamps)

    def truncated(self, h: int) -> SeriesCollection:
        """Each series without its last ``h`` points."""
        return self._sliced(slice(0, -h) if h > 0 else slice(None))

    def tail(self, h: int) -> SeriesCollection:
        """The last ``h`` points of each series."""
        return self._sliced(slice(-h, None) if h > 0 else slice(0, 0))

    def _sliced(self, sl: slice) -> SeriesCollection:
        stamps = None if self.timestamps is None else [t[sl] for t in self.timestamps]
        return replace(self, values=[v[sl] for v in self.values], timestamps=stamps)


def season_of(freq: str | None) -> int:
    """The seasonal period a pandas frequency alias implies (1 when none)."""
    if not freq:
        return 1
    base = freq.split("-")[0].lstrip("0123456789")
    return SEASONS.get(base, 1)


def read_series(source: Any, *, freq: str | None = None, id_col: str | None = None, time_col: str | None = None,
                value_col: str | None = None, missing: str = "error", name: str | None = None) -> SeriesCollection:
    """Series from a CSV/TSV/Parquet path, a DataFrame (long ``series_id,timestamp,value`` or wide:
    one column per series plus a date column), a numpy array (rows = series) or a ``.npy`` / ``.npz``
    file of arrays (``read_arrays``).

    ``missing`` is the policy for missing values, NaN values and timestamps absent from the series'
    ``freq`` grid (gaps) alike: "error" (default: the first one named), "interpolate" (gaps inserted,
    then linear in time, ends filled with the nearest value) or "keep" (gaps inserted as NaN, NaN stays).
    Inserted gaps are counted per series in ``meta["gaps"]``, never filled silently.
    """
    if isinstance(source, np.ndarray):
        arr = np.atleast_2d(np.asarray(source, dtype=np.float64))
        frame = pd.DataFrame(arr.T, columns=[str(i) for i in range(len(arr))])
        label = name or "array"
    elif isinstance(source, pd.DataFrame):
        frame, label = source, name or "data"
    else:
        from pathlib import Path

        path = Path(source)
        if not path.is_file():
            raise DataError(f"no such series file: {path}")
        label = name or path.stem
        if path.suffix.lower() == ".tsf":
            return _read_tsf(path, freq=freq, missing=missing, name=label)
        if path.suffix.lower() in (".npy", ".npz"):
            return read_arrays(path, freq=freq, missing=missing, name=label)
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    cols = list(frame.columns)
    time_col = time_col or next((c for c in cols if str(c).lower() in ("timestamp", "date", "time", "ds", "datetime")), None)
    id_col = id_col or next((c for c in cols if str(c).lower() in ("series_id", "unique_id", "id", "series")), None)
    if id_col is not None:
        value_col = value_col or next(c for c in cols if c not in (id_col, time_col))
        groups = [(str(k), g) for k, g in frame.groupby(id_col, sort=False)]
        series = [(k, g[time_col] if time_col else None, g[value_col]) for k, g in groups]
    else:
        stamps = frame[time_col] if time_col else None
        series = [(str(c), stamps, frame[c]) for c in cols if c != time_col and (value_col is None or c == value_col)]
    ids, values, times, freqs, gaps = [], [], [], set(), {}
    for sid, stamp, vals in series:
        v = pd.to_numeric(vals, errors="coerce").to_numpy(dtype=np.float64)
        t = None
        if stamp is not None:
            t = pd.to_datetime(stamp.astype(str) if stamp.dtype.kind in "iu" else stamp).to_numpy()
            if t.dtype.kind != "M":
                t = t.astype("datetime64[ns]")
            if len(np.unique(t)) < len(t):
                raise DataError(f"{label}: series {sid}: duplicated timestamps")
            if np.any(np.diff(t) < np.timedelta64(0)):
                raise DataError(f"{label}: series {sid}: timestamps are not sorted")
            if len(t) >= 3 or freq:
                f = freq or pd.infer_freq(pd.DatetimeIndex(t))
                if f is None:
                    raise DataError(f"{label}: series {sid}: irregular timestamps, so the frequency cannot be inferred; "
                                    "give it (--freq D, freq='D') and the gaps are reported")
                freqs.add(f)
                t, v, gaps[sid] = _on_grid(f"{label}: series {sid}", t, v, f, missing)
        if np.all(np.isnan(v)):
            raise DataError(f"{label}: series {sid}: every value is missing (NaN-only column)")
        if np.isnan(v).any():
            if missing == "error":
                first = int(np.flatnonzero(np.isnan(v))[0])
                at = t[first] if t is not None else first
                raise DataError(f"{label}: series {sid}: missing value at {at} (use missing='interpolate' or 'keep')")
            if missing == "interpolate":
                v = pd.Series(v).interpolate(limit_direction="both").to_numpy()
        if np.nanstd(v) == 0:
            raise DataError(f"{label}: series {sid}: the series is constant")
        ids.append(sid)
        values.append(v)
        times.append(t)
    if len(freqs) > 1:
        raise DataError(f"{label}: mixed frequencies {', '.join(sorted(freqs))}")
    f = freq or (freqs.pop() if freqs else None)
    stamps = None if any(t is None for t in times) else times
    gaps = {sid: n for sid, n in gaps.items() if n}
    return SeriesCollection(label, ids, values, stamps, f, season_of(f), {"gaps": gaps} if gaps else {})


def _on_grid(who: str, t: np.ndarray, v: np.ndarray, freq: str, missing: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Timestamps ``t`` and values ``v`` on the regular ``freq`` grid from ``t[0]`` to ``t[-1]``, and
    the number of grid points that were absent (inserted as NaN unless ``missing`` is "error")."""
    stamps = pd.DatetimeIndex(t)
    try:
        grid = pd.date_range(stamps[0], stamps[-1], freq=freq)
    except ValueError as error:
        raise DataError(f"{who}: {freq!r} is not a pandas frequency ({error})") from None
    off = stamps.difference(grid)
    if len(off):
        raise DataError(f"{who}: timestamp {off[0]} is not on the {freq} grid from {stamps[0]}")
    absent = grid.difference(stamps)
    if not len(absent):
        return t, v, 0
    if missing == "error":
        raise DataError(f"{who}: {len(absent)} timestamp(s) missing from its {freq} grid (first {absent[0]}); "
                        "use missing='interpolate' or 'keep' to insert them as missing points")
    return grid.to_numpy(), pd.Series(v, index=stamps).reindex(grid).to_numpy(), len(absent)


def read_arrays(path: Any, *, freq: str | None = None, missing: str = "error", name: str | None = None) -> SeriesCollection:
    """A ``.npy`` array (rows = series, ids ``0``, ``1`` …) or a ``.npz`` archive: each member a
    series ``(T,)`` named by its key, or rows ``(N, T)`` named ``key/0`` …; members may differ in
    length. Object arrays are refused (nothing is unpickled)."""
    from pathlib import Path

    path = Path(path)
    label = name or path.stem
    try:
        loaded = np.load(path, allow_pickle=False)
        members = {"": loaded} if isinstance(loaded, np.ndarray) else {k: loaded[k] for k in loaded.files}
    except (ValueError, OSError) as error:
        raise DataError(f"{path}: not a readable numpy file of numbers ({str(error).splitlines()[0]})") from None
    frame: dict[str, pd.Series] = {}
    for key, array in members.items():
        if array.dtype.kind not in "fiub" or array.ndim not in (1, 2):
            raise DataError(f"{path}: member {key or 'array'!r} is not a (T,) or (N, T) array of numbers "
                            f"({array.dtype}, shape {array.shape})")
        rows = array[None, :] if array.ndim == 1 else array
        for i, row in enumerate(rows):
            sid = key if array.ndim == 1 and key else f"{key}/{i}" if key else str(i)
            frame[sid] = pd.Series(row.astype(np.float64))
    if not frame:
        raise DataError(f"{path}: holds no arrays")
    long = pd.concat([pd.DataFrame({"series_id": sid, "value": row}) for sid, row in frame.items()], ignore_index=True)
    return read_series(long, freq=freq, id_col="series_id", value_col="value", missing=missing, name=label)


TSF_FREQ = {"yearly": "YS", "quarterly": "QS", "monthly": "MS", "weekly": "W", "daily": "D", "hourly": "h"}


def _read_tsf(path: Any, *, freq: str | None, missing: str, name: str) -> SeriesCollection:
    """An aeon/Monash ``.tsf`` file (read with aeon's loader); timestamps from each start and the frequency."""
    from aeon.datasets import load_from_tsf_file

    frame, meta = load_from_tsf_file(str(path), return_type="tsf_default")
    freq = freq or TSF_FREQ.get(str(meta.get("frequency")))
    rows = []
    for sid, start, vals in zip(frame["series_name"], frame["start_timestamp"], frame["series_value"]):
        vals = np.asarray(vals, dtype=np.float64)
        stamps = pd.date_range(start, periods=len(vals), freq=freq) if freq else np.arange(len(vals))
        rows.append(pd.DataFrame({"series_id": str(sid), "timestamp": stamps, "value": vals}))
    return read_series(pd.concat(rows), freq=freq, missing=missing, name=name)


def check_lengths(collection: SeriesCollection, minimum: int) -> None:
    """Raise a one-line ``DataError`` naming the first series shorter than ``minimum``."""
    for sid, v in zip(collection.ids, collection.values):
        if len(v) < minimum:
            raise DataError(f"{collection.name}: series {sid} has {len(v)} points, fewer than the {minimum} needed")


# catalogue name -> (member of the aeon 1.6.0 wheel, time column, value column); uschange: Consumption
SERIES_CATALOGUE = {
    "airline": ("Airline/Airline.csv", "Date", "Passengers"),
    "shampoo_sales": ("ShampooSales/ShampooSales.csv", "Time", "Sales"),
    "lynx": ("Lynx/Lynx.csv", "Unnamed: 0", "0"),
    "uschange": ("Uschange/Uschange.csv", "Quarter", "Consumption"),
    "m1_yearly": ("m1_yearly_dataset/m1_yearly_dataset.tsf", "", ""),
}


def load_series(spec: Any, **kw: Any) -> SeriesCollection:
    """A catalogue name (airline, shampoo_sales, lynx, uschange; read from the aeon 1.6.0 wheel, BSD-3),
    a path or a DataFrame/array as a ``SeriesCollection`` (see ``read_series``)."""
    if isinstance(spec, str) and spec in SERIES_CATALOGUE:
        import io

        from headstart.data.cache import wheel_member

        member, time_col, value_col = SERIES_CATALOGUE[spec]
        if member.endswith(".tsf"):
            from headstart.data.cache import cached_file

            data = wheel_member("aeon", "1.6.0", f"aeon/datasets/data/{member}")
            return read_series(cached_file(member.split("/")[-1], lambda p: p.write_bytes(data)), name=spec, **kw)
        frame = pd.read_csv(io.BytesIO(wheel_member("aeon", "1.6.0", f"aeon/datasets/data/{member}")))
        if spec == "uschange":
            frame[time_col] = pd.PeriodIndex(frame[time_col].str.replace(" ", ""), freq="Q").to_timestamp()
        frame = frame[[time_col, value_col]].rename(columns={value_col: spec})
        return read_series(frame, time_col=time_col, name=spec, **kw)
    return read_series(spec, **kw)
