import numpy as np
import pandas as pd
import pytest

from headstart.data.series import check_lengths, read_series
from headstart.errors import DataError


def _wide(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="MS"), **cols})


def test_wide_frame_infers_monthly_frequency_and_season():
    c = read_series(_wide(a=[1.0, 2, 3, 5, 4, 6], b=[3.0, 1, 2, 2, 5, 1]))
    assert c.ids == ["a", "b"] and c.freq == "MS" and c.season == 12
    assert len(c.truncated(2).values[0]) == 4 and list(c.tail(2).values[1]) == [5.0, 1.0]


def test_long_frame_and_bad_inputs_name_the_series():
    long = pd.DataFrame({"series_id": ["x"] * 4 + ["y"] * 4, "timestamp": list(pd.date_range("2021", periods=4, freq="D")) * 2,
                         "value": [1.0, 2, 3, 4, 2, 2, 3, 1]})
    c = read_series(long)
    assert c.ids == ["x", "y"] and c.season == 7
    with pytest.raises(DataError, match="series b: the series is constant"):
        read_series(_wide(a=[1.0, 2, 3, 4], b=[2.0] * 4))
    with pytest.raises(DataError, match="series b: every value is missing"):
        read_series(_wide(a=[1.0, 2, 3, 4], b=[np.nan] * 4))
    with pytest.raises(DataError, match="series a: missing value"):
        read_series(_wide(a=[1.0, np.nan, 3, 4]))
    assert read_series(_wide(a=[1.0, np.nan, 3, 4]), missing="interpolate").values[0][1] == 2.0
    with pytest.raises(DataError, match="series x: timestamps are not sorted"):
        read_series(long.iloc[[1, 0, 2, 3]])
    with pytest.raises(DataError, match="series x: duplicated timestamps"):
        read_series(long.iloc[[0, 0, 1, 2]])
    with pytest.raises(DataError, match="series y has 4 points"):
        check_lengths(c.subset(["y"]), 10)


def test_catalogue_airline_is_monthly_with_144_points():
    from headstart.data.series import load_series

    c = load_series("airline")
    assert c.ids == ["airline"] and c.freq == "MS" and c.season == 12
    assert len(c.values[0]) == 144 and c.values[0][0] == 112.0


def test_ts_file_reads_univariate_and_multivariate(tmp_path):
    import zipfile

    from headstart.data.catalogue import fetch_wheel
    from headstart.data.sources import load_data

    with zipfile.ZipFile(fetch_wheel("aeon", "1.6.0")) as wheel:
        for member in ("GunPoint/GunPoint_TRAIN.ts", "BasicMotions/BasicMotions_TRAIN.ts"):
            (tmp_path / member.split("/")[1]).write_bytes(wheel.read(f"aeon/datasets/data/{member}"))
    gun = load_data(tmp_path / "GunPoint_TRAIN.ts")
    assert gun.modality == "series" and len(gun) == 50 and gun.inputs[0].shape == (150,) and gun.classes == ["1", "2"]
    motions = load_data(tmp_path / "BasicMotions_TRAIN.ts")
    assert motions.inputs[0].shape == (6, 100) and motions.inputs[0].dtype == np.float32 and "standing" in motions.classes


def test_catalogue_ucr_sets_use_their_own_train_and_test_files():
    from headstart.data.catalogue import load_dataset

    train, test = load_dataset("gunpoint", "train"), load_dataset("gunpoint", "test")
    assert (len(train), len(test)) == (50, 150) and train.modality == "series" and train.inputs[0].shape == (150,)
    motions = load_dataset("basic_motions", "test")
    assert len(motions) == 40 and motions.inputs[0].shape == (6, 100) and motions.num_classes == 4


def test_catalogue_m1_yearly_reads_the_tsf_file():
    from headstart.data.series import load_series

    c = load_series("m1_yearly")
    assert len(c) == 181 and c.freq == "YS" and c.season == 1 and c.ids[0] == "T1"
    assert len(c.values[0]) == len(c.timestamps[0]) == 28
