"""The report of an RL transfer run: return against target steps for the method, the scratch guard
and any compared methods (shaded by the spread over seeds when several were run), jump-start, AUC, the negative-transfer verdict, and the source's and target's dynamics, in
one self-contained HTML file. It reads only the run's ``config.json`` (no ``rl`` extra needed).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headstart.report import plots
from headstart.report.html import REPORT_FILE, _figure, _page, _save_png, _table
from headstart.rl.curves import over_seeds, summarize


def write_rl_report(info: Mapping[str, Any], target: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write ``out_dir/report.html`` (and ``returns.png``) from a transferred policy's ``info`` and its
    target dynamics (``Dynamics.to_json()``)."""
    method, guard = info["method"], info.get("guard", {})
    seeded = info.get("seed_curves", {})
    if len(seeded.get("seeds", [])) > 1:  # every method measured, the spread over seeds
        runs = {m: over_seeds(curves) for m, curves in seeded["runs"].items()}
        spread = f"{len(seeded['seeds'])} seeds"
    else:
        runs = {m: (curves[0], [0.0] * len(curves[0])) for m, curves in seeded.get("runs", {}).items()}
        runs[method] = (info["curve"], info.get("curve_std") or [0.0] * len(info["curve"]))
        if "scratch_curve" in guard:
            runs["scratch"] = (guard["scratch_curve"], guard.get("scratch_curve_std") or [0.0] * len(guard["scratch_curve"]))
        spread = "evaluation episodes"
    series = {m: ([s for s, _ in c], [r for _, r in c], std) for m, (c, std) in runs.items()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = {"returns": _save_png(plots.return_curves(series, spread), out / "returns.png")}
    scratch = runs.get("scratch", (None,))[0]
    rows = []
    for name, (curve, _) in runs.items():
        s = summarize(curve, scratch)
        rows.append([name, *(f"{s[k]:.1f}" for k in ("return_0", "return_10", "return_30", "return_100", "auc")),
                     f"{s['jump_start']:.1f}" if "jump_start" in s else ""])
    verdict = (guard.get("negative_transfer") or "no negative transfer: the source-based policy ends at or above "
               "scratch's final return, or has the larger area under the curve") if guard else \
        "no scratch guard was trained (--no-guard): negative transfer not checked"
    final = info["curve"][-1]
    headline = f"{method}: return <b>{final[1]:.1f}</b> after {final[0]:,} target steps" + (
        f", scratch {scratch[-1][1]:.1f}" if scratch else "") + f". {html.escape(verdict[0].upper() + verdict[1:])}."
    source = info.get("source", {}).get("dynamics", {})
    sections = [
        ("Return against target steps", _figure(images, "returns")),
        ("Transfer measures", _table(["method", "return at 0", "10 %", "30 %", "100 %", "AUC", "jump-start vs scratch"], rows)
         + "<p>Return at 0 is the jump-start; AUC is the area under return against steps divided by the budget "
           "(the mean return over training).</p>"),
        ("Negative transfer", f"<p>{html.escape(verdict)}</p>"),
        ("Dynamics", _dynamics_table(source, target)),
    ]
    path = out / REPORT_FILE
    path.write_text(_page(f"{method} transfer on {target['env']}", headline, sections), encoding="utf-8")
    return path


def _dynamics_table(source: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    def value(dynamics: Mapping[str, Any], name: str) -> str:
        if name in dynamics.get("set", {}):
            return f"{dynamics['set'][name]:g}"
        if name in dynamics.get("randomize", {}):
            lo, hi = dynamics["randomize"][name]
            return f"U({lo:g}, {hi:g}) per episode"
        return "default"

    names = dict.fromkeys(n for d in (source, target) for part in ("set", "randomize") for n in d.get(part, {}))
    rows = [["environment", source.get("env", "?"), target["env"]], *([n, value(source, n), value(target, n)] for n in names)]
    return _table(["parameter", "source (simulation)", "target"], rows)
