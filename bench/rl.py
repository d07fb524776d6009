"""Sim-to-real policy transfer: three source -> target gaps on CartPole and Pendulum, every transfer
method against scratch on the same target budget, -> bench/results/rl.json (written after every
seed, so a stopped run keeps the seeds it finished).

For each environment and seed, two source policies are pre-trained on the default dynamics: plain,
and with domain randomisation (DR) over ranges that do not contain the targets. On each gap the
plain source is transferred with every method; zero-shot returns are measured for both sources.
Returns are means over EPISODES deterministic evaluation episodes on the target, at the
checkpoints of ``headstart.rl.transfer.CHECKPOINTS``.

    OMP_NUM_THREADS=1 python bench/rl.py [--seeds 3]     # also draws docs/rl_curves.png
    OMP_NUM_THREADS=1 python bench/rl.py --seeds 5 --resume   # add seeds 3 and 4 to the JSON
    OMP_NUM_THREADS=1 python bench/rl.py --seeds 5 --gaps cartpole_weak_delayed   # rerun one gap, keep the others
    python bench/rl.py --redraw                           # recompute the table and the plot from the JSON
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from headstart.rl.dynamics import Dynamics  # noqa: E402
from headstart.rl.evaluate import episode_returns, summarize  # noqa: E402
from headstart.rl.transfer import METHODS, pretrain, transfer  # noqa: E402

OUT = Path(__file__).parent / "results" / "rl.json"
PLOT = Path(__file__).parent.parent / "docs" / "rl_curves.png"
EPISODES = 5
ENVS = {  # env -> (pre-training steps, target budget, DR ranges)
    "CartPole-v1": (30_000, 15_000, ["pole_length=0.3:1.2", "force_gain=0.5:1.2"]),
    "Pendulum-v1": (40_000, 20_000, ["mass=0.8:1.4"]),
}
GAPS = {  # name -> (env, target settings)
    "cartpole_long_pole": ("CartPole-v1", ["pole_length=1.5"]),
    "cartpole_weak_delayed": ("CartPole-v1", ["force_gain=0.5", "action_delay=2"]),
    "pendulum_heavy": ("Pendulum-v1", ["mass=1.6"]),
}


def run_seed(seed: int, gaps: list[str]) -> dict:
    """The curves (method -> [(steps, return)]) and zero-shot returns of ``gaps`` for one seed."""
    results: dict = {}
    for env, (pre_steps, budget, ranges) in ENVS.items():
        if not any(GAPS[gap][0] == env for gap in gaps):
            continue
        plain = pretrain(Dynamics.parse(env), pre_steps, seed=seed)
        randomised = pretrain(Dynamics.parse(env, randomize=ranges), pre_steps, seed=seed)
        for gap in gaps:
            gap_env, settings = GAPS[gap]
            if gap_env != env:
                continue
            target = Dynamics.parse(env, set_=settings)
            began = time.perf_counter()
            curves = {m: transfer(plain, target, m, steps=budget, seed=seed, episodes=EPISODES).info["curve"]
                      for m in METHODS}
            results[gap] = {"curves": curves,
                            "zeroshot_dr": float(episode_returns(randomised, target, EPISODES).mean()),
                            "source_return": float(episode_returns(plain, plain.dynamics, EPISODES).mean()),
                            "seconds": round(time.perf_counter() - began, 1)}
            print(f"seed {seed} {gap}: " + ", ".join(f"{m} {c[-1][1]:.0f}" for m, c in curves.items())
                  + f", zeroshot_dr {results[gap]['zeroshot_dr']:.0f}", flush=True)
    return results


def table(per_seed: list[dict]) -> dict:
    """gap -> method -> metric -> {mean, std} over the seeds that measured the gap (and their number)."""
    out: dict = {}
    for gap in GAPS:
        measured = [s for s in per_seed if gap in s]
        if not measured:
            continue
        rows: dict = {"seeds": len(measured)}
        for method in METHODS:
            summaries = [summarize(s[gap]["curves"][method], s[gap]["curves"]["scratch"]) for s in measured]
            rows[method] = {k: _spread([x[k] for x in summaries]) for k in summaries[0]}
        rows["zeroshot_dr"] = {"return_0": _spread([s[gap]["zeroshot_dr"] for s in measured])}
        scratch_final = float(np.mean([s[gap]["curves"]["scratch"][-1][1] for s in measured]))
        rows["steps_to_scratch_final"] = _steps_to(measured, gap, scratch_final - 1e-6)
        out[gap] = rows
    return out


def _steps_to(per_seed: list[dict], gap: str, level: float) -> dict:
    """Per method, the first checkpoint of the seed-mean curve at or above scratch's final mean return."""
    found = {}
    for method in METHODS:
        curves = [s[gap]["curves"][method] for s in per_seed]
        steps = [p[0] for p in curves[0]]
        means = np.mean([[p[1] for p in c] for c in curves], axis=0)
        found[method] = next((s for s, m in zip(steps, means) if m >= level), None)
    return found


def plot(document: dict, path: Path = PLOT) -> None:
    """Return against target steps for every method on every gap: the seed mean, shaded by one std."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(GAPS), figsize=(5 * len(GAPS), 3.6))
    for ax, gap in zip(axes, GAPS):
        for method in METHODS:
            curves = np.array([s[gap]["curves"][method] for s in document["per_seed"] if gap in s], dtype=float)
            steps, mean, std = curves[0, :, 0], curves[:, :, 1].mean(0), curves[:, :, 1].std(0)
            if method == "zeroshot":
                ax.axhline(mean[0], color="grey", linestyle="--", label="zeroshot")
                continue
            ax.plot(steps, mean, marker="o", markersize=3, label=method)
            ax.fill_between(steps, mean - std, mean + std, alpha=0.15)
        ax.set_title(f"{gap}: {', '.join(document['gaps'][gap]['target'])}")
        ax.set_xlabel("target steps")
    axes[0].set_ylabel(f"return (mean ± std over {document['seeds']} seeds)")
    axes[-1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def _spread(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 1), "std": round(float(np.std(values)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--resume", action="store_true", help="Keep the seeds already in the JSON and add the others.")
    parser.add_argument("--gaps", nargs="+", choices=list(GAPS), default=list(GAPS),
                        help="Run only these gaps, for every seed; the JSON keeps the other gaps' results.")
    parser.add_argument("--redraw", action="store_true", help="Only recompute the table and docs/rl_curves.png from the JSON's per-seed curves.")
    args = parser.parse_args()
    if args.redraw:
        document = json.loads(OUT.read_text())
        document["table"] = table(document["per_seed"])
        OUT.write_text(json.dumps(document, indent=1))
        plot(document)
        return
    torch.set_num_threads(1)
    only = set(args.gaps) != set(GAPS)
    previous = json.loads(OUT.read_text()) if (args.resume or only) and OUT.exists() else {}
    kept = [{g: r for g, r in s.items() if g in GAPS and g not in args.gaps} for s in previous.get("per_seed", [])]
    per_seed = kept if only else previous.get("per_seed", [])
    began = time.perf_counter() - previous.get("seconds", 0)
    for seed in range(args.seeds) if only else range(len(per_seed), args.seeds):
        if seed == len(per_seed):
            per_seed.append({})
        per_seed[seed].update(run_seed(seed, args.gaps))
        document = {
            "what": "sim-to-real transfer of PPO policies (stable-baselines3) across dynamics gaps; returns are means "
                    f"over {EPISODES} deterministic target episodes, mean and std over seeds",
            "seeds": len(per_seed), "seeds_planned": args.seeds,
            "note": None if len(per_seed) >= 5 else f"{len(per_seed)} seeds, not 5: the bench shared 2 CPU cores with 3 other "
                    "agents' benches (load average ~12) and had to finish within the session",
            "envs": {env: {"pretrain_steps": p, "target_budget": b, "dr_ranges": r} for env, (p, b, r) in ENVS.items()},
            "gaps": {gap: {"env": env, "target": settings} for gap, (env, settings) in GAPS.items()},
            "table": table(per_seed), "per_seed": per_seed,
            "seconds": round(time.perf_counter() - began), "threads": 1, "machine": platform.processor() or platform.machine(),
        }
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(json.dumps(document, indent=1))
        plot(document)
    print(json.dumps(json.loads(OUT.read_text())["table"], indent=1))


if __name__ == "__main__":
    main()
