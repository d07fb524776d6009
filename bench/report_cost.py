"""What the run report costs next to training (issue 13, "one evaluation pass feeds the whole report").

The issue's case: ``headstart fit bbc_news:train --method finetune --unfreeze 2 --shots 8 --epochs 6``
(MiniLM-L6). Timed apart, in one process on one thread (CPU seconds, robust to other jobs; wall
seconds stored too): the fit; one forward over the report's held-out data (``model.outputs``, the
reference the issue names); and the report as ``headstart fit`` writes it (``evaluate_run``, one pass
for logits, features and everything after it, then ``write_report``: figures, projection, page). It
also checks that the report's accuracy equals ``evaluate``'s. Writes ``bench/results/report_cost.json``.

    OMP_NUM_THREADS=1 .venv/bin/python bench/report_cost.py
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import headstart
from headstart.data.catalogue import load_dataset
from headstart.report import evaluate_run, write_report
from headstart.transfer import held_out_examples

RESULTS = Path(__file__).parent / "results" / "report_cost.json"


def timed(call):
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    return {"cpu_seconds": time.process_time() - cpu, "wall_seconds": time.perf_counter() - wall}, result


def main() -> None:
    torch.set_num_threads(1)
    train = load_dataset("bbc_news", "train")
    fit_time, model = timed(lambda: headstart.fit(train, backbone="minilm-l6", method="finetune", unfreeze=2, shots=8,
                                                  epochs=6, seed=0))
    held_out = held_out_examples(train, model.info, seed=0)
    forward_time, _ = timed(lambda: model.outputs(held_out))
    with tempfile.TemporaryDirectory() as out:
        report_time, evaluation = timed(lambda: evaluate_run(model, held_out))
        page_time, _ = timed(lambda: write_report(model, held_out, out, evaluation=evaluation))
    total = report_time["cpu_seconds"] + page_time["cpu_seconds"]
    results = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, torch 1 thread",
        "case": "bbc_news:train, minilm-l6, finetune --unfreeze 2 --shots 8 --epochs 6, seed 0",
        "train_examples": model.info["n_train"], "report_examples": len(held_out),
        "fit": fit_time, "training_cpu_seconds": sum(r.get("train_cpu_seconds", 0.0) for r in model.info["history"]),
        "one_forward_over_report_data": forward_time, "report_evaluation_pass": report_time, "report_page": page_time,
        "report_cpu_seconds": total,
        "report_over_fit": total / fit_time["cpu_seconds"],
        "report_over_training": total / max(sum(r.get("train_cpu_seconds", 0.0) for r in model.info["history"]), 1e-9),
        "report_over_one_forward": total / forward_time["cpu_seconds"],
        "targets": {"report_over_training": "at most 0.25", "report_over_one_forward": "at most 1.0"},
        "report_accuracy_equals_evaluate": evaluation.metrics["accuracy"] == model.evaluate(held_out)["accuracy"],
    }
    RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
