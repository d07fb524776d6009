"""What adaptation costs next to plain fine-tuning (issue 13, first target).

600 labelled Rotten Tomatoes training snippets (the source) and 600 unlabelled test snippets (the
target), MiniLM-L6 with its top 2 layer groups trained, texts up to 256 tokens: ``headstart.fit(...,
method="finetune", unfreeze=2)`` on the 600 labelled texts alone, then ``adapt`` with every
algorithm at its defaults (each alignment weight of the default grid is a separate run, selected
without target labels). The frozen prefix's states are cached by a first, untimed call, so every
timed run starts from the same warm cache. AdaBN needs BatchNorm, so it runs on images
(``--cases images``): 300 MNIST digits (source) and 300 scikit-learn digits framed like MNIST
(target) through EfficientNet-Lite0, every cache empty, next to the linear probe on the 300 source
images alone. The target's labels only report accuracy (``adapt`` never trains on them). Time is this process's CPU time on one thread (robust to other jobs on the machine;
wall time is stored too). Writes ``bench/results/adapt_speed.json`` (each case replaces its rows).

    OMP_NUM_THREADS=1 .venv/bin/python bench/adapt_speed.py [--cases text images]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import headstart
from headstart.adapt import ALGORITHMS, adapt
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.data.transforms import frame_like_mnist
from headstart.errors import HeadstartError

RESULTS = Path(__file__).parent / "results" / "adapt_speed.json"
OPTIONS = {"backbone": "minilm-l6", "unfreeze": 2, "backbone_options": {"max_length": 256}, "seed": 0}
TARGETS = {"dann": 1.5, "cdan": 1.5, "mmd": 1.5, "coral": 1.5, "self_training": 3.0}


def timed(call) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def text_runs() -> dict[str, dict]:
    """finetune and every algorithm on the 600 + 600 texts (prefix states cached first)."""
    source = sample_shots(load_dataset("rotten_tomatoes", "train"), 300, seed=0)
    target = sample_shots(load_dataset("rotten_tomatoes", "test"), 300, seed=0)
    headstart.fit(source, method="finetune", epochs=1, **OPTIONS)  # fills the prefix-state cache (untimed)
    adapt(source, target, method="dann", weights=[1.0], epochs=1, **OPTIONS)
    cpu, wall, model = timed(lambda: headstart.fit(source, method="finetune", **OPTIONS))
    runs = {"finetune": {"cpu_seconds": cpu, "wall_seconds": wall, "epochs": model.info["epochs"], "n_train": len(source),
                         "target_accuracy": model.evaluate(target)["accuracy"]}}
    print("finetune", runs["finetune"], flush=True)
    for name in ALGORITHMS:
        if name == "source_only":
            continue
        try:
            cpu, wall, model = timed(lambda: adapt(source, target, method=name, **OPTIONS))  # labels: reported only
        except HeadstartError as exc:
            runs[name] = {"not_applicable": str(exc)}
        else:
            candidates = model.info["adaptation"].get("candidates", [])
            runs[name] = {"cpu_seconds": cpu, "wall_seconds": wall, "vs_finetune": cpu / runs["finetune"]["cpu_seconds"],
                          "target_at_most": TARGETS.get(name), "runs": len(candidates) or None,
                          "epochs_run": [c.get("epochs_run") for c in candidates if "epochs_run" in c] or None,
                          "target_accuracy": model.info["adaptation"]["target_accuracy"]["after"]}
        print(name, runs[name], flush=True)
    return runs


def image_runs() -> dict[str, dict]:
    """AdaBN (probe base) on 300 + 300 digit images against the probe on the 300 source images,
    each with an empty feature cache."""
    source = sample_shots(load_dataset("mnist5k"), 30, seed=0)
    target = sample_shots(frame_like_mnist(load_dataset("digits")), 30, seed=0)
    options = {"backbone": "efficientnet-lite0", "backbone_options": {"resize": "stretch"}, "seed": 0}
    runs = {}
    for name, call in (("probe_images", lambda: headstart.fit(source, method="probe", **options)),
                       ("adabn_images", lambda: adapt(source, target, method="adabn", **options))):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["HEADSTART_CACHE"] = cache
            cpu, wall, model = timed(call)
            if name == "probe_images":  # untimed: the source-only probe on the target
                accuracy = model.evaluate(target)["accuracy"]
            else:
                accuracy = model.info["adaptation"]["target_accuracy"]["after"]
        runs[name] = {"cpu_seconds": cpu, "wall_seconds": wall, "source": len(source), "target": len(target) if "adabn" in name else 0,
                      "target_accuracy": accuracy}
        if name == "adabn_images":
            runs[name]["vs_probe"] = cpu / runs["probe_images"]["cpu_seconds"]
        print(name, runs[name], flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=["text", "images"], default=["text", "images"])
    cases = parser.parse_args().cases
    torch.set_num_threads(1)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = previous.get("runs", {})
    if "text" in cases:
        runs = {k: v for k, v in runs.items() if k.endswith("_images")} | text_runs()
    if "images" in cases:
        runs |= image_runs()
    RESULTS.write_text(json.dumps({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
                                              "torch 1 thread, CPU time", "source": 600, "target": 600,
                                   "options": OPTIONS, "runs": runs}, indent=1))
    print("| method | CPU s | x finetune | target |\n|---|---|---|---|")
    for name, run in runs.items():
        if "vs_finetune" in run or name == "finetune":
            print(f"| {name} | {run['cpu_seconds']:.0f} | {run['cpu_seconds'] / runs['finetune']['cpu_seconds']:.2f} | "
                  f"{'≤ %.1fx' % TARGETS[name] if name in TARGETS else ''} |")
        elif "cpu_seconds" in run:
            print(f"| {name} | {run['cpu_seconds']:.0f} | | |")
        else:
            print(f"| {name} | n/a: {run['not_applicable']} | | |")


if __name__ == "__main__":
    main()
