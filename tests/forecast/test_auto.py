import numpy as np
from aeon.datasets import load_airline

import headstart
from headstart.data.series import SeriesCollection


def test_auto_keeps_the_best_by_backtest_mase_and_round_trips(tmp_path):
    y = np.asarray(load_airline(), dtype=np.float64)
    data = SeriesCollection("airline", ["airline"], [y], None, None, 12)
    model = headstart.fit(data, "fracast-0", "auto", task="forecast", horizon=12, epochs=2)
    table = model.info["backtest"]
    best = min(table, key=lambda k: table[k]["mase"])
    assert model.describe()["method"] == best
    print(model.info["decision"])
    again = headstart.load(model.save(tmp_path / "run"))
    assert again.evaluate(data)["mase"] == model.evaluate(data)["mase"]


def test_auto_on_a_short_yearly_series_skips_what_cannot_train():
    from headstart.data.series import load_series

    m1 = load_series("m1_yearly")
    short = m1.subset([min(m1.ids, key=lambda s: len(m1.values[m1.ids.index(s)]))])  # 15 yearly points
    model = headstart.fit(short, "fracast-0", "auto", task="forecast", horizon=6)
    assert set(model.info["skipped"]) == {"finetune"} and "zeroshot" in model.info["backtest"]
    assert model.predict(short)["point"].notna().sum() == 6
