import numpy as np
import pytest
from aeon.datasets import load_airline

from headstart.data.series import SeriesCollection
from headstart.forecast.api import fit_forecast


@pytest.mark.parametrize("method", ["zeroshot", "probe", "finetune", "lora"])
def test_fit_forecast_on_airline(method, tmp_path):
    y = np.asarray(load_airline(), dtype=np.float64)
    data = SeriesCollection("airline", ["airline"], [y], None, None, 12)
    model = fit_forecast(data, "fracast-0", method, horizon=12, epochs=30 if method == "probe" else 2)
    metrics = model.evaluate(data)
    print(method, metrics["mase"], model.info.get("epochs"))
    assert np.isfinite(metrics["mase"])
    assert model.info["context_length"] == model.backbone.context_length == 2048  # trained on what a forecast reads
    if method == "probe":  # a new head from random init: it learns, but is far from the pre-trained one (known gap)
        losses = [row["train_loss"] for row in model.info["history"] if "train_loss" in row]
        assert losses[-1] < losses[0]
    else:
        assert metrics["mase"] < 1.5
    if method == "lora":  # the adapters are folded into the saved weights: a plain backbone reopens it
        import headstart

        assert headstart.load(model.save(tmp_path / "run")).evaluate(data)["mase"] == pytest.approx(metrics["mase"], rel=1e-4)


def test_headstart_fit_dispatches_forecast_and_load_reopens(tmp_path):
    import headstart

    y = np.asarray(load_airline(), dtype=np.float64)
    data = SeriesCollection("airline", ["airline"], [y], None, None, 12)
    model = headstart.fit(data, "fracast-0", "zeroshot", task="forecast", horizon=6)
    assert model.task == "forecast" and model.horizon == 6
    again = headstart.load(model.save(tmp_path / "run"))
    assert again.evaluate(data)["mase"] == model.evaluate(data)["mase"]
