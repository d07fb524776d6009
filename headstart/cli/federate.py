"""``headstart federate DATA --clients N --partition P --rounds R --out RUN``: federated transfer on Flower."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click
import typer
from typer.core import TyperGroup

from headstart.cli.console import LABEL_COL, PROGRESS, SEED, TEXT_COL, console, parse_set, print_table
from headstart.errors import HeadstartError

if TYPE_CHECKING:
    from headstart.fitted import Transferred

ADDRESS = typer.Option("127.0.0.1:8080", help="The server's host:port (gRPC).")
DP_NOISE = typer.Option(None, "--dp-noise", help="Central differential privacy (Flower's server-side clipping): the noise "
                        "multiplier z; Gaussian noise of std z * CLIP / sampled clients is added to every aggregate.")
STRATEGY = typer.Option("fedavg", help="Flower strategy: fedavg | fedprox | fedavgm (server momentum 0.9) | "
                        "fedadam (server-side Adam, step 1e-2).")
LOGIT_ADJUST = typer.Option(False, help="Label skew: every client trains with the logit-adjusted loss of its own class "
                            "frequencies, so all fit the same class-balanced model.")
GLOBAL_SCHEDULE = typer.Option(False, help="One learning-rate schedule (the recipe's warm-up and decay) over all rounds, "
                               "each round a stretch of it, instead of a whole schedule every round.")
DP_CLIP = typer.Option(1.0, "--dp-clip", help="With --dp-noise: every client's update is clipped to this L2 norm.")


class SimulateByDefault(TyperGroup):
    """``headstart federate DATA ...`` simulates; ``server`` and ``client`` are sub-commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["simulate", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=SimulateByDefault, no_args_is_help=True, help="Federated transfer learning on Flower: clients keep "
                  "their data, only the trained part travels. `headstart federate DATA ...` simulates the clients here; "
                  "`headstart federate server` and `headstart federate client` run them as separate processes over gRPC.")


@app.command("simulate")
def federate(
    data: str = typer.Argument(..., help="CSV/TSV/JSONL file, image folder or catalogue name, split over the clients."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the global model's artifact goes here."),
    clients: int = typer.Option(5, help="Number of simulated clients."),
    partition: str = typer.Option("iid", help="iid | dirichlet:ALPHA (class skew) | quantity:ALPHA (size skew) | by:COLUMN (one client per value)."),
    rounds: int = typer.Option(10, help="Federated rounds."),
    method: str = typer.Option("probe", help="probe (the head only) | finetune (--unfreeze K groups) | lora (adapters): only that part travels."),
    backbone: Optional[str] = typer.Option(None, help="Registered backbone; default minilm-l6 for text, efficientnet-lite0 for images."),
    unfreeze: Optional[str] = typer.Option(None, help="finetune: train (and send) the last K layer groups."),
    strategy: str = STRATEGY,
    mu: float = typer.Option(0.01, help="fedprox: strength of the pull towards the global model."),
    fraction: float = typer.Option(1.0, help="Share of the clients sampled each round."),
    epochs: int = typer.Option(1, help="Local epochs per client and round."),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    seed: int = SEED,
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value, e.g. --set lr=1e-4; with lora, --set lora_freeze_a=true trains and sends B only (FFA-LoRA: exact averaging, half the bytes)."),
    resume: bool = typer.Option(False, help="Continue from the checkpoint of the last round done in OUT/federation."),
    personalise: bool = typer.Option(False, help="Each client holds a quarter of its data out, fine-tunes the global model "
                                     "on the rest, and the run compares both on the held-out part."),
    dp_noise: Optional[float] = DP_NOISE,
    dp_clip: float = DP_CLIP,
    logit_adjust: bool = LOGIT_ADJUST,
    global_schedule: bool = GLOBAL_SCHEDULE,
    progress: bool = PROGRESS,
) -> None:
    """Simulate N clients on this machine (the default: `headstart federate DATA ...`).

    Example: headstart federate bbc_news:train --clients 5 --partition dirichlet:0.5 --rounds 10 --out runs/fed

    The result is an ordinary artifact: headstart evaluate runs/fed bbc_news:test
    """
    from headstart.federated.api import federate as run_federation

    options = parse_set(set_)
    if unfreeze is not None:
        options["unfreeze"] = unfreeze
    model = run_federation(data, clients=clients, partition_by=partition, rounds=rounds, method=method, backbone=backbone,
                           strategy=strategy, mu=mu, fraction=fraction, seed=seed, out=out, resume=resume,
                           personalise=personalise, dp_noise=dp_noise, dp_clip=dp_clip, logit_adjust=logit_adjust,
                           global_schedule=global_schedule, progress=progress, text_col=text_col, label_col=label_col, epochs=epochs, **options)
    summarise(model, out)


@app.command("server")
def server(
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the global model's artifact goes here."),
    classes: str = typer.Option(..., help="The class names, comma-separated (the clients' labels must be among them)."),
    clients: int = typer.Option(3, help="Clients to wait for before the first round."),
    rounds: int = typer.Option(10, help="Federated rounds."),
    method: str = typer.Option("probe", help="probe | finetune | lora."),
    backbone: str = typer.Option("minilm-l6", help="Registered backbone every client starts from."),
    unfreeze: Optional[str] = typer.Option(None, help="finetune: train (and send) the last K layer groups."),
    strategy: str = STRATEGY,
    mu: float = typer.Option(0.01, help="fedprox: strength of the pull towards the global model."),
    fraction: float = typer.Option(1.0, help="Share of the clients sampled each round."),
    epochs: int = typer.Option(1, help="Local epochs per client and round."),
    round_timeout: Optional[float] = typer.Option(None, help="Seconds a client has to answer a round before it counts as failed."),
    min_clients: Optional[int] = typer.Option(None, help="Clients a round after the first waits for (default: --clients). Set "
                                              "it lower to go on when clients drop out; with the default a lost client stalls the next round."),
    address: str = typer.Option("0.0.0.0:8080", help="host:port to listen on (gRPC)."),
    seed: int = SEED,
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value."),
    resume: bool = typer.Option(False, help="Continue from the checkpoint of the last round done in OUT/federation."),
    dp_noise: Optional[float] = DP_NOISE,
    dp_clip: float = DP_CLIP,
    logit_adjust: bool = LOGIT_ADJUST,
    global_schedule: bool = GLOBAL_SCHEDULE,
    progress: bool = PROGRESS,
) -> None:
    """Run the federation's server: clients (`headstart federate client DATA`) connect, train, send their updates.

    Example: headstart federate server --classes neg,pos --clients 3 --rounds 5 --out runs/fed
    """
    from headstart.federated.api import run_recipe
    from headstart.federated.server import CHECKPOINT_DIR, Federation, serve

    names = [c.strip() for c in classes.split(",") if c.strip()]
    if len(names) < 2:
        raise HeadstartError(f"--classes needs at least two class names, not {classes!r}")
    options = parse_set(set_)
    if unfreeze is not None:
        options["unfreeze"] = unfreeze
    recipe = run_recipe(method, backbone, seed, epochs=epochs, **options)
    model = serve(address, Federation(recipe, names, len(names), clients, strategy, mu, fraction,
                                         out / CHECKPOINT_DIR, resume, min_clients, dp_noise, dp_clip, logit_adjust, global_schedule), rounds,
                  round_timeout=round_timeout, progress=progress)
    model.save(out)
    summarise(model, out)


@app.command("client")
def client(
    data: str = typer.Argument(..., help="This client's labelled data: a CSV/TSV/JSONL file, image folder or catalogue split."),
    address: str = ADDRESS,
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
) -> None:
    """Join a federation as one client: the data stays here, only the trained part goes to the server.

    Example: headstart federate client site1.csv --address 10.0.0.5:8080
    """
    from headstart.data import load_data, require_labels
    from headstart.federated.client import connect

    train = load_data(data, text_col=text_col, label_col=label_col)
    require_labels(train, min_classes=1)
    connect(address, train)


def summarise(model: Transferred, out: Path) -> None:
    """Each round's clients, bytes, rejections and loss, and the trainable share of the model."""
    fed: dict[str, Any] = model.info["federated"]
    rows = [{"round": r["round"], "clients": r["clients"], "sent kB": f"{r['bytes_sent'] / 1e3:,.1f}",
             "received kB": f"{r['bytes_received'] / 1e3:,.1f}", "rejected": len(r["rejected"]),
             "failed": r.get("failures", 0) - len(r["rejected"]),
             "train loss": f"{r.get('train_loss', float('nan')):.4f}"} for r in fed["rounds"]]
    print_table(f"{fed['strategy']} over {fed['clients']} clients ({fed.get('partition', 'their own data')})", rows)
    console.print(f"trainable state {fed['trainable_bytes'] / 1e3:,.1f} kB of a {fed['model_bytes'] / 1e6:,.1f} MB model "
                  f"({fed['trainable_share']:.3%}) travels each way per client and round", markup=False, highlight=False)
    if fed.get("privacy"):
        dp = fed["privacy"]
        console.print(f"differential privacy: {dp['mechanism']}; updates clipped to L2 norm {dp['clipping_norm']:g}, noise "
                      f"multiplier {dp['noise_multiplier']:g} (std {dp['noise_std']:.4g} on the aggregate of "
                      f"{dp['sampled_clients']} clients): epsilon {dp['epsilon']:.3g} at delta {dp['delta']:g} over "
                      f"{dp['rounds']} rounds, per client", markup=False, highlight=False)
    if "personalised" in fed:
        print_table("each client's held-out data: the global model and its own", [
            {"client": p["client"], "test examples": p["n_test"], "global accuracy": f"{p['global']:.3f}",
             "personalised accuracy": f"{p['personalised']:.3f}"} for p in fed["personalised"]])
    console.print(f"artifact: {out}", markup=False, highlight=False)
