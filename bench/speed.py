"""Issue 13's scorecard: every speed and scale target next to what the benchmarks measured.

The measurements are the benchmarks' own, each a script that takes from a minute to an hour:
``overhead.py`` (fine-tuning against a bare PyTorch loop), ``adapt_speed.py`` (adaptation against
fine-tuning), ``report_cost.py`` (the report against training), ``demo_speed.py`` (``make demo``) and
``scale.py`` (1k to 100k texts, 50k images). This script reads their result files (``--run`` runs them
first) and writes one table, ``bench/results/speed.json``: per target, the measured value, the target,
whether it is met, and the file it comes from (with that file's date and machine note).

    .venv/bin/python bench/speed.py          # from the results on disk
    .venv/bin/python bench/speed.py --run    # re-measure everything first (scale.py takes the longest)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
SOURCES = ("overhead", "adapt_speed", "report_cost", "demo_speed", "scale")


def _at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def _at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def targets(r: dict[str, dict[str, Any]]) -> list[tuple[str, str, float, str, Callable[[float], bool]]]:
    """(source, what, measured, target as said, test) for every numeric target of the issue."""
    rows = []
    for case, result in r["overhead"]["cases"].items():
        rows.append(("overhead", f"finetune / bare loop, samples per CPU s, {case}", result["median_ratio"], ">= 0.95",
                     _at_least(0.95)))
    runs = r["adapt_speed"]["runs"]
    for method in ("dann", "cdan", "mmd", "coral"):
        rows.append(("adapt_speed", f"{method} on 600 + 600 texts / finetune on 600", runs[method]["vs_finetune"], "<= 1.5x",
                     _at_most(1.5)))
    rows.append(("adapt_speed", "self_training / finetune", runs["self_training"]["vs_finetune"], "<= 3x", _at_most(3.0)))
    rows.append(("adapt_speed", "adabn on 300 + 300 images, cold cache, CPU s", runs["adabn_images"]["cpu_seconds"],
                 "in seconds (<= 10 s)", _at_most(10.0)))
    cost = r["report_cost"]
    rows.append(("report_cost", "report / training", cost["report_over_training"], "<= 0.25", _at_most(0.25)))
    rows.append(("report_cost", "report / one forward over its data", cost["report_over_one_forward"], "<= 1.0", _at_most(1.0)))
    default = [run["wall_seconds"] for variant in r["demo_speed"]["variants"].values()
               if variant["budget"]["finetune_epochs"] == 6 for run in variant["runs"]]  # the default budget
    rows.append(("demo_speed", f"make demo, slowest of {len(default)} runs, wall s", max(default), "<= 90 s", _at_most(90.0)))
    for kind in ("text", "image"):
        line = r["scale"][f"{kind}_linearity"]
        rows.append(("scale", f"{kind}s: change of CPU per example, mid to largest size", abs(line["change"]), "within 15 %",
                     _at_most(0.15)))
    text = r["scale"]["text_linearity"]
    rows.append(("scale", "probe's cross-validated fit on 100k x 384, s", text["probe_fit_seconds_largest"], "< 60 s",
                 _at_most(60.0)))
    rows.append(("scale", "text extraction, anonymous memory growth 1k -> 100k / feature matrix growth",
                 text["anon_growth_mb"] / text["feature_matrix_growth_mb"], "flat: <= 0.1 of the matrix's growth",
                 _at_most(0.1)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the five benchmarks first")
    if parser.parse_args().run:
        for name in SOURCES:
            subprocess.run([sys.executable, str(BENCH / f"{name}.py")], check=True)
    results = {name: json.loads((RESULTS / f"{name}.json").read_text()) for name in SOURCES}
    rows = [{"source": f"bench/results/{source}.json", "what": what, "measured": round(value, 4), "target": said,
             "met": test(value)} for source, what, value, said, test in targets(results)]
    measured = {f"bench/results/{name}.json": {"created": results[name]["created"], "machine": results[name].get("machine", "")}
                for name in SOURCES}
    (RESULTS / "speed.json").write_text(json.dumps({"targets": rows, "measured": measured}, indent=1) + "\n")
    for row in rows:
        print(f"{'met    ' if row['met'] else 'NOT MET'}  {row['measured']:>10}  {row['target']:<34} {row['what']}")


if __name__ == "__main__":
    main()
