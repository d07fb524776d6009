"""Benchmark: do transferability scores predict which (backbone, depth) transfers best, and how fast?

For Rotten Tomatoes and BBC News (MiniLM-L6) and MNIST-5k and digits (EfficientNet-Lite0, -Lite2):

* a stratified pool of ``--pool`` training examples and ``--test`` examples of the fixed test split
  (subsampled so that the whole benchmark fits a shared 2-core machine);
* every (backbone, layer group) candidate: the pooled features of pool and test from one pass per
  backbone (a fresh cache, so extraction time is the cold cost), the scores on the pool (LogME,
  shrinkage H-score; NCE and LEEP at the last depth of backbones with a source classifier), and the
  actual test accuracy of a probe (``fit_linear_head``) trained on the pool;
* Kendall tau and weighted tau (scipy) between each score and the probe accuracy over candidates;
  time to score every candidate vs time to probe-train every candidate;
* the no-transfer baseline (``headstart.baselines``) on the same pool and test, and what
  ``method="auto"``'s rules pick (backbone by LogME, ``rank_depths``' unfreeze suggestion);
* probe vs fine-tuning (last 2 groups) vs the baseline at ``--sizes`` examples per class on BBC
  News and MNIST-5k: the evidence behind auto's ``FINETUNE_MIN_PER_CLASS``.

Writes ``bench/results/transferability.json`` and prints the Markdown tables quoted in ``docs/benchmarks.md``.

    .venv/bin/python bench/transferability.py [--pool 500] [--test 500] [--sizes 8,32,128] [--no-finetune]
    .venv/bin/python bench/transferability.py --rescore    # recompute the summaries from the saved results
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file shares its name with the standard library's `select`, which `subprocess` imports:
# take this folder off the import path so that `import select` finds the real module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.special import softmax  # noqa: E402
from scipy.stats import kendalltau, weightedtau  # noqa: E402

import headstart  # noqa: E402
from headstart.data.catalogue import load_dataset  # noqa: E402
from headstart.data.dataset import Dataset  # noqa: E402
from headstart.data.splits import sample_shots, stratified_split  # noqa: E402
from headstart.features import extract_features_at_depths, extract_source_logits  # noqa: E402
from headstart.methods.probe import fit_linear_head  # noqa: E402
from headstart.select.baseline_model import fit_baseline_model  # noqa: E402
from headstart.select.rank import score_all, suggest_unfreeze  # noqa: E402
from headstart.zoo import Backbone, load_backbone  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "transferability.json"
DATASETS = {
    "rotten_tomatoes": ["minilm-l6"],
    "bbc_news": ["minilm-l6"],
    "mnist5k": ["efficientnet-lite0", "efficientnet-lite2"],
    "digits": ["efficientnet-lite0", "efficientnet-lite2"],
}
SCORE_NAMES = ("logme", "hscore_shrinkage", "nce", "leep")
FEATURE_SCORES = ("logme", "hscore_shrinkage")
FINETUNE_DATASETS = ("bbc_news", "mnist5k")
SEED = 0


def subsample(name: str, split: str, size: int) -> Dataset:
    """A stratified subsample of ``size`` examples of a fixed split (all of it if smaller)."""
    data = load_dataset(name, split)
    return stratified_split(data, size, seed=SEED)[1] if len(data) > size else data


def score_candidates(net: Backbone, pool: Dataset, test: Dataset, cache_dir: str) -> tuple[list[dict[str, Any]], float]:
    """Every depth of ``net``: scores on the pool, probe accuracy on the test set, timings.

    Returns the candidate rows and the extraction time (pool and test, every depth, cold cache).
    """
    started = time.perf_counter()
    pool_features = extract_features_at_depths(net, pool, cache_dir=cache_dir, progress=False)
    test_features = extract_features_at_depths(net, test, cache_dir=cache_dir, progress=False)
    source_probs = None
    if net.has_source_head:
        logits = extract_source_logits(net, pool, cache_dir=cache_dir, progress=False)
        source_probs = softmax(logits.astype(np.float64), axis=1)
    extract_seconds = time.perf_counter() - started
    rows = []
    for depth, features in pool_features.items():
        begun = time.perf_counter()
        last = depth == net.num_groups - 1
        scores = score_all(SCORE_NAMES if last else FEATURE_SCORES, pool, features, source_probs if last else None)
        scored = time.perf_counter()
        head = fit_linear_head(features, pool.labels, "classification", pool.num_classes, SEED)
        with torch.inference_mode():
            predicted = head(torch.from_numpy(test_features[depth])).argmax(1).numpy()
        rows.append({
            "backbone": net.name, "depth": depth, "feature_dim": int(features.shape[1]),
            **{s: scores.get(s) for s in SCORE_NAMES},
            "probe_accuracy": float((predicted == test.labels).mean()),
            "score_seconds": scored - begun, "probe_seconds": time.perf_counter() - scored,
        })
    return rows, extract_seconds


def correlations(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    """Kendall and weighted tau between each score and the probe accuracy, over the rows it applies to."""
    out = {}
    for score in SCORE_NAMES:
        scored = [r for r in rows if r[score] is not None]
        if len(scored) < 3:
            out[score] = {"candidates": len(scored), "kendall_tau": None, "weighted_tau": None}
            continue
        values, accuracy = [r[score] for r in scored], [r["probe_accuracy"] for r in scored]
        out[score] = {
            "candidates": len(scored),
            "kendall_tau": float(kendalltau(values, accuracy).statistic),
            "weighted_tau": float(weightedtau(values, accuracy).statistic),
        }
    return out


def final_depths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each backbone's last-depth row (where its source classifier's scores apply)."""
    last = {}
    for r in rows:
        if r["depth"] >= last.get(r["backbone"], {"depth": -1})["depth"]:
            last[r["backbone"]] = r
    return list(last.values())


def backbone_choice(rows: list[dict[str, Any]]) -> dict[str, bool] | None:
    """Per score: does its best backbone (final features) have the best probe accuracy?"""
    finals = final_depths(rows)
    if len(finals) < 2:
        return None
    best = max(finals, key=lambda r: r["probe_accuracy"])["backbone"]
    return {score: max(finals, key=lambda r: r[score])["backbone"] == best for score in SCORE_NAMES}


def auto_pick(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What auto's rules choose from these scores, and the probe accuracy of that choice vs the best."""
    finals = final_depths(rows)
    backbone = max(finals, key=lambda r: r["logme"])["backbone"]
    depths = {r["depth"]: r["logme"] for r in rows if r["backbone"] == backbone}
    unfreeze, reason = suggest_unfreeze(depths, "logme")
    best = max(rows, key=lambda r: r["probe_accuracy"])
    picked = next(r for r in finals if r["backbone"] == backbone)
    return {
        "backbone": backbone, "suggested_unfreeze": unfreeze, "reason": reason,
        "picked_probe_accuracy": picked["probe_accuracy"],
        "best_candidate": {k: best[k] for k in ("backbone", "depth", "probe_accuracy")},
        "best_final_depth_accuracy": max(r["probe_accuracy"] for r in finals),
    }


def dataset_benchmark(name: str, pool_size: int, test_size: int) -> dict[str, Any]:
    pool, test = subsample(name, "train", pool_size), subsample(name, "test", test_size)
    print(f"{name}: pool {len(pool)}, test {len(test)}", flush=True)
    rows, extract_seconds = [], {}
    with tempfile.TemporaryDirectory() as cache_dir:
        for backbone in DATASETS[name]:
            candidate_rows, extract_seconds[backbone] = score_candidates(load_backbone(backbone), pool, test, cache_dir)
            rows += candidate_rows
            print(f"  {backbone}: {len(candidate_rows)} depths, extraction {extract_seconds[backbone]:.0f} s", flush=True)
    started = time.perf_counter()
    baseline = fit_baseline_model(pool, SEED)
    baseline_seconds = time.perf_counter() - started
    measured = {
        "pool": len(pool), "test": len(test), "classes": pool.num_classes,
        "candidates": rows,
        "baseline": {"name": baseline.name, "accuracy": baseline.evaluate(test)["accuracy"], "seconds": baseline_seconds},
        "seconds": {"extract": extract_seconds},
    }
    return summarise(measured)


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    """Add what follows from a dataset's measurements: correlations, choices, total times."""
    rows = measured["candidates"]
    measured["correlation"] = correlations(rows)
    measured["picks_better_backbone"] = backbone_choice(rows)
    measured["auto"] = auto_pick(rows)
    measured["seconds"] |= {
        "score_all_candidates": sum(r["score_seconds"] for r in rows),
        "probe_all_candidates": sum(r["probe_seconds"] for r in rows),
    }
    return measured


def fine_tuning_cost(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Time to fine-tune every candidate, estimated as candidates x the median measured fine-tuning
    run on that dataset, against the time to score every candidate (features cached, or cold)."""
    out = {}
    for name, d in results["datasets"].items():
        runs = [r["finetune"]["seconds"] for r in results.get("finetune_vs_probe", []) if r["dataset"] == name]
        if not runs:
            continue
        finetune_all = len(d["candidates"]) * float(np.median(runs))
        score_cached = d["seconds"]["score_all_candidates"]
        score_cold = score_cached + sum(d["seconds"]["extract"].values())
        out[name] = {
            "finetune_all_estimated": finetune_all, "score_all_cached": score_cached, "score_all_cold": score_cold,
            "ratio_vs_cached": finetune_all / score_cached, "ratio_vs_cold": finetune_all / score_cold,
        }
    return out


def finetune_vs_probe(name: str, sizes: list[int], test_size: int) -> list[dict[str, Any]]:
    """Probe, fine-tuning of the last 2 groups and the baseline at each examples-per-class size."""
    backbone = DATASETS[name][0]
    test = subsample(name, "test", test_size)
    rows = []
    for k in sizes:
        train = sample_shots(load_dataset(name, "train"), k, seed=SEED)
        row: dict[str, Any] = {"dataset": name, "backbone": backbone, "per_class": k}
        for method, options in (("probe", {}), ("finetune", {"unfreeze": 2})):
            fitted = headstart.fit(train, backbone=backbone, method=method, seed=SEED, **options)
            row[method] = {"accuracy": fitted.evaluate(test)["accuracy"], "seconds": fitted.info["train_seconds"]}
        baseline = fit_baseline_model(train, SEED)
        row["baseline"] = {"accuracy": baseline.evaluate(test)["accuracy"], "seconds": baseline.info["train_seconds"]}
        print(f"  {name} {k}/class: " + ", ".join(f"{m} {row[m]['accuracy']:.3f}" for m in ("probe", "finetune", "baseline")), flush=True)
        rows.append(row)
    return rows


def machine() -> dict[str, Any]:
    return {
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def markdown(results: dict[str, Any]) -> str:
    """The correlation table, the speed table, auto's picks and the fine-tuning table."""
    names = list(results["datasets"])
    lines = ["| score | " + " | ".join(f"{n} (τ / weighted τ, n)" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for score in SCORE_NAMES:
        cells = []
        for n in names:
            c = results["datasets"][n]["correlation"][score]
            cells.append("n/a" if c["kendall_tau"] is None else f"{c['kendall_tau']:.2f} / {c['weighted_tau']:.2f}, {c['candidates']}")
        lines.append(f"| {score} | " + " | ".join(cells) + " |")
    lines.append("| picks the better backbone (logme, hscore_shrinkage, nce, leep) | " + " | ".join(
        "n/a (one backbone)" if (c := results["datasets"][n]["picks_better_backbone"]) is None
        else ", ".join("yes" if c[s] else "no" for s in SCORE_NAMES) for n in names) + " |")
    lines += ["", "| dataset | candidates | extract (s) | score all (s) | probe-train all (s) | probe / score | auto picks | its probe acc. | best candidate | baseline acc. |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        d = results["datasets"][n]
        s, a = d["seconds"], d["auto"]
        best = a["best_candidate"]
        lines.append(
            f"| {n} | {len(d['candidates'])} | {sum(s['extract'].values()):.0f} | {s['score_all_candidates']:.1f} | "
            f"{s['probe_all_candidates']:.1f} | {s['probe_all_candidates'] / s['score_all_candidates']:.0f}x | "
            f"{a['backbone']}, unfreeze {a['suggested_unfreeze']} | {a['picked_probe_accuracy']:.3f} | "
            f"{best['backbone']} @{best['depth']}: {best['probe_accuracy']:.3f} | {d['baseline']['accuracy']:.3f} |"
        )
    if results.get("finetune_vs_probe"):
        lines += ["", "| dataset | per class | probe | fine-tune (last 2 groups) | baseline | probe s | fine-tune s |", "|---|---|---|---|---|---|---|"]
        for r in results["finetune_vs_probe"]:
            lines.append(
                f"| {r['dataset']} | {r['per_class']} | {r['probe']['accuracy']:.3f} | {r['finetune']['accuracy']:.3f} | "
                f"{r['baseline']['accuracy']:.3f} | {r['probe']['seconds']:.0f} | {r['finetune']['seconds']:.0f} |"
            )
    if results.get("fine_tuning_cost"):
        lines += ["", "| dataset | score all, cached features (s) | score all, cold (s) | fine-tune all, estimated (s) | ratio (cached) | ratio (cold) |",
                  "|---|---|---|---|---|---|"]
        for n, c in results["fine_tuning_cost"].items():
            lines.append(
                f"| {n} | {c['score_all_cached']:.1f} | {c['score_all_cold']:.0f} | {c['finetune_all_estimated']:.0f} | "
                f"{c['ratio_vs_cached']:.0f}x | {c['ratio_vs_cold']:.1f}x |"
            )
    return "\n".join(lines)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict[str, Any] = {"machine": machine(), "pool": args.pool, "test": args.test, "seed": SEED, "datasets": {}}
    for name in args.datasets.split(","):
        results["datasets"][name] = dataset_benchmark(name, args.pool, args.test)
    if not args.no_finetune:
        sizes = [int(k) for k in args.sizes.split(",")]
        results["finetune_vs_probe"] = [row for name in FINETUNE_DATASETS for row in finetune_vs_probe(name, sizes, args.test)]
    results["machine"]["load_average_at_end"] = os.getloadavg()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=500)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--sizes", default="8,32,128", help="examples per class for probe vs fine-tuning")
    parser.add_argument("--no-finetune", action="store_true")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--rescore", action="store_true", help="recompute the summaries of the saved results, measure nothing")
    args = parser.parse_args()
    if args.rescore:
        results = json.loads(RESULTS.read_text())
        results["datasets"] = {name: summarise(d) for name, d in results["datasets"].items()}
    else:
        results = measure(args)
    results["fine_tuning_cost"] = fine_tuning_cost(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
