"""Export of forecasters (fracast-0, real weights) and RL policies (PPO trained here): parity checked at
export, series with missing points and short ones, ``headstart predict model.onnx`` giving the same
forecast table and the same actions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import headstart
from headstart.cli.app import app
from headstart.data.series import load_series
from headstart.errors import DataError, HeadstartError
from headstart.export import OnnxModel, export_onnx
from headstart.export.policy import rollout_observations
from headstart.export.runner import OnnxForecaster, OnnxPolicy
from headstart.rl.dynamics import Dynamics
from headstart.rl.transfer import pretrain, transfer


def invoke(*args: str) -> str:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def test_fracast_forecaster_exports_and_predicts_the_same_table(tmp_path):
    airline = load_series("airline")
    model = headstart.fit(airline, backbone="fracast-0", method="zeroshot", task="forecast", horizon=12)
    model.save(tmp_path / "run")
    with pytest.raises(HeadstartError, match="^--int8 applies to transfer runs; forecasters"):
        export_onnx(model, tmp_path / "x.onnx", data=airline, int8=True)
    onnx_file = tmp_path / "exported" / "airline.onnx"
    report = json.loads(invoke("export", str(tmp_path / "run"), "--data", "airline", "--out", str(onnx_file)))
    assert report["examples"] == 2 and report["max_scaled_diff"] <= 1e-5 and report["tolerance_of"] == "max_scaled_diff"
    assert json.loads(onnx_file.with_suffix(".json").read_text())["outputs"][0]["horizon"] == 12
    lynx = load_series("lynx").values[0].copy()
    lynx[[5, 40, 41, 100]] = np.nan  # missing points: masked by the preprocessing spec
    contexts = [lynx, load_series("shampoo_sales").values[0], airline.values[0][:30] * 1e4]  # short: left-padded
    onnx = OnnxModel(onnx_file)
    scale = onnx.prepare(contexts)["scale"].reshape(-1, 1, 1)
    np.testing.assert_array_less(np.abs(onnx.outputs(contexts) - model.quantiles(contexts)) / scale, 1e-5)
    csv = tmp_path / "airline.csv"
    pd.DataFrame({"date": airline.timestamps[0], "passengers": airline.values[0]}).to_csv(csv, index=False)
    table = pd.read_csv(pd.io.common.StringIO(invoke("predict", str(onnx_file), str(csv))))
    expected = model.predict(load_series(str(csv)))
    assert list(table["timestamp"]) == [str(t.date()) for t in expected["timestamp"]]
    np.testing.assert_allclose(table.drop(columns=["series_id", "timestamp"]),
                               expected.drop(columns=["series_id", "timestamp"]), rtol=1e-5)
    assert OnnxForecaster(onnx_file).evaluate(airline)["mase"] == pytest.approx(model.evaluate(airline)["mase"], rel=1e-5)


def test_cartpole_policy_exports_its_actions_and_the_cli_predicts_them(tmp_path):
    policy = pretrain(Dynamics.parse("CartPole-v1"), 2048, seed=0)
    policy.save(tmp_path / "run")
    onnx_file = tmp_path / "cartpole.onnx"
    report = json.loads(invoke("export", str(tmp_path / "run"), "--out", str(onnx_file)))
    assert report["observations"] == "rollouts" and report["examples"] == 2000
    assert report["action_agreement"] == 1.0 and report["max_abs_diff"] == 0.0
    meta = json.loads(onnx_file.with_suffix(".json").read_text())
    assert meta["env"] == "CartPole-v1" and meta["action_space"] == {"kind": "discrete", "n": 2}
    observations = rollout_observations(policy, 300, seed=1)
    expected = policy.predict(observations)
    assert len(set(expected.tolist())) == 2  # both actions taken
    pd.DataFrame(observations, columns=["x", "v", "angle", "spin"]).to_csv(tmp_path / "obs.csv", index=False)
    lines = invoke("predict", str(onnx_file), str(tmp_path / "obs.csv")).splitlines()
    assert lines[0] == "observation,action" and [int(line.split(",")[1]) for line in lines[1:]] == expected.tolist()
    with pytest.raises(DataError, match=r"observations of shape \[3\]; the policy observes \[4\]"):
        OnnxPolicy(onnx_file).predict(observations[:, :3])


def test_residual_pendulum_policy_exports_its_clipped_means(tmp_path):
    source = pretrain(Dynamics.parse("Pendulum-v1"), 512, seed=0)
    policy = transfer(source, Dynamics.parse("Pendulum-v1", set_=["mass=1.3"]), "residual", steps=512, episodes=0)
    report = export_onnx(policy, tmp_path / "pendulum.onnx")
    assert policy.kind == "residual" and report["max_abs_diff"] <= 1e-5 and report["action_agreement"] == 1.0
    exported = OnnxPolicy(tmp_path / "pendulum.onnx")
    far = np.random.default_rng(0).uniform([-1, -1, -8], [1, 1, 8], size=(200, 3)).astype(np.float32) * 30
    actions = exported.predict(far)  # far outside the observation space: means beyond the action bounds, clipped
    assert actions.shape == (200, 1) and np.abs(actions).max() == pytest.approx(2.0)
    np.testing.assert_allclose(actions, policy.predict(far), atol=1e-5)
    np.save(tmp_path / "obs.npy", far[:3])
    assert exported.predict(far[0]).shape == (1,)
    rows = json.loads(invoke("predict", str(tmp_path / "pendulum.onnx"), str(tmp_path / "obs.npy"), "--json"))
    np.testing.assert_allclose([r["action"] for r in rows], policy.predict(far[:3]), atol=1e-5)
