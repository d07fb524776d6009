"""Readers that turn a folder, a table or arrays into a ``Dataset`` (``headstart.data.sources`` picks one).

Every reader checks its input up front and raises ``DataError`` with a one-line message naming
the file, row or column at fault, so that a bad example never surfaces halfway through training.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from headstart.data.dataset import Dataset, Modality, Task
from headstart.data.images import IMAGE_EXTENSIONS, decode_image_file, is_image_file
from headstart.errors import DataError

log = logging.getLogger(__name__)

OnError = Literal["fail", "skip"]
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
TABLE_SUFFIXES = frozenset(TABLE_DELIMITERS) | JSONL_SUFFIXES


# ----------------------------------------------------------------------------- image folders


def read_image_folder(root: Path | str, on_error: OnError = "fail") -> Dataset:
    """An image dataset from ``root/<class>/**/<image>`` (classes = sorted sub-folder names).

    Inputs are ``Path``s, decoded lazily later; every file is fully decoded once here so that a
    corrupt or truncated image is found now. ``on_error="fail"`` raises on the first bad file;
    ``"skip"`` drops bad files, logs a warning and lists them in ``meta["skipped"]``.
    Hidden entries and ``__MACOSX``-style folders are ignored.
    """
    root = Path(root)
    files, labels, classes = class_folder_files(root, image_files, "image", IMAGE_EXTENSIONS)
    problems = _decode_problems(files)
    if problems and on_error == "fail":
        raise next(iter(problems.values()))
    for problem in problems.values():
        log.warning("skipping %s", problem)
    keep = [i for i, path in enumerate(files) if path not in problems]
    return Dataset(
        [files[i] for i in keep],
        np.asarray(labels)[keep],
        classes,
        "image",
        name=root.name,
        meta={"source": str(root), "skipped": list(problems)},
    )


def class_folder_files(
    root: Path, list_files: Callable[[Path], list[Path]], kind: str, extensions: frozenset[str]
) -> tuple[list[Path], list[int], list[str]]:
    """The files ``list_files`` finds in each class sub-folder of ``root`` (classes = sorted visible
    sub-folder names), their class codes and the class names; refuses a class without ``kind`` files."""
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith((".", "__")))
    if not class_dirs:
        raise DataError(f"{root}: no class sub-folders (expected one folder of {kind} files per class)")
    files: list[Path] = []
    labels: list[int] = []
    for code, class_dir in enumerate(class_dirs):
        class_files = list_files(class_dir)
        if not class_files:
            raise DataError(f"{class_dir}: no {kind} files ({', '.join(sorted(extensions))})")
        files += class_files
        labels += [code] * len(class_files)
    return files, labels, [d.name for d in class_dirs]


def image_files(folder: Path) -> list[Path]:
    """Image files anywhere under ``folder``, sorted, skipping hidden files and folders."""
    return visible_files(folder, is_image_file)


def visible_files(folder: Path, keep: Callable[[Path], bool]) -> list[Path]:
    """The files anywhere under ``folder`` that ``keep`` accepts, sorted, skipping hidden files and folders."""
    return sorted(
        p for p in folder.rglob("*")
        if keep(p) and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _decode_problems(files: Sequence[Path]) -> dict[Path, DataError]:
    """The files that do not decode, in order, each with the ``DataError`` saying why."""

    def check(path: Path) -> DataError | None:
        try:
            decode_image_file(path)
        except DataError as exc:
            return exc
        return None

    # Pillow releases the GIL while decoding, so threads check files in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return {path: error for path, error in zip(files, pool.map(check, files)) if error is not None}


# ----------------------------------------------------------------------------- tables


def read_table(
    path: Path | str,
    text_col: str = "text",
    label_col: str | None = "label",
    task: Task = "classification",
    label_sep: str = "|",
    *,
    allow_unlabelled: bool = False,
) -> Dataset:
    """A text dataset from a CSV, TSV or JSONL file (one example per row).

    ``task`` decides how ``label_col`` is parsed: class names (``"classification"``), floats
    (``"regression"``) or ``label_sep``-separated class names (``"multilabel"``, a JSON list also
    works) turned into a multi-hot ``(n, C)`` array. ``label_col=None``, or a file without that
    column when ``allow_unlabelled``, gives an unlabelled dataset.
    """
    path = Path(path)
    columns, rows = read_rows(path)
    _require_column(path, text_col, columns, "text")
    labelled = label_col is not None and (label_col in columns or not allow_unlabelled)
    if labelled:
        _require_column(path, label_col, columns, "label")
    texts: list[str] = []
    raw_labels: list[Any] = []
    for number, (line, row) in enumerate(rows, 1):
        where = f"{path}: row {number} (line {line})"
        texts.append(_text(where, row.get(text_col), text_col))
        if labelled:
            raw_labels.append(_parse_label(where, row.get(label_col), label_col, task, label_sep))
    dataset = Dataset(texts, None, None, "text", task=task, name=path.stem, meta={"source": str(path)})
    if not labelled:
        return dataset
    if task == "regression":
        dataset.labels = np.array(raw_labels, dtype=np.float64)
    elif task == "multilabel":
        dataset.labels, dataset.classes = multi_hot(raw_labels)
    else:
        dataset.labels, dataset.classes = encode_labels(raw_labels)
    return dataset


Row = tuple[int, dict[str, Any]]  # (line number in the file, column -> value)


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """The column names and the rows (line number, column -> value) of a CSV/TSV/JSONL file, as
    ``load_data`` reads them; refuses a missing, empty, header-only or non-UTF-8 file."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text = _decode_utf8(path)
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    if path.suffix.lower() in JSONL_SUFFIXES:
        columns, rows = _jsonl_rows(path, text)
    else:
        columns, rows = _delimited_rows(path, text)
    if not rows:
        raise DataError(f"{path}: no rows (only a header)")
    return columns, rows


def _decode_utf8(path: Path) -> str:
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        raise DataError(f"{path}: line {line} is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8") from None


def _jsonl_rows(path: Path, text: str) -> tuple[list[str], list[Row]]:
    columns: dict[str, None] = {}  # an ordered set
    rows: list[Row] = []
    for line, content in enumerate(text.split("\n"), 1):  # not splitlines: JSON allows raw U+2028
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {line} is not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}: line {line} is not a JSON object")
        columns.update(dict.fromkeys(record))
        rows.append((line, record))
    return list(columns), rows


def _delimited_rows(path: Path, text: str) -> tuple[list[str], list[Row]]:
    delimiter = _delimiter(path, header=text.partition("\n")[0])
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # a cell may be as long as the file (long documents)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV ({exc})") from None
    return list(reader.fieldnames or []), rows


def _delimiter(path: Path, header: str) -> str:
    """The delimiter the extension implies, unless the header shows another one (e.g. ``;``)."""
    expected = TABLE_DELIMITERS.get(path.suffix.lower(), ",")
    if expected in header:
        return expected
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:  # a single column
        return expected


def _require_column(path: Path, column: str, columns: Sequence[str], role: str) -> None:
    """Refuse a table without the ``role`` ("text" or "label") column, saying how to name another."""
    if column not in columns:
        raise DataError(f"{path}: no {role} column '{column}'; columns are: {', '.join(map(str, columns))} "
                        f"(name the {role} column with --{role}-col, or {role}_col= in Python)")


def _text(where: str, value: Any, column: str) -> str:
    text = "" if value is None else str(value)
    if not text.strip():
        raise DataError(f"{where} has an empty text in column '{column}'")
    return text


def _parse_label(where: str, value: Any, column: str, task: Task, sep: str) -> str | float | list[str]:
    """A class name, a float target or a list of class names, depending on ``task``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{where} has no label in column '{column}'")
    if task == "multilabel":
        parts = value if isinstance(value, list) else str(value).split(sep)
        return [str(p).strip() for p in parts if str(p).strip()]
    if task == "classification":
        return str(value).strip()
    try:
        target = float(value)
    except (TypeError, ValueError):
        target = math.nan
    if not math.isfinite(target):
        raise DataError(f"{where} has a regression target that is not a finite number: {value!r}")
    return target


# ----------------------------------------------------------------------------- label encoding


def sorted_classes(names: set[str]) -> list[str]:
    """Class names sorted numerically when they are all integers ("2" < "10"), else as text."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def encode_labels(
    names: Sequence[str], classes: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Integer codes into ``classes`` (default: the sorted distinct ``names``)."""
    classes = list(classes) if classes is not None else sorted_classes(set(names))
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(names) - index.keys())
    if unknown:
        raise DataError(f"labels {', '.join(unknown[:5])} are not among the classes {', '.join(classes)}")
    return np.array([index[n] for n in names], dtype=np.int64), classes


def multi_hot(tag_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, list[str]]:
    """A ``(n, C)`` 0/1 ``uint8`` matrix, entry ``(i, c)`` = 1 when example ``i`` has class ``c``,
    and the classes (sorted distinct tags)."""
    classes = sorted_classes({t for tags in tag_lists for t in tags})
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(tag_lists), len(classes)), dtype=np.uint8)
    for row, tags in zip(matrix, tag_lists):
        row[[index[t] for t in tags]] = 1
    return matrix, classes


# ----------------------------------------------------------------------------- arrays


def from_arrays(
    X: np.ndarray,
    y: np.ndarray | Sequence[Any] | None = None,
    classes: Sequence[str] | None = None,
    modality: Modality | None = None,
    *,
    task: Task = "classification",
    name: str = "arrays",
) -> Dataset:
    """A dataset from in-memory arrays.

    ``X`` is a ``uint8`` batch of images ``(n, H, W)`` / ``(n, H, W, C)`` (modality ``"image"``)
    or a 2-D array of feature rows (``"array"``); the modality is inferred unless given.
    Classification labels may be names or integers; with ``classes`` given, integer labels are
    codes into it, otherwise classes are the sorted distinct labels. Regression labels are floats;
    multilabel labels a 0/1 ``(n, C)`` matrix.
    """
    X = np.asarray(X)
    modality = modality or _infer_modality(X)
    image_batch = X.dtype == np.uint8 and (X.ndim == 3 or (X.ndim == 4 and X.shape[3] in (1, 3, 4)))
    if modality == "image" and not image_batch:
        raise DataError(f"{name}: image arrays must be uint8 (n, H, W) or (n, H, W, 1|3|4); got {X.dtype} {X.shape}")
    if modality == "array" and X.ndim != 2:
        raise DataError(f"{name}: feature arrays must be 2-D (n, features); got shape {X.shape}")
    dataset = Dataset(X, None, None, modality, task=task, name=name)
    if y is not None:
        dataset.labels, dataset.classes = _encode_array_labels(name, np.asarray(y), classes, task)
    return dataset


def _infer_modality(X: np.ndarray) -> Modality:
    if X.dtype == np.uint8 and X.ndim in (3, 4):
        return "image"
    if X.ndim == 2:
        return "array"
    raise DataError(f"cannot tell the modality of a {X.dtype} array of shape {X.shape}; pass modality=")


def _encode_array_labels(
    name: str, y: np.ndarray, classes: Sequence[str] | None, task: Task
) -> tuple[np.ndarray, list[str] | None]:
    if task == "regression":
        return y.astype(np.float64), None
    if task == "multilabel":
        if y.ndim != 2 or not np.isin(y, (0, 1)).all():
            raise DataError(f"{name}: multilabel labels must be a 0/1 matrix (n, classes); got {y.shape}")
        names = list(classes) if classes is not None else [str(c) for c in range(y.shape[1])]
        return y.astype(np.uint8), names
    if np.issubdtype(y.dtype, np.integer) and classes is not None:
        if y.min() < 0 or y.max() >= len(classes):
            raise DataError(
                f"{name}: integer labels must be codes in 0..{len(classes) - 1} for {len(classes)} classes;"
                f" got {y.min()}..{y.max()}"
            )
        return y.astype(np.int64), list(classes)
    if np.issubdtype(y.dtype, np.floating) and not np.equal(np.mod(y, 1), 0).all():
        raise DataError(f"{name}: class labels are fractional numbers; pass task='regression' for targets")
    names = [str(v) for v in (y.astype(np.int64) if np.issubdtype(y.dtype, np.floating) else y)]
    return encode_labels(names, classes)


def require_labels(dataset: Dataset, min_classes: int = 2) -> None:
    """Raise ``DataError`` unless ``dataset`` is labelled with ``min_classes`` or more classes present."""
    if dataset.labels is None:
        raise DataError(f"{dataset.name}: the data has no labels (is the label column missing?)")
    if dataset.task != "classification":
        return
    present = [(dataset.classes or [])[code] for code in np.unique(dataset.labels)]
    if len(present) < min_classes:
        names = ", ".join(present)
        raise DataError(f"{dataset.name}: only {len(present)} class present ({names}); need at least {min_classes}")
