"""Benchmark domain adaptation between MNIST-5k and scikit-learn's 8x8 digits, both directions.

For each backbone, direction (MNIST -> digits, digits -> MNIST), view of the digits and seed,
``headstart.adapt.adapt`` runs every algorithm and reports target accuracy (the target's labels
are used for this report only), next to the target oracle (the same architecture trained on
target labels) and a pixel baseline. Choices, all made to fit two shared CPU cores:

- Data: a fixed class-balanced subsample of each domain (50 per class: 500 images; ``sample_shots``
  seed 0), the same for every seed; the seed changes the source's training/validation split, the
  initialisations and the batches. Grayscale becomes RGB and both domains are resized the same
  way by the backbone (EfficientNet: stretched to 224 px; the CNN: bilinear to 32 px).
- Views: "upscaled" (digits as they are, 8x8) and "framed" (digits framed like MNIST: 8 -> 20 px,
  4 px border, 28x28; ``headstart.data.transforms.frame_like_mnist``). MNIST is the same in both.
- EfficientNet-Lite0 (ImageNet weights): alignment losses and the fine-tuned source-only run
  train the top two layer groups (the last MBConv stage and the 1x1 head conv, ``unfreeze=2``)
  from cached frozen-prefix states at ``lr=1e-3`` (at the default 3e-4 the weights hardly move in
  the ~40 steps affordable here); self-training and AdaBN use the linear probe on frozen features
  (AdaBN's statistics and features are cached, so seeds 1 and 2 cost no backbone pass). The
  oracle is the linear probe on target labels.
- small-cnn (defined here, trained from scratch with the ``scratch`` base): three conv-BN-ReLU-
  pool blocks (16, 32, 64 channels) on 32x32 inputs, every algorithm trains all of it.
- Alignment weights: each weight of the algorithm's default grid is a separate run, and the
  unsupervised criterion (source validation accuracy + target information maximisation) picks
  one per seed, exactly as ``adapt`` does with the whole grid. The table reports the picked run;
  the JSON also has every weight's accuracy, to judge the criterion.
- Oracle: 2-fold on the target (train on one stratified half of its labels, score the other,
  both ways), so every target example is scored by a model that did not see its label.
- Pixels: logistic regression on 28x28 pixels in [0, 1] (digits upscaled bicubically or framed),
  the issue's reference measurement.

- One torch thread: on two cores shared with other jobs, two threads made the CNN's steps 10-20x
  slower (oversubscription), one thread is faster for everything here.

    .venv/bin/python bench/adapt.py [--seeds 0 1 2] [--backbones small-cnn efficientnet-lite0]

Writes ``bench/results/adapt.json`` after every setting (a rerun resumes from it; runs for
different backbones may go in parallel processes, they merge their records) and prints the
Markdown tables quoted in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image
from sklearn.linear_model import LogisticRegression
from torch import Tensor, nn

import headstart
from headstart.adapt import ALGORITHMS, adapt
from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots, stratified_split
from headstart.data.transforms import frame_like_mnist
from headstart.zoo.image import ImageBackbone
from headstart.zoo.registry import register_backbone

RESULTS = Path(__file__).parent / "results" / "adapt.json"
DIRECTIONS = (("mnist5k", "digits"), ("digits", "mnist5k"))
VIEWS = ("upscaled", "framed")
ALIGNERS = ("dann", "cdan", "mmd", "coral")


class SmallCNN(ImageBackbone):
    """Three conv(3x3)-BatchNorm-ReLU-maxpool blocks on 32x32 RGB, 64-d features (no pre-training)."""

    learning_rates = {"finetune": 3e-4, "lora": 1e-3, "scratch": 2e-3}  # EfficientNet-Lite's
    resolution = 32

    def __init__(self) -> None:
        super().__init__()
        self.name, self.weights_hash, self.feature_dim = "small-cnn", "random-initialisation", 64

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

        self.groups = nn.ModuleList([block(3, 16), block(16, 32), block(32, 64)])

    def transform(self, images: Sequence[Image.Image]) -> Tensor:
        side = (self.resolution, self.resolution)
        pixels = np.stack([np.asarray(image.resize(side, Image.Resampling.BILINEAR)) for image in images])
        return (torch.from_numpy(pixels).permute(0, 3, 1, 2).float() - 127.5) / 127.5

    def pool(self, state: Tensor) -> Tensor:
        return state.mean(dim=(2, 3))

    def preprocessing_config(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "interpolation": "bilinear"}


register_backbone(
    "small-cnn", family=SmallCNN, source="random initialisation (bench/adapt.py)", installed=lambda: True,
    feature_dim=64, num_params=sum(p.numel() for p in SmallCNN().parameters()), description="bench-only CNN",
)(SmallCNN)

# What each backbone runs: (row label, adaptation method, base method); plus shared options.
SETUPS: dict[str, dict[str, Any]] = {
    "efficientnet-lite0": {
        "per_class": 50,
        "options": {"backbone_options": {"resize": "stretch"}, "unfreeze": 2, "lr": 1e-3, "epochs": 3, "batch_size": 32, "selection_size": 500},
        "runs": [
            ("source-only (probe)", "source_only", "probe"),
            ("source-only (fine-tuned top)", "source_only", "finetune"),
            *[(name, name, "finetune") for name in ALIGNERS],
            ("self-training (probe)", "self_training", "probe"),
            ("adabn (probe)", "adabn", "probe"),
        ],
        "oracle": {"method": "probe"},
    },
    "small-cnn": {
        "per_class": 50,
        "options": {"epochs": 8, "batch_size": 32, "selection_size": 500},
        "runs": [
            ("source-only", "source_only", "scratch"),
            *[(name, name, "scratch") for name in ALIGNERS],
            ("self-training", "self_training", "scratch"),
            ("adabn", "adabn", "scratch"),
        ],
        "oracle": {"method": "scratch", "epochs": 8, "batch_size": 32},
    },
}


def domains(per_class: int) -> dict[str, dict[str, Dataset]]:
    mnist = sample_shots(load_dataset("mnist5k"), per_class, seed=0)
    digits = sample_shots(load_dataset("digits"), per_class, seed=0)
    mnist.name, digits.name = "mnist5k", "digits"
    return {"upscaled": {"mnist5k": mnist, "digits": digits}, "framed": {"mnist5k": mnist, "digits": frame_like_mnist(digits)}}


def run_adaptation(
    backbone: str, setup: dict[str, Any], label: str, method: str, base: str, source: Dataset, target: Dataset, seed: int
) -> list[dict[str, Any]]:
    """One record per run: every weight of an alignment method's grid separately, else one run."""
    weights = ALGORITHMS[method].weights or (None,)
    records = []
    for weight in weights:
        started = time.perf_counter()
        options = {**{k: v for k, v in setup["options"].items() if k != "unfreeze" or base == "finetune"}, "base": base, "seed": seed}
        if weight is not None:
            options["weights"] = [weight]
        model = adapt(source, target, backbone=backbone, method=method, **options)
        a = model.info["adaptation"]
        records.append({
            "label": label, "method": method, "base": base, "weight": weight,
            "target_accuracy": a["target_accuracy"]["after"], "probe_target_accuracy": a["target_accuracy"]["before"],
            "selection": a["selection"], "chosen": a["chosen"], "candidates": a["candidates"],
            "proxy_a_distance": a["proxy_a_distance"], "seconds": time.perf_counter() - started,
        })
    return records


def oracle(backbone: str, setup: dict[str, Any], target: Dataset, seed: int) -> float:
    """Target accuracy of the architecture trained on target labels, 2-fold (each half scored by the
    model trained on the other half)."""
    options = {k: v for k, v in setup["oracle"].items() if k != "method"}
    if "backbone_options" in setup["options"]:
        options["backbone_options"] = setup["options"]["backbone_options"]
    first, second = stratified_split(target, 0.5, seed=seed)
    correct = 0.0
    for train, test in ((first, second), (second, first)):
        model = headstart.fit(train, backbone=backbone, method=setup["oracle"]["method"], seed=seed, **options)
        correct += model.evaluate(test)["accuracy"] * len(test)
    return correct / len(target)


def pixels(source: Dataset, target: Dataset) -> float:
    """Logistic regression on 28x28 pixels: source-only target accuracy."""

    def matrix(data: Dataset) -> np.ndarray:
        images = [np.asarray(Image.fromarray(x).resize((28, 28), Image.Resampling.BICUBIC)) for x in data.inputs]
        return np.stack(images).reshape(len(data), -1) / 255.0

    classifier = LogisticRegression(max_iter=500).fit(matrix(source), source.labels)
    return float(classifier.score(matrix(target), target.labels))


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and std of target accuracy per (backbone, direction, view, row), the criterion's pick
    among an alignment method's weights, and the share of the source-only -> oracle gap closed."""
    summary: dict[str, Any] = {}
    keys = sorted({(r["backbone"], r["direction"], r["view"]) for r in records})
    for backbone, direction, view in keys:
        group = [r for r in records if (r["backbone"], r["direction"], r["view"]) == (backbone, direction, view)]
        rows: dict[str, list[float]] = {}
        hindsight: dict[str, list[float]] = {}
        for seed in sorted({r["seed"] for r in group}):
            by_label: dict[str, list[dict[str, Any]]] = {}
            for r in group:
                if r["seed"] == seed:
                    by_label.setdefault(r["label"], []).append(r)
            for label, runs in by_label.items():
                picked = max(runs, key=lambda r: r.get("selection", {}).get("selection_score", 0.0))
                rows.setdefault(label, []).append(picked["target_accuracy"])
                hindsight.setdefault(label, []).append(max(r["target_accuracy"] for r in runs))
        table = {label: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(v)} for label, v in rows.items()}
        methods = [label for label in table if not label.startswith(("source-only", "oracle", "pixels"))]
        baseline = max(table[label]["mean"] for label in table if label.startswith("source-only"))
        best = max(methods, key=lambda label: table[label]["mean"]) if methods else None
        gap = table["oracle"]["mean"] - baseline if "oracle" in table else float("nan")
        summary.setdefault(backbone, {}).setdefault(direction, {})[view] = {
            "accuracy": table,
            "best_weight_in_hindsight": {k: float(np.mean(v)) for k, v in hindsight.items() if k in ALIGNERS},
            "best_method": best,
            "gap_closed": (table[best]["mean"] - baseline) / gap if best and gap > 0 else None,
        }
    return summary


def framing_gains(summary: dict[str, Any]) -> dict[str, Any]:
    """Framing counted as part of the method: the best framed-view row against the *upscaled*
    source-only baseline, as a share of the gap to the (framed-view) oracle."""
    gains: dict[str, Any] = {}
    for backbone, by_direction in summary.items():
        for direction, views in by_direction.items():
            if not set(VIEWS) <= set(views):
                continue
            upscaled, framed = views["upscaled"]["accuracy"], views["framed"]["accuracy"]
            baseline = max(a["mean"] for label, a in upscaled.items() if label.startswith("source-only"))
            best = views["framed"]["best_method"]
            gap = framed["oracle"]["mean"] - baseline
            gains.setdefault(backbone, {})[direction] = {
                "upscaled_source_only": baseline, "framed_best": best, "framed_best_accuracy": framed[best]["mean"],
                "framed_oracle": framed["oracle"]["mean"], "gap_closed": (framed[best]["mean"] - baseline) / gap,
            }
    return gains


def criterion_agreement(records: list[dict[str, Any]]) -> dict[str, float]:
    """Per alignment method, how often the selection criterion's weight was also the most accurate
    one on the target, and the mean accuracy lost by trusting it instead of the target labels."""
    agreement: dict[str, list[float]] = {}
    loss: dict[str, list[float]] = {}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("method") in ALIGNERS:
            groups.setdefault((r["backbone"], r["direction"], r["view"], r["seed"], r["method"]), []).append(r)
    for key, runs in groups.items():
        picked = max(runs, key=lambda r: r["selection"]["selection_score"])["target_accuracy"]
        best = max(r["target_accuracy"] for r in runs)
        agreement.setdefault(key[4], []).append(float(picked == best))
        loss.setdefault(key[4], []).append(best - picked)
    return {m: {"picked_the_best": float(np.mean(agreement[m])), "mean_accuracy_lost": float(np.mean(loss[m]))} for m in agreement}


def markdown(summary: dict[str, Any]) -> str:
    lines = []
    for backbone, by_direction in summary.items():
        columns = [(d, v) for d in by_direction for v in VIEWS if v in by_direction[d]]
        labels = list(next(iter(next(iter(by_direction.values())).values()))["accuracy"])
        lines += [f"**{backbone}**: target accuracy, mean ± std over seeds", ""]
        seeds = [by_direction[d][v]["accuracy"]["oracle"]["n"] for d, v in columns]
        lines.append("| | " + " | ".join(f"{d} ({v}, {n} seed{'s' * (n > 1)})" for (d, v), n in zip(columns, seeds)) + " |")
        lines.append("|---" * (len(columns) + 1) + "|")
        for label in labels:
            cells = []
            for d, v in columns:
                a = by_direction[d][v]["accuracy"].get(label)
                cells.append(f"{100 * a['mean']:.1f} ± {100 * a['std']:.1f}" if a else "")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        gaps = [by_direction[d][v]["gap_closed"] for d, v in columns]
        lines.append("| *gap closed by the best* | " + " | ".join(
            f"{100 * g:.0f} % ({by_direction[d][v]['best_method']})" if g is not None else "" for g, (d, v) in zip(gaps, columns)
        ) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--backbones", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--targets", nargs="+", default=[t for _, t in DIRECTIONS], help="Target domains to run (one direction each).")
    parser.add_argument("--views", nargs="+", default=list(VIEWS), choices=list(VIEWS))
    parser.add_argument("--report-only", action="store_true", help="Only re-summarise the saved runs and print the tables.")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where runs are saved (another file: a rerun to compare)")
    args = parser.parse_args()
    RESULTS = args.results
    if args.report_only:
        _save([], started="")
        print(markdown(summarise(_saved_runs())))
        return
    torch.set_num_threads(1)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for backbone in args.backbones:
        setup = SETUPS[backbone]
        views = domains(setup["per_class"])
        for source_name, target_name in [d for d in DIRECTIONS if d[1] in args.targets]:
            for view in args.views:
                source, target = views[view][source_name], views[view][target_name]
                setting = {"backbone": backbone, "direction": f"{source_name} -> {target_name}", "view": view}
                for seed in args.seeds:
                    if _key({**setting, "seed": seed}) in {_key(r) for r in _saved_runs()}:  # done, maybe by another process
                        continue
                    runs = [
                        r for label, method, base in setup["runs"]
                        for r in run_adaptation(backbone, setup, label, method, base, source, target, seed)
                    ]
                    runs.append({"label": "oracle", "target_accuracy": oracle(backbone, setup, target, seed)})
                    runs.append({"label": "pixels (logistic regression)", "target_accuracy": pixels(source, target)})
                    _save([{**setting, "seed": seed, **r} for r in runs], started)
                    print(f"{backbone} {setting['direction']} {view} seed {seed}: done", flush=True)
    print(markdown(summarise(_saved_runs())))


def _key(record: dict[str, Any]) -> tuple[str, str, str, int]:
    return record["backbone"], record["direction"], record["view"], record["seed"]


def _saved_runs() -> list[dict[str, Any]]:
    return json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []


def _save(new: list[dict[str, Any]], started: str) -> None:
    """Merge ``new`` records into the results file (under a lock: backbones may run in parallel)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = {_key(r) for r in new}
        records = [r for r in _saved_runs() if _key(r) not in keys] + new
        saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        result = {
            "machine": {"logical_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                        "torch": torch.__version__, "started": started or saved.get("machine", {}).get("started"),
                        "load_average": list(os.getloadavg())},
            "setups": SETUPS,
            "summary": summarise(records),
            "framing_as_part_of_the_method": framing_gains(summarise(records)),
            "selection_criterion_vs_target_labels": criterion_agreement(records),
            "runs": records,
        }
        staged = RESULTS.with_suffix(".tmp")
        staged.write_text(json.dumps(result, indent=1))
        os.replace(staged, RESULTS)


if __name__ == "__main__":
    main()
