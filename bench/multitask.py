"""Benchmark multi-task learning: two tasks trained jointly on one backbone vs each task alone.

(a) Text, MiniLM-L6, ``finetune`` of the top 2 encoder layers (frozen prefix cached, heads
    started from the probe): Rotten Tomatoes sentiment + BBC News topics, K = 16 and 64
    examples per class, seeds 0, 1, 2. Token windows are cut to 128 for speed (BBC articles are
    long; the topic shows in the first paragraph). Test: BBC News's 445 test articles and 1,000
    Rotten Tomatoes test snippets (random, seed 0).
(b) Images, EfficientNet-Lite0 frozen (pooled features cached), a shared hidden layer of 256
    units then one linear head per task: MNIST-5k + scikit-learn digits (same ten classes,
    different writers and resolutions), K = 16 and 64 per class, seeds 0, 1, 2; test: their
    fixed test splits (1,000 and 360 images). The closed-form probe per task is the reference.

Every configuration trains with the same recipe; "alone" is the same run with one task. Joint
runs use proportional sampling with fixed weights, and temperature sampling (T = 2) with
uncertainty weighting. Writes ``bench/results/multitask.json`` and prints the Markdown table
quoted in ``docs/benchmarks.md``.

    .venv/bin/python -P bench/multitask.py [--seeds 3] [--shots 16 64]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots
from headstart.features import extract_states
from headstart.multitask import MultiTaskTransferred, TaskSpec, fit_multitask

RESULTS = Path(__file__).parent / "results" / "multitask.json"
TEXT = {"sentiment": "rotten_tomatoes", "topic": "bbc_news"}
IMAGES = {"mnist": "mnist5k", "digits": "digits"}
TEXT_RECIPE = {"backbone": "minilm-l6", "method": "finetune", "unfreeze": 2, "backbone_options": {"max_length": 128}}
IMAGE_RECIPE = {"backbone": "efficientnet-lite0", "method": "probe", "hidden": 256}
JOINT = {"joint": {}, "joint, T=2 + uncertainty": {"sampling": "temperature", "weighting": "uncertainty"}}


def prefix_accuracy(fitted: MultiTaskTransferred, task: str, test: Dataset) -> float:
    """Test accuracy computed from the cached frozen prefix (only the fine-tuned top groups run)."""
    net, head = fitted.model.backbone, fitted.model.head.task_head(task)
    start = fitted.method.first_trainable(net.num_groups)
    states = extract_states(net, test, start - 1, progress=False)
    predictions = []
    with torch.inference_mode():
        for i in range(0, len(states), 64):
            features = net.pool(net.forward_groups(net.merge_states(states[i: i + 64]), start))
            predictions.append(head(features).argmax(1).numpy())
    return float((np.concatenate(predictions) == test.labels).mean())


def accuracy(fitted: MultiTaskTransferred, task: str, test: Dataset) -> float:
    if fitted.method.trains:
        return prefix_accuracy(fitted, task, test)
    return fitted.evaluate(test, task=task)["accuracy"]


def compare(names: dict[str, str], recipe: dict[str, Any], tests: dict[str, Dataset], shots: list[int], seeds: int,
            reference: dict[str, Any] | None) -> dict[str, Any]:
    """Per K and configuration: each seed's test accuracy per task (alone, joint variants, reference)."""
    trains = {task: load_dataset(dataset, "train") for task, dataset in names.items()}
    results: dict[str, Any] = {}
    for k in shots:
        runs: dict[str, dict[str, list[float]]] = {}
        for seed in range(seeds):
            data = {task: sample_shots(train, k, seed=seed) for task, train in trains.items()}
            configs = {"alone": None, **JOINT, **({"probe per task (reference)": reference} if reference is not None else {})}
            for config, options in configs.items():
                started = time.perf_counter()
                if config == "alone":
                    fitted = {task: fit_multitask([TaskSpec(task, data[task])], seed=seed, **recipe) for task in names}
                else:
                    joint = fit_multitask([TaskSpec(t, d) for t, d in data.items()], seed=seed, **{**recipe, **options})
                    fitted = dict.fromkeys(names, joint)
                for task in names:
                    runs.setdefault(config, {}).setdefault(task, []).append(accuracy(fitted[task], task, tests[task]))
                print(f"K={k} seed={seed} {config}: {time.perf_counter() - started:.0f} s", flush=True)
        results[str(k)] = runs
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = ["| backbone, tasks | K per class | task | alone | joint | Δ | joint, T=2 + uncertainty | Δ | probe per task |",
             "|---|---|---|---|---|---|---|---|---|"]
    for setting, by_k in results["settings"].items():
        for k, runs in by_k.items():
            for task in runs["alone"]:
                alone = np.mean(runs["alone"][task])
                cells = [f"{alone:.3f} ± {np.std(runs['alone'][task]):.3f}"]
                for config in JOINT:
                    acc = runs[config][task]
                    cells += [f"{np.mean(acc):.3f} ± {np.std(acc):.3f}", f"{np.mean(acc) - alone:+.3f}"]
                reference = runs.get("probe per task (reference)", {}).get(task)
                cells.append(f"{np.mean(reference):.3f}" if reference else "–")
                lines.append(f"| {setting} | {k} | {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SETTINGS = {
    "text": "minilm-l6 finetune top 2: sentiment + topic",
    "images": "efficientnet-lite0 frozen + shared 256 layer: mnist + digits",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 when another benchmark shares the 2 cores)")
    parser.add_argument("--shots", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # scikit-learn's notices about future defaults
    torch.set_num_threads(args.threads)
    rt_test = load_dataset("rotten_tomatoes", "test")
    text_tests = {"sentiment": rt_test.subset(np.sort(np.random.default_rng(0).permutation(len(rt_test))[:1000])),
                  "topic": load_dataset("bbc_news", "test")}
    image_tests = {task: load_dataset(dataset, "test") for task, dataset in IMAGES.items()}
    plans = {"text": (TEXT, TEXT_RECIPE, text_tests, None), "images": (IMAGES, IMAGE_RECIPE, image_tests, {"hidden": None})}
    for key in args.settings:
        names, recipe, tests, reference = plans[key]
        for k in args.shots:  # saved after each K: settings may run in parallel processes, and a long run keeps its part
            started = time.perf_counter()
            by_k = compare(names, recipe, tests, [k], args.seeds, reference)
            _save(SETTINGS[key], by_k, time.perf_counter() - started, args.seeds)
    print(markdown(json.loads(RESULTS.read_text())))


def _save(setting: str, by_k: dict[str, Any], seconds: float, seeds: int) -> None:
    """Merge one setting's results for one K into the results file (under a lock)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {
            "machine": {"platform": platform.platform(), "torch": torch.__version__},
            "seeds": seeds, "text_recipe": TEXT_RECIPE, "image_recipe": IMAGE_RECIPE, "joint_options": JOINT,
            "settings": {}, "seconds": {},
        }
        results["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        results["settings"].setdefault(setting, {}).update(by_k)
        results["seconds"][f"{setting}, K={next(iter(by_k))}"] = round(seconds)
        RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
