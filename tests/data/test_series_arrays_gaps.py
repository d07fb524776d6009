"""``.npy``/``.npz`` series files and irregular timestamps: gaps are reported or inserted, never filled silently."""

import numpy as np
import pandas as pd
import pytest

from headstart.data.series import load_series, read_series
from headstart.errors import DataError


def test_npz_members_are_series_named_by_key(tmp_path):
    airline = load_series("airline").values[0]
    np.savez(tmp_path / "s.npz", airline=airline, pair=np.stack([airline[:20], airline[20:40]]))
    c = read_series(tmp_path / "s.npz")
    assert c.ids == ["airline", "pair/0", "pair/1"] and c.name == "s"
    assert np.array_equal(c.values[0], airline) and [len(v) for v in c.values] == [144, 20, 20]
    np.save(tmp_path / "rows.npy", np.stack([airline[:30], airline[30:60]]))
    assert read_series(tmp_path / "rows.npy").ids == ["0", "1"]
    np.save(tmp_path / "words.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="not a .* array of numbers"):
        read_series(tmp_path / "words.npy")


def test_gaps_in_daily_timestamps_are_named_then_inserted_as_missing_points():
    days = pd.date_range("2024-01-01", periods=10, freq="D").delete([3, 4])  # two days absent
    frame = pd.DataFrame({"date": days, "sales": np.arange(8.0)})
    with pytest.raises(DataError, match="series sales: irregular timestamps"):
        read_series(frame)  # the frequency cannot be inferred: say so, do not guess
    with pytest.raises(DataError, match=r"series sales: 2 timestamp\(s\) missing from its D grid \(first 2024-01-04"):
        read_series(frame, freq="D")
    kept = read_series(frame, freq="D", missing="keep")
    assert len(kept.values[0]) == 10 and np.isnan(kept.values[0][[3, 4]]).all() and kept.meta["gaps"] == {"sales": 2}
    filled = read_series(frame, freq="D", missing="interpolate")
    np.testing.assert_allclose(filled.values[0][2:6], [2.0, 2 + 1 / 3, 2 + 2 / 3, 3.0])
    with pytest.raises(DataError, match="not on the W-MON grid"):
        read_series(pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-16"]), "x": [1.0, 2, 3]}),
                    freq="W-MON")
    assert "gaps" not in load_series("airline", freq="MS").meta
