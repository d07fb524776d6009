"""Benchmark federated transfer learning (Flower) against each client alone and centralised training.

A catalogue text set is pooled (train and test), partitioned over 5 clients (iid, Dirichlet 1.0
and 0.1 class skew; ``headstart.federated.partition``), and each client's share split 80/20 into
its own training and test examples. Every setting trains the same method with the same budget
of local epochs (``rounds x epochs``) and is scored on every client's test examples (mean and
worst client accuracy):

- alone: each client trains on its own data only and is scored on its own test examples;
- FedAvg / FedProx (mu 0.01) / FedAvgM (server momentum 0.9): Flower's strategies over ``rounds``
  rounds of ``epochs`` local epochs, the global model scored on every client's test examples;
- centralised: one model on the pooled training data of all clients (the upper bound).

Methods: the head only (``probe``: the linear head trained by gradient on cached MiniLM features,
bbc_news, 5 topics), LoRA (adapters + head, on a 1500-sentence sample of rotten_tomatoes:
short texts, so that backward passes through MiniLM fit the CPU budget), and the head only on
images (``probe-images``: EfficientNet-Lite0 features of scikit-learn's digits, 10 classes). Bytes are those Flower
serialised per round (to and from the clients) against the whole model's size.

LoRA's federation variants (``--only lora-la`` / ``--only lora-ffa``, with ``--lora-seeds``): the
federated rows only, on the same data, partitions and seeds as ``lora`` (whose alone and
centralised rows they are compared with): ``lora-la`` has the clients train with the
logit-adjusted loss of their own label prior and one learning-rate schedule over all rounds
(``logit_adjust``, ``global_schedule``) and LoRA's A frozen (``lora_freeze_a``: FFA-LoRA);
``lora-ffa`` freezes A only. ``--strategies fedadam`` adds Flower's FedAdam.

    OMP_NUM_THREADS=1 .venv/bin/python bench/federated.py [--seeds 0 1 2] [--lora-seeds 0]
    OMP_NUM_THREADS=1 .venv/bin/python bench/federated.py --privacy   # -> bench/results/federated_privacy.json

``--privacy``: the head-only FedAvg run (bbc_news, iid, 5 clients, 10 rounds) with Flower's central
differential privacy (``--dp-noise``: updates clipped to ``PRIVACY_CLIP``, Gaussian noise
``z * clip / 5`` on each aggregate) for the noise multipliers ``PRIVACY_NOISE``, against no DP.

Writes ``bench/results/federated.json`` after every setting and prints the Markdown table quoted
in ``docs/federated.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data import load_data
from headstart.data.dataset import Dataset
from headstart.federated.partition import partition
from headstart.federated.simulation import simulate
from headstart.fitted import Transferred
from headstart.recipe import Recipe

OUT = Path(__file__).parent / "results" / "federated.json"
PRIVACY_OUT = OUT.with_name("federated_privacy.json")
PRIVACY_CLIP, PRIVACY_NOISE = 1.0, (0.1, 0.3, 1.0, 3.0)
CLIENTS = 5
STRATEGIES = ["fedavg", "fedprox", "fedavgm", "fedadam"]
DEFAULT_STRATEGIES = STRATEGIES[:3]
ALL = ["iid", "dirichlet:1.0", "dirichlet:0.1"]
SKEWED = ALL[1:]
SETUPS = {  # setup -> (dataset, sample size or None, recipe options, rounds, local epochs, partitions, federation options)
    "probe": ("bbc_news", None, {"head_lr": 1e-2}, 10, 1, ALL, {}),
    "lora": ("rotten_tomatoes", 1500, {"lora_groups": 2}, 10, 1, ALL, {}),
    "lora-ffa": ("rotten_tomatoes", 1500, {"lora_groups": 2, "lora_freeze_a": True}, 10, 1, SKEWED, {}),
    "lora-la": ("rotten_tomatoes", 1500, {"lora_groups": 2, "lora_freeze_a": True}, 10, 1, SKEWED,
                {"logit_adjust": True, "global_schedule": True}),
    "probe-images": ("digits", None, {"head_lr": 1e-2, "backbone": "efficientnet-lite0"}, 10, 1, ALL, {}),
}
VARIANTS = ["lora-ffa", "lora-la"]  # LoRA's federation variants: their federated rows only (--lora-seeds), against lora's controls


def method_of(setup: str) -> str:
    """The headstart method a setup trains (``probe-images``: the probe; ``lora-ffa``: LoRA with A frozen)."""
    return setup.split("-")[0]


def client_splits(pool: Dataset, scheme: str, seed: int) -> list[tuple[Dataset, Dataset]]:
    """``pool`` partitioned over the clients, each share split 80/20 at random into (train, test)."""
    rng = np.random.default_rng(seed)
    splits = []
    for part in partition(pool, CLIENTS, scheme, seed=seed):
        order = rng.permutation(len(part))
        cut = max(1, int(0.8 * len(part)))
        splits.append((part.subset(np.sort(order[:cut])), part.subset(np.sort(order[cut:]))))
    return splits


def scores(model: Transferred, tests: list[Dataset]) -> list[float]:
    return [float(model.evaluate(t)["accuracy"]) for t in tests]


def pooled(parts: list[Dataset]) -> Dataset:
    first = parts[0]
    return Dataset([x for p in parts for x in p.inputs], np.concatenate([p.labels for p in parts]), first.classes,
                   first.modality, name="pooled")


def record(name: str, accuracies: list[float], seconds: float, global_accuracy: list[float] | None = None,
           **extra: Any) -> dict[str, Any]:
    """A setting's row: accuracy on each client's own test examples (mean, worst, each) and, with
    ``global_accuracy`` (one score per model), the mean on the pooled test examples of all clients."""
    row = {"setting": name, "mean_accuracy": float(np.mean(accuracies)), "worst_accuracy": float(np.min(accuracies)),
           "client_accuracy": accuracies, "seconds": round(seconds, 1), **extra}
    if global_accuracy is not None:
        row |= {"global_accuracy": float(np.mean(global_accuracy)), "global_accuracy_each": global_accuracy}
    return row


def bench(method: str, scheme: str, seed: int, strategies: list[str] = DEFAULT_STRATEGIES, controls: bool = True) -> list[dict[str, Any]]:
    """The rows of one setup, partition and seed: each client alone and centralised (``controls``)
    and the federated ``strategies``."""
    data, sample, options, rounds, epochs, _, federation = SETUPS[method]
    pool = load_data(data)
    if sample:
        pool = pool.subset(np.sort(np.random.default_rng(0).permutation(len(pool))[:sample]), name=data)
    splits = client_splits(pool, scheme, seed)
    trains, tests = [s[0] for s in splits], [s[1] for s in splits]
    every = pooled(tests)
    budget = Recipe.build(method=method_of(method), seed=seed, epochs=rounds * epochs, **options)
    per_round = Recipe.build(method=method_of(method), seed=seed, epochs=epochs, **options)
    rows = []
    if controls:
        start = time.perf_counter()
        alone = [simulate([train], budget, rounds=1) for train in trains]
        rows.append(record("alone", [scores(m, [t])[0] for m, t in zip(alone, tests)], time.perf_counter() - start, rounds=0,
                           bytes_per_round=0, global_accuracy=[scores(m, [every])[0] for m in alone]))
    for strategy in strategies:
        start = time.perf_counter()
        model = simulate(trains, per_round, rounds=rounds, strategy=strategy, mu=0.01, **federation)
        fed = model.info["federated"]
        sent = fed["rounds"][-1]["bytes_sent"] + fed["rounds"][-1]["bytes_received"]
        rows.append(record(strategy, scores(model, tests), time.perf_counter() - start, rounds=rounds, bytes_per_round=sent,
                           global_accuracy=scores(model, [every]),
                           model_bytes=fed["model_bytes"], trainable_share=fed["trainable_share"]))
    if controls:
        start = time.perf_counter()
        central = simulate([pooled(trains)], budget, rounds=1)
        rows.append(record("centralised", scores(central, tests), time.perf_counter() - start, rounds=0, bytes_per_round=0,
                           global_accuracy=scores(central, [every])))
    meta = {"method": method, "data": data, "partition": scheme, "seed": seed, "clients": CLIENTS,
            "client_train_sizes": [len(t) for t in trains], "local_epochs": epochs}
    return [{**meta, **row} for row in rows]


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| method | partition | setting | mean acc | worst acc | global acc | bytes/round (5 clients, both ways) | one update / model | seconds | seeds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["method"], r["partition"], r["setting"]) for r in results},
                  key=lambda k: (k[0], k[1], ["alone", *STRATEGIES, "centralised"].index(k[2])))
    for method, scheme, setting in keys:
        rows = [r for r in results if (r["method"], r["partition"], r["setting"]) == (method, scheme, setting)]
        mean = np.array([r["mean_accuracy"] for r in rows]) * 100
        worst = np.array([r["worst_accuracy"] for r in rows]) * 100
        pooled_acc = [r["global_accuracy"] * 100 for r in rows if "global_accuracy" in r]
        global_ = f"{np.mean(pooled_acc):.1f}" if pooled_acc else "-"
        bytes_ = rows[0]["bytes_per_round"]
        share = f"{rows[0]['trainable_share'] * 100:.3f} %" if bytes_ else "-"
        lines.append(f"| {method} | {scheme} | {setting} | {mean.mean():.1f} ± {mean.std():.1f} | {worst.mean():.1f} | {global_} | "
                     f"{bytes_ / 1e3:,.0f} kB | {share} | {np.mean([r['seconds'] for r in rows]):.0f} | {len(rows)} |")
    return "\n".join(lines)


def privacy(seeds: list[int]) -> None:
    """Accuracy of head-only FedAvg against the noise multiplier of central DP (``--privacy``)."""
    data, _, options, rounds, epochs, _, _ = SETUPS["probe"]
    pool = load_data(data)
    rows = []
    for seed in seeds:
        splits = client_splits(pool, "iid", seed)
        trains, tests = [s[0] for s in splits], [s[1] for s in splits]
        per_round = Recipe.build(method="probe", seed=seed, epochs=epochs, **options)
        for noise in (None, *PRIVACY_NOISE):
            start = time.perf_counter()
            model = simulate(trains, per_round, rounds=rounds, dp_noise=noise, dp_clip=PRIVACY_CLIP)
            rows.append(record("fedavg" if noise is None else f"fedavg, DP z={noise:g}", scores(model, tests),
                               time.perf_counter() - start, seed=seed, privacy=model.info["federated"]["privacy"]))
            print(rows[-1]["setting"], f"seed {seed}: mean {rows[-1]['mean_accuracy']:.3f}", flush=True)
            PRIVACY_OUT.write_text(json.dumps({"data": data, "partition": "iid", "clients": CLIENTS, "rounds": rounds,
                                               "clip": PRIVACY_CLIP, "results": rows}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lora-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--image-seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--only", choices=sorted(SETUPS), help="run one setup, merged into the results file")
    parser.add_argument("--privacy", action="store_true", help="only the differential-privacy sweep")
    parser.add_argument("--out", type=Path, default=OUT, help="results file (a run per seed in parallel: one file each, "
                        "then --merge)")
    parser.add_argument("--merge", type=Path, nargs="+", help="only merge these results files into --out and print the table")
    parser.add_argument("--strategies", nargs="+", default=DEFAULT_STRATEGIES, choices=STRATEGIES, help="federated strategies to run")
    parser.add_argument("--no-controls", action="store_true", help="skip alone and centralised (already in a file to --merge)")
    parser.add_argument("--partitions", nargs="+", help="only these partitions (e.g. iid dirichlet:0.1)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.privacy:
        privacy(args.seeds)
        return
    if args.merge:
        merged = [json.loads(p.read_text()) for p in args.merge]
        runs = {(r["method"], r["partition"], r["seed"], r["setting"]): r for m in merged for r in m["results"]}
        args.out.write_text(json.dumps({**merged[0], "total_seconds": sum(m["total_seconds"] for m in merged),
                                        "results": list(runs.values())}, indent=1))
        print(table(list(runs.values())))
        return
    results: list[dict[str, Any]] = []
    if args.only and args.out.exists():  # keep the other setups' rows
        results = [r for r in json.loads(args.out.read_text())["results"] if r["method"] != args.only]
    started = time.perf_counter()
    jobs = [("probe", s, seed) for seed in args.seeds for s in SETUPS["probe"][5]]
    jobs += [("lora", s, seed) for seed in args.lora_seeds for s in SETUPS["lora"][5]]
    jobs += [(v, s, seed) for v in VARIANTS if args.only == v for seed in args.lora_seeds for s in SETUPS[v][5]]
    jobs += [("probe-images", s, seed) for seed in args.image_seeds for s in SETUPS["probe-images"][5]]
    jobs = [job for job in jobs if args.only in (None, job[0]) and (not args.partitions or job[1] in args.partitions)]
    for method, scheme, seed in jobs:
        results += bench(method, scheme, seed, args.strategies, controls=not args.no_controls and method not in VARIANTS)
        args.out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "torch_threads": 1,
                                   "total_seconds": round(time.perf_counter() - started), "results": results}, indent=1))
        print(f"{method} {scheme} seed {seed} done at {time.perf_counter() - started:.0f} s", flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
