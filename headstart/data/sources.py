"""What a user names, turned into data: ``load_data`` for a folder, a table file or a catalogue
name, ``read_inputs`` for the raw inputs given to ``predict`` on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from headstart.data import catalogue
from headstart.data.audio import AUDIO_EXTENSIONS, audio_files, is_audio_file, read_audio_folder, read_audio_table
from headstart.data.dataset import Dataset, Modality, Task
from headstart.data.images import is_image_file
from headstart.data.readers import (
    TABLE_SUFFIXES,
    OnError,
    image_files,
    read_image_folder,
    read_rows,
    read_table,
    visible_files,
)
from headstart.data.ucr import read_ts
from headstart.errors import DataError, did_you_mean

AUDIO_PATH_COL = "path"  # a table with this column of audio files is an audio dataset


def load_data(
    spec: Path | str,
    *,
    text_col: str = "text",
    label_col: str | None = "label",
    task: Task = "classification",
    label_sep: str = "|",
    on_error: OnError = "fail",
    allow_unlabelled: bool = False,
    trim: bool = False,
) -> Dataset:
    """The dataset ``spec`` names: a folder of images or of audio files, a .csv/.tsv/.jsonl file
    (of texts, or with a ``path`` column of audio files), or a catalogue dataset (``"digits"``, or
    ``"digits:train"`` / ``"digits:test"`` for its fixed split).

    With ``allow_unlabelled``, a .txt file is read as unlabelled texts, one a non-blank line (as
    ``read_inputs`` reads it). ``trim`` keeps only the speech of audio (voice-activity trimming).
    An existing path wins over a catalogue name of the same spelling.
    """
    path = Path(spec)
    if path.is_dir():
        if _holds_audio(path):
            return read_audio_folder(path, on_error, trim)
        return read_image_folder(path, on_error)
    if path.is_file():
        if allow_unlabelled and path.suffix.lower() == ".txt":
            return Dataset(_lines(path), None, None, "text", name=path.stem, meta={"source": str(path)})
        if path.suffix.lower() == ".ts":
            return read_ts(path)
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise DataError(f"{path}: unsupported file type; expected an image or audio folder or a .csv, .tsv or .jsonl file")
        if _lists_audio(path):
            return read_audio_table(path, AUDIO_PATH_COL, label_col, task, label_sep, on_error=on_error, trim=trim,
                                    allow_unlabelled=allow_unlabelled)
        return read_table(path, text_col, label_col, task, label_sep, allow_unlabelled=allow_unlabelled)
    name, _, split = str(spec).partition(":")
    if name in catalogue.catalogue_names():
        return catalogue.load_dataset(name, split or "all")
    names = catalogue.catalogue_names()
    raise DataError(f"no such file, folder or catalogue dataset: {spec}{did_you_mean(name, names)}; catalogue: {', '.join(names)}")


def _holds_audio(folder: Path) -> bool:
    """Whether the media files under ``folder`` are audio (not images); refuses a mix of both."""
    files = [f for f in visible_files(folder, lambda p: is_audio_file(p) or is_image_file(p))
             if not any(part.startswith("__") for part in f.relative_to(folder).parts)]
    audio = [f for f in files if is_audio_file(f)]
    if audio and len(audio) < len(files):
        image = next(f for f in files if not is_audio_file(f))
        raise DataError(f"{folder}: holds both audio files ({audio[0]}) and images ({image}); keep one kind per folder")
    return bool(audio)


def _lists_audio(table: Path) -> bool:
    """Whether a table's ``path`` column names audio files (judged by its first row)."""
    columns, rows = read_rows(table)
    first = str(rows[0][1].get(AUDIO_PATH_COL) or "").strip()
    return AUDIO_PATH_COL in columns and Path(first).suffix.lower() in AUDIO_EXTENSIONS


def training_spec(spec: Any) -> Any:
    """What training on ``spec`` reads: a bare catalogue name (``"digits"``) means its fixed training
    split (``"digits:train"``), so that its test split stays held out for ``evaluate``; anything
    else (a path, a ``Dataset``, a name with a split) is returned as given."""
    if isinstance(spec, (str, Path)) and not Path(spec).exists() and str(spec) in catalogue.catalogue_names():
        return f"{spec}:train"
    return spec


class NamedInputs(NamedTuple):
    """Raw inputs and what to call each in output: its file, or the text itself."""

    names: list[str]
    items: list[Any]


def read_inputs(inputs: list[str], modality: Modality, text_col: str = "text") -> NamedInputs:
    """Raw inputs of a model of ``modality`` from command-line arguments.

    Images and audio: files of that kind, folders standing for every such file under them
    (recursively) and CSV/TSV/JSONL tables listing them in a ``path`` column (relative to the
    table's folder); they are decoded at use.
    Texts: one CSV/TSV/JSONL file's ``text_col`` or one text file's non-blank lines when a single
    file is given; folders standing for every ``.txt`` file under them (one text each); else the
    arguments themselves.
    """
    paths = [Path(p) for p in inputs]
    if modality in _MEDIA_FILES:
        return _media_files(paths, modality)
    if any(p.is_dir() for p in paths):
        return _text_files(paths)
    if len(paths) == 1 and paths[0].is_file():
        path = paths[0]
        if path.suffix.lower() in TABLE_SUFFIXES:
            texts = list(read_table(path, text_col, None, allow_unlabelled=True).inputs)
        else:
            texts = _lines(path)
        return NamedInputs(texts, texts)
    return NamedInputs(list(inputs), list(inputs))


_MEDIA_FILES = {"image": image_files, "audio": audio_files}


def _media_files(paths: list[Path], kind: str) -> NamedInputs:
    """The ``kind`` files named in ``paths``, under the folders and in the tables there, each named by its path."""
    files = [f for p in paths for f in (_MEDIA_FILES[kind](p) if p.is_dir() else _listed_files(p)
                                        if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES else [p])]
    if not files:
        raise DataError(f"no {kind} files under {', '.join(map(str, paths))}")
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise DataError(f"no such {kind} file: {missing[0]}")
    return NamedInputs([str(f) for f in files], list(files))


def _listed_files(table: Path) -> list[Path]:
    """The files a table's ``path`` column names, relative paths relative to the table's folder."""
    listed = read_table(table, AUDIO_PATH_COL, None, allow_unlabelled=True).inputs
    return [table.parent / Path(str(p).strip()).expanduser() for p in listed]


def _text_files(paths: list[Path]) -> NamedInputs:
    """Each ``.txt`` file under the folders in ``paths`` (and each file named) as one text."""
    files = [f for p in paths for f in (visible_files(p, _is_text_file) if p.is_dir() else [p])]
    if not files:
        raise DataError(f"no .txt files under {', '.join(map(str, paths))}")
    texts = []
    for file in files:
        if not file.is_file():
            raise DataError(f"no such text file: {file}")
        text = _read_text(file).strip()
        if not text:
            raise DataError(f"{file}: the file is empty")
        texts.append(text)
    return NamedInputs([str(f) for f in files], texts)


def _lines(path: Path) -> list[str]:
    """The non-blank lines of a text file."""
    return [line for line in _read_text(path).splitlines() if line.strip()]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (an image? this model reads text)") from None


def _is_text_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".txt"
