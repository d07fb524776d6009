"""``headstart federate DATA --clients N --partition P --rounds R --out RUN``: federated transfer on Flower."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import LABEL_COL, PROGRESS, SEED, TEXT_COL, console, parse_set, print_table


def federate(
    data: str = typer.Argument(..., help="CSV/TSV/JSONL file, image folder or catalogue name, split over the clients."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the global model's artifact goes here."),
    clients: int = typer.Option(5, help="Number of simulated clients."),
    partition: str = typer.Option("iid", help="iid | dirichlet:ALPHA (class skew) | quantity:ALPHA (size skew) | by:COLUMN (one client per value)."),
    rounds: int = typer.Option(10, help="Federated rounds."),
    method: str = typer.Option("probe", help="probe (the head only) | finetune (--unfreeze K groups) | lora (adapters): only that part travels."),
    backbone: Optional[str] = typer.Option(None, help="Registered backbone; default minilm-l6 for text, efficientnet-lite0 for images."),
    unfreeze: Optional[str] = typer.Option(None, help="finetune: train (and send) the last K layer groups."),
    strategy: str = typer.Option("fedavg", help="Flower strategy: fedavg | fedprox."),
    mu: float = typer.Option(0.01, help="fedprox: strength of the pull towards the global model."),
    fraction: float = typer.Option(1.0, help="Share of the clients sampled each round."),
    epochs: int = typer.Option(1, help="Local epochs per client and round."),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    seed: int = SEED,
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value, e.g. --set lr=1e-4."),
    progress: bool = PROGRESS,
) -> None:
    """Federated transfer learning on Flower: clients keep their data, only the trained part travels.

    Example: headstart federate bbc_news:train --clients 5 --partition dirichlet:0.5 --rounds 10 --out runs/fed

    The result is an ordinary artifact: headstart evaluate runs/fed bbc_news:test
    """
    from headstart.federated.api import federate as run_federation

    options = parse_set(set_)
    if unfreeze is not None:
        options["unfreeze"] = unfreeze
    model = run_federation(data, clients=clients, partition_by=partition, rounds=rounds, method=method, backbone=backbone,
                           strategy=strategy, mu=mu, fraction=fraction, seed=seed, out=out, progress=progress,
                           text_col=text_col, label_col=label_col, epochs=epochs, **options)
    fed = model.info["federated"]
    rows = [{"round": r["round"], "clients": r["clients"], "sent kB": f"{r['bytes_sent'] / 1e3:,.1f}",
             "received kB": f"{r['bytes_received'] / 1e3:,.1f}", "rejected": len(r["rejected"]),
             "train loss": f"{r.get('train_loss', float('nan')):.4f}"} for r in fed["rounds"]]
    print_table(f"{fed['strategy']} over {fed['clients']} clients ({fed['partition']})", rows)
    console.print(f"trainable state {fed['trainable_bytes'] / 1e3:,.1f} kB of a {fed['model_bytes'] / 1e6:,.1f} MB model "
                  f"({fed['trainable_share']:.3%}) travels each way per client and round", markup=False, highlight=False)
    console.print(f"artifact: {out}", markup=False, highlight=False)
