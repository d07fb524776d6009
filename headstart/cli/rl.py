"""``headstart rl``: pre-train a policy in simulation, transfer it to changed dynamics, evaluate it.

Needs the ``rl`` extra (gymnasium, stable-baselines3); the commands import it when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from headstart.cli.console import PROGRESS, SEED, console, print_json, print_table, say
from headstart.errors import HeadstartError

app = typer.Typer(help="Reinforcement learning: sim-to-real transfer of policies (gymnasium + stable-baselines3).",
                  no_args_is_help=True)

ENV = typer.Option(None, "--env", help="Gymnasium environment: CartPole-v1 or Pendulum-v1.")
SET = typer.Option([], "--set", help="A dynamics parameter's value, key=value (repeatable), e.g. pole_length=1.2.")
RANDOMIZE = typer.Option([], "--randomize", help="Draw a parameter at every episode, key=lo:hi (repeatable): domain randomisation.")
DYNAMICS = typer.Option(None, "--dynamics", help="A JSON/TOML file with env, [set] and [randomize] (the options above win).")


def _dynamics(env: str | None, set_: list[str], randomize: list[str], file: Path | None, default: Any = None) -> Any:
    """The dynamics the options describe; with none given, ``default`` (a run's own)."""
    if default is not None and not (env or set_ or randomize or file):
        return default
    from headstart.rl.dynamics import Dynamics

    return Dynamics.parse(env or (default.env if default is not None else None), set_, randomize, file)


def _require_extra() -> None:
    try:
        import gymnasium  # noqa: F401
        import stable_baselines3  # noqa: F401
    except ImportError as exc:
        raise HeadstartError(f"headstart rl needs the rl extra ({exc.name} is missing): pip install 'headstart[rl]'") from None


@contextmanager
def _bar(label: str, show: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar of environment steps, as the ``progress`` hook of pretrain/transfer."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("steps"), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def pretrain(
    out: Path = typer.Option(..., "--out", help="Folder to write the policy to (config.json + model.safetensors)."),
    env: str = ENV,
    set_: list[str] = SET,
    randomize: list[str] = RANDOMIZE,
    dynamics: Path = DYNAMICS,
    steps: int = typer.Option(50_000, help="Environment steps of PPO training."),
    episodes: int = typer.Option(20, help="Evaluation episodes on the source dynamics afterwards."),
    seed: int = SEED,
    progress: bool = PROGRESS,
) -> None:
    """Train a PPO policy in simulation (the source), optionally with domain randomisation, and save it.

    Example: headstart rl pretrain --env CartPole-v1 --randomize pole_length=0.3:0.7 --steps 30000 --out runs/sim
    """
    _require_extra()
    from headstart.artifacts import check_writable
    from headstart.rl.evaluate import episode_returns
    from headstart.rl.transfer import pretrain as run_pretrain

    source = _dynamics(env, set_, randomize, dynamics)
    check_writable(out)
    with _bar("pretrain", progress) as hook:
        policy = run_pretrain(source, steps, seed=seed, progress=hook)
    returns = episode_returns(policy, source, episodes)
    policy.info["source_return"] = float(returns.mean())
    policy.save(out)
    say(f"{out}: PPO policy for {source.describe()} trained {policy.info['steps']} steps in "
        f"{policy.info['seconds']:.0f} s; return {returns.mean():.1f} ± {returns.std():.1f} over {episodes} episodes")


@app.command()
def transfer(
    source: Path = typer.Argument(..., help="The source policy's folder (from headstart rl pretrain)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the transferred policy to."),
    env: str = ENV,
    set_: list[str] = SET,
    randomize: list[str] = RANDOMIZE,
    dynamics: Path = DYNAMICS,
    method: str = typer.Option("residual", help="zeroshot, finetune, finetune_head, residual or scratch: the policy saved."),
    steps: int = typer.Option(20_000, help="Target environment steps (the budget)."),
    episodes: int = typer.Option(10, help="Evaluation episodes at each point of the learning curve."),
    guard: bool = typer.Option(True, help="Also train scratch on the same budget and warn of negative transfer."),
    compare: str = typer.Option("", help="Other methods to measure on the same budget for the report, comma-separated "
                                "(e.g. zeroshot,finetune_head); their policies are not saved."),
    seeds: int = typer.Option(1, min=1, help="Train every method with seeds SEED … SEED+N-1: curves are means over "
                              "them and the report shades their spread; the saved policy is seed SEED's."),
    seed: int = SEED,
    progress: bool = PROGRESS,
) -> None:
    """Adapt a source policy to the target dynamics within a budget of target steps; print its learning curve.

    Example: headstart rl transfer runs/sim --env CartPole-v1 --set pole_length=1.2 --steps 20000 --method finetune --out runs/real
    Every method, 3 seeds: ... --method residual --compare zeroshot,finetune,finetune_head --seeds 3
    """
    _require_extra()
    import warnings

    from headstart.artifacts import check_writable
    from headstart.report.rl import write_rl_report
    from headstart.rl.curves import over_seeds
    from headstart.rl.evaluate import negative_transfer, summarize
    from headstart.rl.policy_io import as_policy
    from headstart.rl.transfer import check_method
    from headstart.rl.transfer import transfer as run_transfer

    src = as_policy(source)
    target = _dynamics(env, set_, randomize, dynamics, default=src.dynamics)
    others = [m.strip() for m in compare.split(",") if m.strip() and m.strip() != method]
    for name in [method, *others]:
        check_method(name)
    check_writable(out)
    methods = [method, *others, *(["scratch"] if guard and method != "scratch" and "scratch" not in others else [])]
    policy, runs = None, {}
    for name in methods:
        runs[name] = []
        for offset in range(seeds):
            label = f"{name} (seed {seed + offset})" if seeds > 1 else name
            with _bar(label, progress) as hook:
                trained = run_transfer(src, target, name, steps, seed=seed + offset, episodes=episodes, progress=hook)
            policy = trained if policy is None else policy  # the first: the saved method at seed SEED
            runs[name].append(trained.info["curve"])
    if seeds > 1:
        policy.info["curve"], policy.info["curve_std"] = over_seeds(runs[method])
    policy.info["seed_curves"] = {"seeds": list(range(seed, seed + seeds)), "runs": runs}
    curve = policy.info["curve"]
    rows = [{"target steps": s, method: round(r, 1)} for s, r in curve]
    for name in methods[1:]:  # a zero-shot table has one row; a zero-shot column one value
        for row, (_, r) in zip(rows, over_seeds(runs[name])[0]):
            row[name] = round(r, 1)
    if "scratch" in runs and method != "scratch":
        scratch, scratch_std = over_seeds(runs["scratch"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said below, as one line
            verdict = negative_transfer({m: over_seeds(c)[0] for m, c in runs.items() if m != "scratch"}, scratch)
        policy.info["guard"] = {"scratch_curve": scratch, "scratch_curve_std": scratch_std,
                                "scratch": summarize(scratch), "negative_transfer": verdict}
    policy.save(out)
    report = write_rl_report(policy.info, target.to_json(), out)
    print_table(f"Return on {target.describe()}" + (f", mean of {seeds} seeds" if seeds > 1 else ""), rows)
    summary = summarize(curve)
    say(f"{out}: {method} from {source}: return {summary['return_100']:.1f} after {curve[-1][0]} target steps "
        f"(jump-start {summary['return_0']:.1f}, AUC {summary['auc']:.1f})")
    if policy.info.get("guard", {}).get("negative_transfer"):
        console.print(f"[bold yellow]warning:[/] {policy.info['guard']['negative_transfer']}", highlight=False)
    say(f"report: {report}")


@app.command()
def report(run: Path = typer.Argument(..., help="A policy folder from headstart rl transfer.")) -> None:
    """Write RUN/report.html again from the run's saved learning curves (no training, no rl extra).

    Example: headstart rl report runs/real
    """
    from headstart.artifacts import read_artifact
    from headstart.report.rl import write_rl_report

    config = read_artifact(run).config
    if "curve" not in config.get("info", {}):
        raise HeadstartError(f"{run}: not a transferred policy (no learning curve); give the folder of headstart rl transfer")
    say(f"report: {write_rl_report(config['info'], config['dynamics'], run)}")


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="A policy folder (from headstart rl pretrain or transfer)."),
    env: str = ENV,
    set_: list[str] = SET,
    randomize: list[str] = RANDOMIZE,
    dynamics: Path = DYNAMICS,
    episodes: int = typer.Option(50, help="Evaluation episodes."),
    seed: int = typer.Option(10_000, help="Seed of the evaluation episodes."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Episode returns of a saved policy on its own dynamics, or on the dynamics the options give.

    Example: headstart rl evaluate runs/real --episodes 50 --set pole_length=1.5
    """
    _require_extra()
    from headstart.rl.evaluate import episode_returns
    from headstart.rl.policy_io import as_policy

    policy = as_policy(run)
    target = _dynamics(env, set_, randomize, dynamics, default=policy.dynamics)
    returns = episode_returns(policy, target, episodes, seed)
    result = {"run": str(run), "dynamics": target.describe(), "episodes": episodes, "mean": round(float(returns.mean()), 2),
              "std": round(float(returns.std()), 2), "min": round(float(returns.min()), 2), "max": round(float(returns.max()), 2)}
    if json_out:
        print_json(result)
    else:
        print_table(f"{run} on {target.describe()}", [result])
