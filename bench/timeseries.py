"""Time-series transfer (issue 14): forecasting four catalogue series and classifying three UCR sets.

One ``hs-tcn`` encoder is pre-trained first (``headstart.pretrain``) on aeon series that are *not*
targets: the UCR sets OSULeaf, BasicMotions, ACSF1 and JapaneseVowels, the regression sets
CardanoSentiment and Covid3Month (each case a series), PBS scripts and solar generation.

Forecasting (``FORECASTS``: name -> horizon; m1_yearly: ``M1_SERIES`` of its 181 series drawn by
seed 0): every method is scored on the same rolling origins (the last 3, stepping by the horizon,
fewer for short series) and trained only on points before the first of them. Baselines
(statsforecast), ``fracast-0`` and ``hs-tcn`` zero-shot, both fine-tuned (default recipe) and
``scratch`` (the hs-tcn architecture from random weights) over ``SEEDS``. ``auto`` is nested: it
chooses on the series cut before the scored origins (its own back-test there) and the model it
keeps is scored on the scored origins, so its choice never sees them.

Classification: K examples per class drawn by seed from each UCR train split, scored on the
full test split: MiniRocket, 1-NN, and scratch / probe / finetune with the encoder.

    OMP_NUM_THREADS=1 .venv/bin/python bench/timeseries.py   # writes bench/results/timeseries.json
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import aeon
import headstart
from headstart.baselines import fit_baseline
from headstart.data import load_data
from headstart.data.series import SeriesCollection, load_series
from headstart.data.splits import sample_shots
from headstart.data.ucr import read_ts
from headstart.errors import DataError
from headstart.forecast.api import fit_forecast
from headstart.forecast.auto import fit_auto_forecast
from headstart.forecast.backtest import backtest, baseline_table
from headstart.forecast.windows import backtest_origins
from headstart.pretrain import pretrain

RESULTS = Path(__file__).parent / "results" / "timeseries.json"
AEON = Path(aeon.__file__).parent / "datasets" / "data"
FORECASTS = {"airline": 12, "m1_yearly": 6, "lynx": 8, "uschange": 8}
KINDS = {"airline": "trend + season (monthly)", "m1_yearly": "yearly, short", "lynx": "counts (yearly, cyclic)",
         "uschange": "financial / macro (quarterly % change of US consumption)"}
M1_SERIES, ORIGINS = 30, 3
SETS, SHOTS, SEEDS = ("gunpoint", "italy_power", "arrowhead"), (5, 20), (0, 1, 2)
PRETRAIN = dict(epochs=3, steps_per_epoch=100, batch_size=16, context=256, horizon=12, blocks=8, lr=1e-3, seed=0)
ROW_KEYS = ("mase", "smape", "quantile_loss", "coverage")


def corpus() -> list[Any]:
    """The pre-training corpus: aeon series that no target below comes from."""
    items: list[Any] = [load_data("osuleaf"), load_data("basic_motions")]
    for stem in ("ACSF1", "JapaneseVowels", "CardanoSentiment", "Covid3Month"):
        items += [read_ts(AEON / stem / f"{stem}_{part}.ts", stem) for part in ("TRAIN", "TEST")]
    items.append(pd.read_csv(AEON / "PBS_dataset" / "PBS_dataset.csv")["Scripts"].to_numpy(np.float32))
    items.append(pd.read_csv(AEON / "solar" / "solar.csv")["solar_gen"].to_numpy(np.float32))
    return items


def target(name: str) -> SeriesCollection:
    data = load_series(name)
    if name == "m1_yearly":
        chosen = np.random.default_rng(0).choice(len(data), M1_SERIES, replace=False)
        data = data.subset([data.ids[i] for i in sorted(chosen)])
    return data


def scored(data: SeriesCollection, horizon: int, model: Any) -> dict[str, float]:
    return backtest(data.values, data.season, horizon, lambda h, H: list(model.quantiles(h)), ORIGINS)


def auto_nested(data: SeriesCollection, horizon: int) -> tuple[dict[str, float], dict[str, Any]]:
    """``auto`` chosen on each series cut before its scored origins (series too short for a back-test
    there are left out of the choice), then scored on the scored origins."""
    cut = [v[:backtest_origins(len(v), horizon, ORIGINS)[0]] for v in data.values]
    keep = [i for i, v in enumerate(cut) if backtest_origins(len(v), horizon, ORIGINS)]
    early = replace(data, ids=[data.ids[i] for i in keep], values=[cut[i] for i in keep], timestamps=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_auto_forecast(early, "fracast-0", horizon=horizon, origins=ORIGINS, seed=0)
    chosen = model.describe()["method"]
    return scored(data, horizon, model), {"chosen": chosen, "decision": model.info["decision"], "selection_series": len(keep)}


def forecasting(encoder: str, log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    rows = []

    def add(name: str, method: str, seed: int | None, metrics: dict[str, float], seconds: float, **extra: Any) -> None:
        rows.append({"data": name, "method": method, "seed": seed, **{k: metrics[k] for k in ROW_KEYS},
                     "seconds": round(seconds, 1), **extra})
        log(rows[-1])

    for name, horizon in FORECASTS.items():
        data = target(name)
        started = time.perf_counter()
        for baseline, metrics in baseline_table(data.values, data.season, horizon, ORIGINS).items():
            add(name, baseline, None, metrics, time.perf_counter() - started)
            started = time.perf_counter()
        runs = [("fracast-0", "zeroshot", (None,)), (encoder, "zeroshot", (None,)), ("fracast-0", "finetune", SEEDS),
                (encoder, "finetune", SEEDS), (encoder, "scratch", SEEDS)]
        for backbone, method, seeds in runs:
            for seed in seeds:
                started = time.perf_counter()
                label = f"{'fracast-0' if backbone == 'fracast-0' else 'hs-tcn'} {method}"
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model = fit_forecast(data, backbone, method, horizon=horizon, origins=ORIGINS, seed=seed or 0)
                except DataError as error:  # recorded, not faked
                    rows.append({"data": name, "method": label, "seed": seed, "not_run": str(error)})
                    log(rows[-1])
                    continue
                add(name, label, seed, scored(data, horizon, model), time.perf_counter() - started,
                    epochs=model.info.get("epochs"), windows=model.info.get("n_windows"))
        started = time.perf_counter()
        metrics, decision = auto_nested(data, horizon)
        add(name, "auto (fracast-0)", 0, metrics, time.perf_counter() - started, **decision)
    return rows


def classification(encoder: str, log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    rows = []
    for name in SETS:
        train, test = load_data(f"{name}:train"), load_data(f"{name}:test")  # UCR .ts files of the aeon wheel
        for k in SHOTS:
            if min(train.class_counts().values()) < k:
                continue
            for seed in SEEDS:
                part = sample_shots(train, k, seed=seed)
                fits: dict[str, Callable[[], Any]] = {kind: lambda kind=kind: fit_baseline(part, seed, kind=kind)
                                                      for kind in ("minirocket", "nn1")}
                fits |= {f"hs-tcn {m}": lambda m=m: headstart.fit(part, encoder, m, seed=seed) for m in ("scratch", "probe", "finetune")}
                for method, fit in fits.items():
                    started = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        accuracy = fit().evaluate(test)["accuracy"]
                    rows.append({"data": name, "shots": k, "seed": seed, "method": method, "accuracy": accuracy,
                                 "seconds": round(time.perf_counter() - started, 1)})
                    log(rows[-1])
    return rows


def mean(rows: list[dict[str, Any]], key: str, **match: Any) -> float:
    values = [r[key] for r in rows if key in r and all(r[k] == v for k, v in match.items())]
    return statistics.mean(values) if values else float("nan")


def targets(forecast: list[dict[str, Any]], classes: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, each with the numbers it was judged on and ``met``."""
    out: dict[str, Any] = {"seasonal_transfer_beats_snaive_by_15pct": {}, "auto_within_2pct_of_best_baseline": {},
                           "k5_transfer_beats_scratch_by_10_points": {}, "k5_transfer_within_2_points_of_minirocket": {}}
    transfers = ("fracast-0 zeroshot", "hs-tcn zeroshot", "fracast-0 finetune", "hs-tcn finetune")
    for name in FORECASTS:
        m = {method: mean(forecast, "mase", data=name, method=method) for method in dict.fromkeys(r["method"] for r in forecast)}
        best = min(transfers, key=m.__getitem__)
        if target(name).season > 1:
            out["seasonal_transfer_beats_snaive_by_15pct"][name] = {
                "best_transfer": best, "mase": m[best], "seasonal_naive": m["seasonal_naive"],
                "met": m[best] <= 0.85 * m["seasonal_naive"]}
        baseline = min(("seasonal_naive", "naive", "ets", "arima"), key=m.__getitem__)
        out["auto_within_2pct_of_best_baseline"][name] = {
            "auto": m["auto (fracast-0)"], "best_baseline": baseline, "baseline_mase": m[baseline],
            "met": m["auto (fracast-0)"] <= 1.02 * m[baseline]}
    for name in SETS:
        a = {method: 100 * mean(classes, "accuracy", data=name, shots=5, method=method)
             for method in ("minirocket", "hs-tcn scratch", "hs-tcn probe", "hs-tcn finetune")}
        best = max(("hs-tcn probe", "hs-tcn finetune"), key=a.__getitem__)
        out["k5_transfer_beats_scratch_by_10_points"][name] = {"transfer": best, "accuracy": a[best], "scratch": a["hs-tcn scratch"],
                                                              "met": a[best] - a["hs-tcn scratch"] >= 10}
        out["k5_transfer_within_2_points_of_minirocket"][name] = {"transfer": best, "accuracy": a[best], "minirocket": a["minirocket"],
                                                                  "met": a[best] >= a["minirocket"] - 2}
    for block in out.values():
        block["all_met"] = bool(block) and all(v["met"] for v in block.values())
    return out


def tables(result: dict[str, Any]) -> str:
    lines = ["| series | method | MASE | quantile loss | coverage 80 % |", "|---|---|---|---|---|"]
    f = [r for r in result["forecasting"] if "mase" in r]
    for key in dict.fromkeys((r["data"], r["method"]) for r in f):
        rs = [r for r in f if (r["data"], r["method"]) == key]
        spread = f" ± {statistics.pstdev([r['mase'] for r in rs]):.3f}" if len(rs) > 1 else ""
        lines.append(f"| {key[0]} | {key[1]} | {statistics.mean(r['mase'] for r in rs):.3f}{spread} | "
                     f"{statistics.mean(r['quantile_loss'] for r in rs):.4g} | {100 * statistics.mean(r['coverage'] for r in rs):.0f} % |")
    lines += ["", "| data | K | method | accuracy (mean ± std over seeds) |", "|---|---|---|---|"]
    c = result["classification"]
    for key in dict.fromkeys((r["data"], r["shots"], r["method"]) for r in c):
        values = [100 * r["accuracy"] for r in c if (r["data"], r["shots"], r["method"]) == key]
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f} % |")
    return "\n".join(lines)


def main() -> None:
    started = time.perf_counter()
    log = lambda row: print(json.dumps(row), flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        encoder = str(Path(tmp) / "hs-tcn-aeon")
        net = pretrain(corpus(), encoder, **PRETRAIN)
        print(json.dumps(net.trained), flush=True)
        forecast = forecasting(encoder, log)
        classes = classification(encoder, log)
    result = {"seconds": round(time.perf_counter() - started, 1), "torch_threads": net.trained["torch_threads"],
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "seeds": SEEDS, "origins": ORIGINS,
              "horizons": FORECASTS, "kinds": KINDS, "m1_yearly_series": M1_SERIES, "encoder": net.trained,
              "not_run": {"fracast-0 scratch": "the 2,048-step fracast-0 architecture trained from random weights on one "
                                               "series costs minutes per seed here; scratch uses the hs-tcn architecture",
                          "fracast-0 classification": "one hand-run probe (GunPoint K=5) reached 56 %; not in the bench"},
              "forecasting": forecast, "classification": classes}
    result["targets"] = targets(forecast, classes)
    tmp_path = RESULTS.with_suffix(".json.tmp")
    tmp_path.write_text(json.dumps(result, indent=1))
    os.replace(tmp_path, RESULTS)
    print(tables(result))
    print(json.dumps(result["targets"], indent=1))


if __name__ == "__main__":
    main()
