"""How long ``headstart demo`` (the full one) takes, and what its budget buys: the fine-tuning
epochs before against the default now (the third variant repeats the second: it measures the
noise), each run in a fresh process with an empty
feature cache (what a new user meets), on the default dataset (bbc_news, 8 per class), seeds 0-2.

Per variant and seed: wall and CPU seconds of the whole demo, each run's accuracy, and the
verdict. Writes ``bench/results/demo_speed.json``. Run it on a quiet machine (the target is
wall time: ``make demo`` in at most 90 s); it prints what else was running.

    .venv/bin/python bench/demo_speed.py [--seeds 0 1 2] [--variants NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

OUT = Path(__file__).parent / "results" / "demo_speed.json"
VARIANTS = {  # name -> the Budget fields of headstart.demo.FULL it sets
    "10 epochs (the budget before)": {"finetune_epochs": 10, "text_max_length": None},
    "6 epochs (the default now)": {"finetune_epochs": 6, "text_max_length": None},
    "6 epochs, max_length 256 given explicitly (MiniLM's own limit: the same run again)": {"finetune_epochs": 6,
                                                                                          "text_max_length": 256},
}
CHILD = """
import dataclasses, json, sys
from headstart.demo import FULL, run_demo
budget = dataclasses.replace(FULL, **json.loads(sys.argv[1]))
result = run_demo(seed=int(sys.argv[2]), out=sys.argv[3], budget=budget, say=lambda line: None)
print(json.dumps({"rows": result.rows, "best": result.best, "verdict": result.verdict}, default=str))
"""


def neighbours() -> list[str]:
    """Other processes using CPU now (what else was running)."""
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout.splitlines()[1:6]
    return [line.strip() for line in out if float(line.split()[0]) > 5]


def run(variant: dict, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="headstart-demo-speed-") as folder:
        env = os.environ | {"HEADSTART_CACHE": folder}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(variant), str(seed), f"{folder}/run"], env=env,
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seed": seed, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "accuracy": {row["method"]: row["accuracy"] for row in result["rows"]},
            "train_seconds": {row["method"]: round(row["train_seconds"], 1) for row in result["rows"]},
            "best": result["best"], "verdict": result["verdict"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    results = json.loads(OUT.read_text())["variants"] if OUT.exists() else {}
    for name in args.variants:
        rows = []
        for seed in args.seeds:
            rows.append({**run(VARIANTS[name], seed), "running_beside": neighbours(), "load_average": os.getloadavg()[0]})
            print(name, rows[-1], flush=True)
            results[name] = {"budget": VARIANTS[name], "runs": rows}
            OUT.write_text(json.dumps({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                       "machine": f"{os.cpu_count()} cores", "variants": results}, indent=1))


if __name__ == "__main__":
    main()
