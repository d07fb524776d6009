"""``headstart pretrain``: train headstart's own encoder on source data: a series encoder on a
corpus of series, or a speech (frame) encoder on labelled source speakers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from headstart.cli.console import PROGRESS, say

if TYPE_CHECKING:
    from headstart.data import Dataset


def pretrain(
    corpus: list[str] = typer.Argument(..., help="Series to learn from: catalogue names (airline, lynx, m1_yearly, "
                                       "gunpoint:train …) or files of series (CSV/Parquet, .npy, .tsf, .ts); "
                                       "rows of a classification set count as series. Or ONE labelled audio set "
                                       "(an audio folder, fsdd:-s3 = FSDD without speaker s3): an hs-speech encoder."),
    out: Path = typer.Option(..., "--out", help="Folder to write the encoder to (config.json + model.safetensors)."),
    epochs: int = typer.Option(None, help="Epochs of --steps optimiser steps each (series, default 5); speech: "
                               "epochs over the data (default: sized to it)."),
    steps: int = typer.Option(100, help="Optimiser steps per epoch (each a batch of random windows)."),
    batch_size: int = typer.Option(32, help="Windows per step."),
    context: int = typer.Option(512, help="Points of history the encoder reads (longer contexts are cut)."),
    horizon: int = typer.Option(48, help="Steps its forecast head predicts (the most a zero-shot forecast can ask)."),
    width: int = typer.Option(64, help="Channels of every block."),
    blocks: int = typer.Option(9, help="Dilated causal blocks (dilations 1, 2, 4 …): the layer groups to fine-tune."),
    lr: float = typer.Option(None, help="Peak AdamW learning rate (series: 1e-3, warm-up then cosine decay; "
                             "speech: the scratch default)."),
    seed: int = typer.Option(0, help="Seed of the initial weights and of the windows drawn."),
    progress: bool = PROGRESS,
) -> None:
    """Pre-train an hs-tcn forecaster-encoder from random weights on random windows of CORPUS (pinball loss of 9 quantiles), then use the folder as a backbone anywhere one is named.

    The folder records what it was trained on and how long it took. The defaults (500 steps of 32 windows) take about 8 minutes on 2 CPU cores (measured: 1 s a step).

    Example: headstart pretrain airline lynx shampoo_sales --out runs/encoder --epochs 2 --steps 50
    Then:    headstart fit series.csv --task forecast --horizon 12 --backbone runs/encoder

    Speech: ONE labelled audio set trains an hs-speech frame encoder (supervised, through the scratch run; about 25 s for FSDD's 2,500 recordings of five speakers).

    Example: headstart pretrain fsdd:-s3 --out runs/speech
    Then:    headstart fit fsdd:s3 --backbone runs/speech --method finetune --shots 5
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from headstart.cli.console import console
    from headstart.pretrain import pretrain as run_pretrain

    speech = audio_corpus(corpus)
    if speech is not None:
        from headstart.pretrain_speech import pretrain_speech

        net = pretrain_speech(speech, out, progress=progress, seed=seed, lr=lr, epochs=epochs)
        trained = net.trained
        say(f"{out}: hs-speech encoder ({sum(p.numel() for p in net.parameters()):,} parameters) trained on "
            f"{trained['examples']} recordings of {speech.name} for {trained['epochs']} epochs in {trained['seconds']:.0f} s; "
            f"held-out accuracy {trained['val_accuracy']:.3f}. Use it with --backbone {out}")
        return
    epochs, lr = 5 if epochs is None else epochs, 1e-3 if lr is None else lr
    options = dict(epochs=epochs, steps_per_epoch=steps, batch_size=batch_size, context=context, horizon=horizon,
                   width=width, blocks=blocks, lr=lr, seed=seed)
    if progress:
        with Progress(TextColumn("pretrain"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                      TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("pretrain", total=epochs * steps, loss=float("nan"))
            net = run_pretrain(list(corpus), out, **options,
                               progress=lambda step, total, loss: bar.update(task, completed=step, loss=loss))
    else:
        net = run_pretrain(list(corpus), out, **options)
    trained = net.trained
    say(f"{out}: hs-tcn encoder ({sum(p.numel() for p in net.parameters()):,} parameters) trained on "
        f"{trained['series']} series ({trained['points']:,} points) for {trained['steps']} steps in "
        f"{trained['seconds']:.0f} s; final loss {trained['loss_by_epoch'][-1]:.4f}. Use it with --backbone {out}")


def audio_corpus(corpus: list[str]) -> Dataset | None:
    """The labelled audio set a one-item corpus names (a folder of recordings, an audio catalogue
    set), which an hs-speech encoder reads; else ``None`` (a series corpus)."""
    from headstart.data import load_data
    from headstart.errors import DataError
    from headstart.zoo.frames import FrameCNN

    if len(corpus) != 1:
        return None
    try:
        data = load_data(corpus[0])
    except DataError:  # a series file or a series catalogue name
        return None
    return data if FrameCNN.reads(data) and data.is_labelled else None
