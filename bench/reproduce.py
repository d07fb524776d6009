"""Does a rerun reproduce the published numbers? Compare a rerun of ``bench/fewshot.py`` or
``bench/adapt.py`` with the published result file.

After a change to the training path, rerun some cells into another file and compare them with the
published runs (``bench/results/fewshot.json``, ``bench/results/adapt.json``)::

    cd bench && ../.venv/bin/python fewshot.py --shots 8 --results results/fewshot_rerun.json
    ../.venv/bin/python bench/reproduce.py results/fewshot_rerun.json
    cd bench && ../.venv/bin/python adapt.py --backbones small-cnn --results results/adapt_rerun.json
    ../.venv/bin/python bench/reproduce.py results/adapt_rerun.json --published results/adapt.json

A cell (dataset, method, K; or backbone, direction, view, method) with as many seeds as the
published one is reproduced when the rerun's mean test accuracy lies within the
seeds' spread of the published one: ``|mean_rerun - mean_published| <= std_published + std_rerun``
(sample standard deviations over the seeds; at least one point, since the test sets hold at most
1,000 examples). The comparison is written to ``bench/results/reproduce_<rerun>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
PUBLISHED = RESULTS / "fewshot.json"
MIN_TOLERANCE = 0.01


def cells(path: Path) -> dict[tuple, list[float]]:
    """Test accuracies by cell, one per seed: (dataset, method, K) for few-shot runs, (backbone,
    direction, view, method) with the target accuracy for adaptation runs."""
    grouped: dict[tuple, list[float]] = defaultdict(list)
    for run in json.loads(path.read_text())["runs"]:
        if "shots" in run:
            grouped[run["dataset"], run["method"], run["shots"]].append(run["accuracy"])
        else:
            grouped[run["backbone"], run["direction"], run["view"], run["label"]].append(run["target_accuracy"])
    return grouped


def spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def compare(rerun: Path, published: Path = PUBLISHED) -> list[dict]:
    before, after = cells(published), cells(rerun)
    rows = []
    for key in sorted(after):
        if key not in before or len(after[key]) < len(before[key]):
            continue  # a cell still running (fewer seeds than published) is not compared
        old, new = before[key], after[key]
        tolerance = max(MIN_TOLERANCE, spread(old) + spread(new))
        difference = statistics.mean(new) - statistics.mean(old)
        rows.append({
            "cell": list(key),
            "published": {"mean": statistics.mean(old), "std": spread(old), "seeds": len(old)},
            "rerun": {"mean": statistics.mean(new), "std": spread(new), "seeds": len(new)},
            "difference": difference, "tolerance": tolerance, "reproduced": abs(difference) <= tolerance,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rerun", type=Path, help="a fewshot.py result file written with --results")
    parser.add_argument("--published", type=Path, default=PUBLISHED)
    args = parser.parse_args()
    rerun, published = (p if p.is_absolute() else Path(__file__).parent / p for p in (args.rerun, args.published))
    rows = compare(rerun, published)
    summary = {"reproduced": sum(r["reproduced"] for r in rows), "cells": len(rows)}
    out = RESULTS / f"reproduce_{rerun.stem}.json"
    out.write_text(json.dumps({"rerun": rerun.name, "published": published.name, **summary, "rows": rows}, indent=1))
    print("| cell | published | rerun | difference | reproduced |")
    print("|---|---|---|---|---|")
    for r in rows:
        p, n = r["published"], r["rerun"]
        print(f"| {' / '.join(map(str, r['cell']))} | {100 * p['mean']:.1f} ± {100 * p['std']:.1f} | "
              f"{100 * n['mean']:.1f} ± {100 * n['std']:.1f} | {100 * r['difference']:+.1f} | {'yes' if r['reproduced'] else 'no'} |")
    print(f"{summary['reproduced']} of {summary['cells']} cells reproduced; written to {out}")


if __name__ == "__main__":
    main()
