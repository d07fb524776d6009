"""What a user names, turned into data: ``load_data`` for a folder, a table file or a catalogue
name, ``read_inputs`` for the raw inputs given to ``predict`` on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headstart.data import catalogue
from headstart.data.dataset import Dataset, Modality, Task
from headstart.data.readers import (
    TABLE_SUFFIXES,
    OnError,
    read_image_folder,
    read_table,
)
from headstart.errors import DataError


def load_data(
    spec: Path | str,
    *,
    text_col: str = "text",
    label_col: str | None = "label",
    task: Task = "classification",
    label_sep: str = "|",
    on_error: OnError = "fail",
    allow_unlabelled: bool = False,
) -> Dataset:
    """The dataset ``spec`` names: a folder of images, a .csv/.tsv/.jsonl file, or a catalogue
    dataset (``"digits"``, or ``"digits:train"`` / ``"digits:test"`` for its fixed split).

    An existing path wins over a catalogue name of the same spelling.
    """
    path = Path(spec)
    if path.is_dir():
        return read_image_folder(path, on_error)
    if path.is_file():
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise DataError(f"{path}: unsupported file type; expected an image folder or a .csv, .tsv or .jsonl file")
        return read_table(path, text_col, label_col, task, label_sep, allow_unlabelled=allow_unlabelled)
    name, _, split = str(spec).partition(":")
    if name in catalogue.catalogue_names():
        return catalogue.load_dataset(name, split or "all")
    names = ", ".join(catalogue.catalogue_names())
    raise DataError(f"no such file, folder or catalogue dataset: {spec}; catalogue: {names}")


def training_spec(spec: Any) -> Any:
    """What training on ``spec`` reads: a bare catalogue name (``"digits"``) means its fixed training
    split (``"digits:train"``), so that its test split stays held out for ``evaluate``; anything
    else (a path, a ``Dataset``, a name with a split) is returned as given."""
    if isinstance(spec, (str, Path)) and not Path(spec).exists() and str(spec) in catalogue.catalogue_names():
        return f"{spec}:train"
    return spec


def read_inputs(inputs: list[str], modality: Modality, text_col: str = "text") -> list[Any]:
    """Raw inputs of a model of ``modality`` from command-line arguments: image paths (which must
    exist); or texts, read from one CSV/TSV/JSONL file's ``text_col`` or one text file's non-blank
    lines when a single existing file is given, else the arguments themselves."""
    if modality == "image":
        missing = [p for p in inputs if not Path(p).is_file()]
        if missing:
            raise DataError(f"no such image file: {missing[0]}")
        return [Path(p) for p in inputs]
    if len(inputs) == 1 and Path(inputs[0]).is_file():
        path = Path(inputs[0])
        if path.suffix.lower() in TABLE_SUFFIXES:
            return list(read_table(path, text_col, None, allow_unlabelled=True).inputs)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}: not a UTF-8 text file (an image? this model reads text)") from None
        return [line for line in text.splitlines() if line.strip()]
    return inputs
