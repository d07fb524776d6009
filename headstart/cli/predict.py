"""``headstart predict RUN INPUT...``: labels for images, texts, a file of texts or folders of files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import RUN_TEXT_COL, TASK, print_predictions


def predict(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`, or a model.onnx written by `headstart export`."),
    inputs: list[str] = typer.Argument(..., help="Image or audio files, texts, one CSV/TSV/JSONL/TXT file of texts (or "
                                       "a table of image/audio files in a `path` column), or folders (every image, "
                                       "audio file, or .txt file under them)."),
    text_col: Optional[str] = RUN_TEXT_COL,
    json_out: bool = typer.Option(False, "--json", help="Print the predictions as JSON instead of CSV."),
    task: Optional[str] = TASK,
    out_file: Optional[Path] = typer.Option(None, "--out", help="Forecasters: write the forecast CSV to this file."),
    freq: Optional[str] = typer.Option(None, help="Forecasters: the series' frequency (default inferred)."),
) -> None:
    """Predict labels (with their probability) for images, audio, texts, a file of texts or folders.

    Writes CSV to stdout (input, label, probability), one row per input; a file's input is its path.

    Example: headstart predict runs/bbc "Shares fell sharply after the results" "The striker scored twice"
    """
    if run.suffix == ".onnx":  # an exported model runs through onnxruntime
        from headstart.cli.export import predict_onnx

        return predict_onnx(run, inputs, text_col, json_out, task, out_file, freq)
    import headstart
    from headstart.data.sources import read_inputs
    from headstart.fitted import data_columns

    model = headstart.load(run, task=task)
    if model.task == "forecast":  # the next horizon points of each series in one file
        from headstart.cli.forecast import predict_forecast

        return predict_forecast(model, inputs, out_file, freq)
    named = read_inputs(inputs, model.modality, data_columns(model, text_col)[0])
    print_predictions(named.names, model.predict(named.items), model.task, json_out)
