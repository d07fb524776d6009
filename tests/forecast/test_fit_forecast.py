import numpy as np
import pytest
from aeon.datasets import load_airline

from headstart.data.series import SeriesCollection
from headstart.forecast.api import fit_forecast


@pytest.mark.parametrize("method", ["zeroshot", "probe", "finetune"])
def test_fit_forecast_on_airline(method):
    y = np.asarray(load_airline(), dtype=np.float64)
    data = SeriesCollection("airline", ["airline"], [y], None, None, 12)
    model = fit_forecast(data, "fracast-0", method, horizon=12, epochs=30 if method == "probe" else 2)
    metrics = model.evaluate(data)
    print(method, metrics["mase"], model.info.get("epochs"))
    assert np.isfinite(metrics["mase"]) and metrics["mase"] < (1.5 if method != "probe" else 10)
