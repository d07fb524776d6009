"""Benchmark the ONNX export of forecasters and RL policies: parity with PyTorch and speed.

- forecasters of horizon 12: ``fracast-0`` zero-shot, ``fracast-0`` fine-tuned (its decoder, 3
  epochs) on airline, and an ``hs-tcn`` encoder pre-trained on aeon's series then fine-tuned;
  parity on every context of the four catalogue series cut every 4 points (from 24 points to the
  whole series; lynx with 5 % of its points missing): max |Δquantile| in the series' units and over
  each context's scale, and whether the forecast table's median rounds to the same 4 significant digits;
- PPO policies: CartPole ``mlp`` (8,192 steps) and a Pendulum ``residual`` policy (source 8,192
  steps, residual 2,048 steps on mass x1.3); parity on 2,000 rollout observations of their dynamics
  (20 % random actions): action agreement and max |Δaction|.

Speed (one thread): PyTorch (``Forecaster.quantiles``, ``Policy.predict``) vs the fp32 graph
through ``OnnxForecaster`` / ``OnnxPolicy``, all the inputs at once and one input at a time
(median of the per-call times). Writes ``bench/results/export_more.json``.

    OMP_NUM_THREADS=1 .venv/bin/python -P bench/export_more.py [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import headstart
from headstart.data.series import load_series
from headstart.export import export_onnx
from headstart.export.policy import rollout_observations
from headstart.export.runner import OnnxForecaster, OnnxPolicy
from headstart.pretrain import pretrain as pretrain_series
from headstart.rl.dynamics import Dynamics
from headstart.rl.transfer import pretrain, transfer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "export_more.json"
SERIES = ("airline", "lynx", "shampoo_sales", "uschange")
HORIZON = 12
NAMES = ("fracast-0 zeroshot", "fracast-0 finetune", "hs-tcn finetune", "cartpole mlp", "pendulum residual")


def contexts() -> list[np.ndarray]:
    """Every prefix of the catalogue series, cut every 4 points from 24 points on (lynx with gaps)."""
    out = []
    for name in SERIES:
        values = load_series(name).values[0].copy()
        if name == "lynx":
            values[np.random.default_rng(0).choice(len(values), len(values) // 20, replace=False)] = np.nan
        out += [values[:end] for end in range(24, len(values) + 1, 4)]
    return out


def best_seconds(call: Callable[[], Any], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def per_call_ms(call: Callable[[Any], Any], items: list[Any]) -> float:
    """Median milliseconds of ``call`` on one item at a time."""
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def forecaster_row(name: str, model: Any, folder: Path) -> dict[str, Any]:
    items = contexts()
    path = folder / f"{name.replace(' ', '_')}.onnx"
    report = export_onnx(model, path, data=items)
    onnx = OnnxForecaster(path, threads=1)
    torch_q, onnx_q = model.quantiles(items), onnx.quantiles(items)
    median = lambda q: np.array([float(f"{v:.4g}") for v in q[:, :, 4].ravel()])  # noqa: E731
    torch_s, onnx_s = best_seconds(lambda: model.quantiles(items)), best_seconds(lambda: onnx.quantiles(items))
    one = items[::10]
    return {"contexts": len(items), "max_abs_diff": report["max_abs_diff"], "max_scaled_diff": report["max_scaled_diff"],
            "median_4_digits_agreement": float((median(torch_q) == median(onnx_q)).mean()),
            "torch_seconds_all": torch_s, "onnx_seconds_all": onnx_s, "speedup_all": torch_s / onnx_s,
            "torch_ms_one": per_call_ms(lambda c: model.quantiles([c]), one),
            "onnx_ms_one": per_call_ms(lambda c: onnx.quantiles([c]), one), "graph_mb": path.stat().st_size / 1e6}


def policy_row(name: str, policy: Any, folder: Path) -> dict[str, Any]:
    path = folder / f"{name.replace(' ', '_')}.onnx"
    report = export_onnx(policy, path)
    onnx = OnnxPolicy(path, threads=1)
    observations = rollout_observations(policy, seed=1)  # other rollouts than the export's own
    torch_a, onnx_a = policy.predict(observations), onnx.predict(observations)
    torch_s, onnx_s = best_seconds(lambda: policy.predict(observations)), best_seconds(lambda: onnx.predict(observations))
    one = list(observations[:500])
    return {"observations": len(observations), "export_max_abs_diff": report["max_abs_diff"],
            "export_action_agreement": report["action_agreement"],
            "max_abs_diff": float(np.abs(torch_a.astype(float) - onnx_a.astype(float)).max()),
            "action_agreement": float((np.abs(torch_a.astype(float) - onnx_a.astype(float)) <= 1e-5).reshape(len(observations), -1).all(1).mean()),
            "torch_seconds_all": torch_s, "onnx_seconds_all": onnx_s, "speedup_all": torch_s / onnx_s,
            "torch_ms_one": per_call_ms(policy.predict, one), "onnx_ms_one": per_call_ms(onnx.predict, one)}


def aeon_series(name: str) -> np.ndarray:
    import aeon

    path = Path(aeon.__file__).parent / "datasets" / "data" / name / f"{name}.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, dtype=np.float64)


def build(name: str, folder: Path) -> tuple[Any, Callable[..., dict[str, Any]]]:
    airline = load_series("airline")
    if name == "fracast-0 zeroshot":
        return headstart.fit(airline, backbone="fracast-0", method="zeroshot", task="forecast", horizon=HORIZON), forecaster_row
    if name == "fracast-0 finetune":
        return headstart.fit(airline, backbone="fracast-0", method="finetune", task="forecast", horizon=HORIZON,
                             epochs=3, seed=0), forecaster_row
    if name == "hs-tcn finetune":
        pretrain_series([aeon_series(n) for n in ("Airline", "Lynx", "ShampooSales")], folder / "tcn", epochs=3,
                        steps_per_epoch=40, batch_size=16, lr=3e-3, seed=0, context=160, horizon=HORIZON, width=32, blocks=5)
        return headstart.fit(airline, backbone=str(folder / "tcn"), method="finetune", task="forecast", horizon=HORIZON,
                             epochs=3, seed=0), forecaster_row
    if name == "cartpole mlp":
        return pretrain(Dynamics.parse("CartPole-v1"), 8192, seed=0), policy_row
    source = pretrain(Dynamics.parse("Pendulum-v1"), 8192, seed=0)
    return transfer(source, Dynamics.parse("Pendulum-v1", set_=["mass=1.3"]), "residual", steps=2048, episodes=0), policy_row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=NAMES)
    only = parser.parse_args().only
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            if only not in (None, name):
                continue
            started = time.perf_counter()
            model, measure = build(name, Path(tmp))
            row = measure(name, model, Path(tmp))
            results = json.loads(OUT.read_text()) if OUT.is_file() else {}
            results[name] = row | {"seconds": time.perf_counter() - started}
            OUT.write_text(json.dumps(results, indent=1))
            print(name, json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
