"""`headstart fit --task forecast`, `predict` and `evaluate` on a real series, from the command line."""

from __future__ import annotations

import json

import pandas as pd

from tests.cli.helpers import invoke, run


def test_fit_predict_evaluate_a_forecaster_of_a_csv(tmp_path):
    from headstart.data.series import load_series

    airline = load_series("airline")
    csv = tmp_path / "airline.csv"
    pd.DataFrame({"date": airline.timestamps[0], "passengers": airline.values[0]}).to_csv(csv, index=False)
    out = tmp_path / "run"
    fitted = run("fit", str(csv), "--task", "forecast", "--horizon", "6", "--method", "zeroshot", "--out", str(out))
    assert "artifact:" in fitted.stdout and "report:" in fitted.stdout
    report = (out / "report.html").read_text()
    assert "seasonal" in report.lower() and "MASE" in report and (out / "forecasts.png").stat().st_size > 5000
    forecast = pd.read_csv(pd.io.common.StringIO(invoke("predict", str(out), str(csv)).stdout))
    assert list(forecast["timestamp"][:2]) == ["1961-01-01", "1961-02-01"] and len(forecast) == 6
    assert (forecast[[f"q{q / 10:g}" for q in range(1, 10)]].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    metrics = json.loads(invoke("evaluate", str(out), str(csv), "--json").stdout)
    assert 0 < metrics["mase"] < 1.5 and 0 <= metrics["coverage"] <= 1
    missing = run("fit", str(csv), "--task", "forecast", "--out", str(tmp_path / "x"), check=False)
    assert missing.returncode == 2 and "--horizon" in missing.stderr
