import numpy as np
from aeon.datasets import load_airline

from headstart.forecast.backtest import backtest, baseline_table
from headstart.zoo import load_backbone


def test_fracast_zeroshot_backtest_on_airline_beats_naive():
    airline = np.asarray(load_airline(), dtype=np.float64)
    net = load_backbone("fracast-0")
    zeroshot = backtest([airline], 12, 12, lambda h, H: list(net.forecast(h, H)))
    table = baseline_table([airline], 12, 12)
    assert set(zeroshot) == {"mase", "smape", "quantile_loss", "coverage"}
    assert zeroshot["mase"] < table["naive"]["mase"]
    print("fracast-0 zero-shot", zeroshot, table)
