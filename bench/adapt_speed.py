"""What adaptation costs next to plain fine-tuning (issue 13, first target).

600 labelled Rotten Tomatoes training snippets (the source) and 600 unlabelled test snippets (the
target), MiniLM-L6 with its top 2 layer groups trained, texts up to 256 tokens: ``headstart.fit(...,
method="finetune", unfreeze=2)`` on the 600 labelled texts alone, then ``adapt`` with every
algorithm at its defaults (each alignment weight of the default grid is a separate run, selected
without target labels). The frozen prefix's states are cached by a first, untimed call, so every
timed run starts from the same warm cache. Time is this process's CPU time on one thread (robust
to other jobs on the machine; wall time is stored too). Writes ``bench/results/adapt_speed.json``.

    OMP_NUM_THREADS=1 .venv/bin/python bench/adapt_speed.py
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import headstart
from headstart.adapt import ALGORITHMS, adapt
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError

RESULTS = Path(__file__).parent / "results" / "adapt_speed.json"
OPTIONS = {"backbone": "minilm-l6", "unfreeze": 2, "backbone_options": {"max_length": 256}, "seed": 0}
TARGETS = {"dann": 1.5, "cdan": 1.5, "mmd": 1.5, "coral": 1.5, "self_training": 3.0}


def timed(call) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def main() -> None:
    torch.set_num_threads(1)
    source = sample_shots(load_dataset("rotten_tomatoes", "train"), 300, seed=0)
    target = sample_shots(load_dataset("rotten_tomatoes", "test"), 300, seed=0)
    headstart.fit(source, method="finetune", epochs=1, **OPTIONS)  # fills the prefix-state cache (untimed)
    adapt(source, target.without_labels(), method="dann", weights=[1.0], epochs=1, **OPTIONS)
    cpu, wall, model = timed(lambda: headstart.fit(source, method="finetune", **OPTIONS))
    runs = {"finetune": {"cpu_seconds": cpu, "wall_seconds": wall, "epochs": model.info["epochs"]}}
    print("finetune", runs["finetune"], flush=True)
    for name in ALGORITHMS:
        if name == "source_only":
            continue
        try:
            cpu, wall, model = timed(lambda: adapt(source, target.without_labels(), method=name, **OPTIONS))
        except HeadstartError as exc:
            runs[name] = {"not_applicable": str(exc)}
        else:
            runs[name] = {"cpu_seconds": cpu, "wall_seconds": wall, "vs_finetune": cpu / runs["finetune"]["cpu_seconds"],
                          "target_at_most": TARGETS.get(name), "runs": len(model.info["adaptation"].get("candidates", [])) or None}
        print(name, runs[name], flush=True)
    RESULTS.write_text(json.dumps({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
                                              "torch 1 thread, CPU time", "source": len(source), "target": len(target),
                                   "options": OPTIONS, "runs": runs}, indent=1))
    print("| method | CPU s | x finetune | target |\n|---|---|---|---|")
    for name, run in runs.items():
        if "cpu_seconds" in run:
            print(f"| {name} | {run['cpu_seconds']:.0f} | {run['cpu_seconds'] / runs['finetune']['cpu_seconds']:.2f} | "
                  f"{'≤ %.1fx' % TARGETS[name] if name in TARGETS else ''} |")
        else:
            print(f"| {name} | n/a: {run['not_applicable']} | | |")


if __name__ == "__main__":
    main()
