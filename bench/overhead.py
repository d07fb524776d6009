"""Fine-tuning overhead: headstart's ``finetune`` step against a bare PyTorch loop (issue 13).

Both train every layer group of the same pre-trained backbone plus a linear head with AdamW on
batches of the same size and shape, in one process, interleaved (bare, headstart, bare, headstart,
...): MiniLM-L6 on BBC News articles cut to 128 tokens (every article is longer, so every batch is
16 x 128) and EfficientNet-Lite0 on scikit-learn digits at 224 px (batch 32), BatchNorm statistics
updated in both (headstart's few-shot default would freeze them, which is less work). headstart's time is
the training part of each epoch (``info["history"][i]["train_cpu_seconds"]``: Lightning, the
method's hooks, layer-wise learning-rate groups, dropout seeding, data loading; not validation or
set-up); the bare loop's is measured the same way over the same number of batches. Both count CPU
time on one thread, not wall time: on a machine shared with other jobs wall time swings by 2x
between neighbouring runs, while the CPU time of a single-threaded process measures the work done.
The ratio is samples per CPU second of headstart over the bare loop, the median over the repeats
(wall-time ratios are stored too). Writes ``bench/results/overhead.json``.

    OMP_NUM_THREADS=1 .venv/bin/python bench/overhead.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.zoo import load_backbone

RESULTS = Path(__file__).parent / "results" / "overhead.json"
REPEATS = 3
CASES = {  # name: (backbone, options, dataset, per class, batch size)
    "minilm-l6 (batch 16, 128 tokens)": ("minilm-l6", {"max_length": 128}, "bbc_news", 16, 16),
    "efficientnet-lite0 (batch 32, 224 px)": ("efficientnet-lite0", {"resize": "stretch"}, "digits", 16, 32),
}


def bare_loop(backbone: str, options: dict, data, batch_size: int, lr: float) -> tuple[float, float, int]:
    """CPU and wall seconds for one epoch of forward, backward and AdamW step over ``data``, whole backbone trained."""
    net = load_backbone(backbone, **options)
    head = nn.Linear(net.feature_dim, len(data.classes))
    net.train()
    optimiser = torch.optim.AdamW([*net.parameters(), *head.parameters()], lr=lr)
    labels = torch.as_tensor(data.labels, dtype=torch.long)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0)).tolist()
    batches = [order[i : i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    cpu, wall = time.process_time(), time.perf_counter()
    for indices in batches:
        batch = net.prepare_inputs([data.inputs[i] for i in indices])
        loss = nn.functional.cross_entropy(head(net.forward_features(batch)), labels[indices])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return time.process_time() - cpu, time.perf_counter() - wall, len(batches)


def headstart_epoch(backbone: str, options: dict, data, batch_size: int, lr: float) -> tuple[float, float, int]:
    """The training CPU and wall seconds and batches of one headstart ``finetune`` epoch over ``data``."""
    groups = load_backbone(backbone, **options).num_groups
    model = headstart.fit(data, backbone=backbone, method="finetune", unfreeze=groups, epochs=1, lr=lr, head_lr=lr,
                          lr_decay=1.0, batch_size=batch_size, val_fraction=0.0, head_init="random", batchnorm="train",
                          backbone_options=options)
    row = model.info["history"][-1]
    return row["train_cpu_seconds"], row["train_seconds"], row["train_batches"]


def main() -> None:
    torch.set_num_threads(1)
    results = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                          f"{torch.get_num_threads()} threads", "repeats": REPEATS, "cases": {}}
    for name, (backbone, options, dataset, per_class, batch_size) in CASES.items():
        data = sample_shots(load_dataset(dataset, "train"), per_class, seed=0)
        lr = 1e-5
        headstart_epoch(backbone, options, sample_shots(data, 2, seed=1), batch_size, lr)  # warm-up (loading, caches)
        bare_loop(backbone, options, sample_shots(data, 2, seed=1), batch_size, lr)
        runs = []
        for _ in range(REPEATS):
            bare_cpu, bare_wall, bare_n = bare_loop(backbone, options, data, batch_size, lr)
            hs_cpu, hs_wall, hs_n = headstart_epoch(backbone, options, data, batch_size, lr)
            runs.append({"bare_samples_per_cpu_s": bare_n * batch_size / bare_cpu,
                         "headstart_samples_per_cpu_s": hs_n * batch_size / hs_cpu,
                         "wall_ratio": (hs_n / hs_wall) / (bare_n / bare_wall), "bare_batches": bare_n, "headstart_batches": hs_n})
            runs[-1]["ratio"] = runs[-1]["headstart_samples_per_cpu_s"] / runs[-1]["bare_samples_per_cpu_s"]
            print(name, json.dumps(runs[-1]), flush=True)
        results["cases"][name] = {"examples": len(data), "runs": runs,
                                  "median_ratio": statistics.median(r["ratio"] for r in runs), "target": 0.95}
    RESULTS.write_text(json.dumps(results, indent=1))
    print("| case | bare loop (samples per CPU s) | headstart finetune (samples per CPU s) | ratio (median of "
          f"{REPEATS}, target >= 0.95) |\n|---|---|---|---|")
    for name, case in results["cases"].items():
        bare = statistics.median(r["bare_samples_per_cpu_s"] for r in case["runs"])
        ours = statistics.median(r["headstart_samples_per_cpu_s"] for r in case["runs"])
        print(f"| {name} | {bare:.1f} | {ours:.1f} | {case['median_ratio']:.3f} |")


if __name__ == "__main__":
    main()
