"""The ``headstart`` command. Every sub-command's ``--help`` shows an example that runs."""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from headstart.cli import (
    adapt,
    backbones,
    datasets,
    demo,
    evaluate,
    export,
    federate,
    fit,
    multitask,
    predict,
    pretrain,
    rank,
    report,
    rl,
    serve,
    zeroshot,
)
from headstart.cli.console import err_console
from headstart.errors import HeadstartError

app = typer.Typer(
    help="Offline-first transfer learning: choose a pre-trained model, transfer it, prove it helped.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for command in (backbones.backbones, datasets.datasets, fit.fit, evaluate.evaluate, predict.predict, demo.demo,
                report.report, rank.rank, zeroshot.zeroshot, multitask.multitask, adapt.adapt, export.export, serve.serve,
                pretrain.pretrain):
    app.command()(command)
app.add_typer(rl.app, name="rl")
app.add_typer(federate.app, name="federate")


def main() -> None:
    """Entry point: user errors print one line and exit with status 2."""
    try:
        app()
    except HeadstartError as exc:
        err_console.print(Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(2)
