"""Series classification baselines at K examples per class on UCR sets (issue 14, partial).

MiniRocket + ridge and 1-NN (z-normalised, Euclidean) trained on K = 5 and 20 examples per class
drawn by seed from the UCR train split, scored on the full test split. Writes
``bench/results/timeseries.json`` and prints the table. Not yet here: the forecasting part and the
transfer columns (scratch, probe, fine-tune from an encoder pre-trained on the other UCR sets).

    OMP_NUM_THREADS=1 .venv/bin/python bench/timeseries.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from headstart.baselines import fit_baseline
from headstart.data import load_data
from headstart.data.splits import sample_shots

RESULTS = Path(__file__).parent / "results" / "timeseries.json"
SETS, SHOTS, SEEDS, KINDS = ("gunpoint", "italy_power", "arrowhead"), (5, 20), (0, 1, 2), ("minirocket", "nn1")


def main() -> None:
    started, rows = time.perf_counter(), []
    for name in SETS:
        train, test = load_data(f"{name}:train"), load_data(f"{name}:test")  # UCR .ts files of the aeon wheel
        for k in SHOTS:
            if min(train.class_counts().values()) < k:
                continue
            for seed in SEEDS:
                part = sample_shots(train, k, seed=seed)
                for kind in KINDS:
                    accuracy = fit_baseline(part, seed, kind=kind).evaluate(test)["accuracy"]
                    rows.append({"data": name, "shots": k, "seed": seed, "method": kind, "accuracy": accuracy})
                    print(json.dumps(rows[-1]), flush=True)
    RESULTS.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1), "seeds": SEEDS,
                                   "not_run": ["forecasting", "scratch", "probe", "finetune"], "classification": rows}, indent=1))
    print("| data | K | method | accuracy (mean ± std over seeds) |\n|---|---|---|---|")
    for key in dict.fromkeys((r["data"], r["shots"], r["method"]) for r in rows):
        values = [100 * r["accuracy"] for r in rows if (r["data"], r["shots"], r["method"]) == key]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f} % |")


if __name__ == "__main__":
    main()
