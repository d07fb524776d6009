import numpy as np
import pytest
from aeon.datasets import load_airline

import headstart
from headstart.data.series import SeriesCollection
from headstart.forecast.fitted import Forecaster
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def airline() -> SeriesCollection:
    y = np.asarray(load_airline(), dtype=np.float64)  # monthly, January 1949 to December 1960
    stamps = np.arange("1949-01", "1961-01", dtype="datetime64[M]").astype("datetime64[ns]")
    return SeriesCollection("airline", ["airline"], [y], [stamps], "MS", 12)


def test_zeroshot_forecaster_equals_backbone_forecast_and_round_trips(airline, tmp_path):
    net = load_backbone("fracast-0")
    model = Forecaster(net, net.forecast_head(12, pretrained=True), 12, "zeroshot")
    frame = model.predict(airline)
    assert str(frame["timestamp"].iloc[0].date()) == "1961-01-01"
    assert len(frame) == 12 and list(frame.columns[-9:]) == [f"q{q:g}" for q in np.linspace(0.1, 0.9, 9).round(1)]
    expected = np.sort(net.forecast([airline.values[0]], 12)[0], axis=-1)[:, 4]  # the median of the rearranged quantiles
    np.testing.assert_allclose(frame["point"], expected, rtol=1e-5)
    metrics = model.evaluate(airline)
    assert 0 < metrics["mase"] < 2 and 0 <= metrics["coverage"] <= 1
    loaded = headstart.load(model.save(tmp_path / "run"))
    assert loaded.task == "forecast"
    np.testing.assert_array_equal(loaded.predict(airline)[["point", "q0.1", "q0.9"]], frame[["point", "q0.1", "q0.9"]])
