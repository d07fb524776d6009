"""``method="auto"`` on the cases its guard exists for, and on one where transfer should win.

digits (8x8 scikit-learn digits) at 5 and 10 examples per class with EfficientNet-Lite0 as the
only candidate, and BBC News at 8 per class with MiniLM-L6: auto's cross-validated accuracy of
the transfer it planned and of the modality's baseline (the same folds), and which it kept.
Writes ``bench/results/auto.json`` and prints the table quoted in ``docs/benchmarks.md``
("Choosing what to transfer").

    .venv/bin/python bench/auto.py
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from pathlib import Path

import torch

import headstart

RESULTS = Path(__file__).parent / "results" / "auto.json"
CASES = [("digits:train", "efficientnet-lite0", 5), ("digits:train", "efficientnet-lite0", 10), ("bbc_news:train", "minilm-l6", 8)]


def main() -> None:
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    rows = []
    for data, backbone, shots in CASES:
        started = time.perf_counter()
        model = headstart.fit(data, method="auto", backbone=backbone, shots=shots)
        validation = model.info["auto"]["validation"]
        rows.append({"data": data, "backbone": backbone, "shots": shots, "transfer": validation["transfer"],
                     "baseline": validation["baseline"], "winner": validation["winner"], "n_validated": validation["n_validated"],
                     "plan": model.info["auto"]["plan"], "seconds": round(time.perf_counter() - started, 1)})
        print(json.dumps(rows[-1]), flush=True)
    RESULTS.write_text(json.dumps({"machine": {"torch": torch.__version__, "python": platform.python_version()}, "cases": rows}, indent=1))
    print("| data | per class | transfer (cross-validated) | baseline | kept |\n|---|---|---|---|---|")
    for r in rows:
        plan = f"{r['plan']['method']} on {r['backbone']}"
        print(f"| {r['data']} | {r['shots']} | {plan}: {100 * r['transfer']:.1f} % | {100 * r['baseline']:.1f} % | {r['winner']} |")


if __name__ == "__main__":
    main()
