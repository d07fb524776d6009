import numpy as np
import pytest
import torch

from headstart.forecast.metrics import aggregate, coverage, mase, naive_scale, quantile_loss, series_metrics, smape
from headstart.forecast.objective import pinball


def test_mase_scaled_by_in_sample_seasonal_naive():
    history = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])  # season 3: |5-1|, |6-2|, |7-3| -> scale 4
    assert naive_scale(history, 3) == pytest.approx(4.0)
    assert mase(np.array([8.0, 10.0]), np.array([6.0, 6.0]), history, 3) == pytest.approx(3.0 / 4.0)
    assert naive_scale(np.array([1.0, 3.0, 4.0]), 12) == pytest.approx(1.5)  # too short: season 1


def test_smape_quantile_loss_and_coverage_by_hand():
    assert smape(np.array([100.0, 0.0]), np.array([50.0, 0.0])) == pytest.approx((200 * 50 / 150 + 0) / 2)
    truth = np.array([1.0, 5.0])
    q = np.tile(np.linspace(1, 3, 9), (2, 1))  # q0.1 = 1 ... q0.9 = 3
    levels = np.linspace(0.1, 0.9, 9)
    expected = np.mean([max(t * (y - v), (t - 1) * (y - v)) for y in truth for t, v in zip(levels, q[0])])
    assert quantile_loss(truth, q) == pytest.approx(expected)
    assert coverage(truth, q) == 0.5
    m = series_metrics(truth, q, np.arange(10.0), 1)
    assert m["mase"] == pytest.approx(np.mean([1.0, 3.0]))
    assert aggregate([m, {**m, "mase": 0.0}])["mase"] == pytest.approx(1.0)


def test_pinball_tensor_matches_numpy():
    rng = np.random.default_rng(0)
    q, y = rng.normal(size=(3, 4, 9)), rng.normal(size=(3, 4))
    levels = torch.linspace(0.1, 0.9, 9)
    got = float(pinball(torch.tensor(q), torch.tensor(y), levels.double()))
    assert got == pytest.approx(np.mean([quantile_loss(y[i], q[i]) for i in range(3)]))
