import numpy as np
import pytest
from aeon.datasets import load_airline

from headstart.errors import DataError
from headstart.forecast.baselines import BASELINES, baseline_forecast
from headstart.forecast.metrics import series_metrics
from headstart.forecast.windows import backtest_origins, backtest_split


@pytest.fixture(scope="module")
def airline() -> np.ndarray:
    return np.asarray(load_airline(), dtype=np.float64)  # 144 monthly points


def test_backtest_split_never_trains_on_values_after_the_first_origin(airline):
    train, held = backtest_split([airline], ["airline"], context=64, horizon=12, origins=3)
    assert [w.origin for w in held] == backtest_origins(144, 12, 3) == [108, 120, 132]
    assert max(w.origin + len(w.target) for w in train) == 108
    changed = airline.copy()
    changed[108:] = 0.0
    train2, held2 = backtest_split([changed], ["airline"], context=64, horizon=12, origins=3)
    assert all(np.array_equal(a.context, b.context) and np.array_equal(a.target, b.target) for a, b in zip(train, train2))
    assert np.array_equal(held[0].context, held2[0].context)
    with pytest.raises(DataError, match="airline"):
        backtest_split([airline[:30]], ["airline"], context=64, horizon=12, origins=3)


def test_short_series_hold_out_fewer_origins_and_keep_their_whole_history():
    assert backtest_origins(15, 6, 3) == [9] and backtest_origins(13, 6, 3) == []
    train, held = backtest_split([np.arange(40.0), np.arange(15.0)], ["long", "yearly"], context=2048, horizon=6, origins=3)
    assert [(w.series, w.origin) for w in held] == [(0, 22), (0, 28), (0, 34), (1, 9)]
    assert max(len(w.context) for w in train) == 16 and all(w.origin + 6 <= 22 for w in train)
    with pytest.raises(DataError, match="'tiny'"):
        backtest_split([np.arange(40.0), np.arange(13.0)], ["long", "tiny"], context=2048, horizon=6, origins=3)


def test_baseline_forecast_depends_only_on_history(airline):
    a = baseline_forecast("ets", airline[:120], 12, 12)
    changed = airline.copy()
    changed[120:] *= 3
    assert np.array_equal(a, baseline_forecast("ets", changed[:120], 12, 12))


def test_statsforecast_baselines_on_airline(airline):
    scores = {}
    for name in BASELINES:
        q = baseline_forecast(name, airline[:132], 12, 12)
        assert q.shape == (12, 9) and np.all(np.diff(q, axis=1) >= 0)
        scores[name] = series_metrics(airline[132:], q, airline[:132], 12)["mase"]
    assert scores["seasonal_naive"] < scores["naive"]  # a strongly seasonal series
    assert min(scores["ets"], scores["arima"]) < scores["seasonal_naive"]
