"""Label names and the descriptions a zero-shot classifier embeds for them.

A label is a name (what predictions say, and what must match a dataset's class names) and one or
more descriptions (what is put into the templates; by default the name itself)::

    positive,negative                                     names only
    pos=a glowing review,neg=a scathing review            name=description
    pos=a glowing review|a rave,neg=a scathing review     alternatives, separated by "|"
    business=business, economy and finance;sport          ";" between items: commas stay in descriptions
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from headstart.data.dataset import Dataset
from headstart.errors import DataError, HeadstartError

Labels = Sequence[str] | Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class LabelPrompts:
    """Label ``names[c]`` is described by the texts ``descriptions[c]`` (at least one each)."""

    names: list[str]
    descriptions: list[list[str]]

    def as_dict(self) -> dict[str, list[str]]:
        return dict(zip(self.names, self.descriptions))


def label_prompts(labels: Labels | LabelPrompts, source: str = "labels") -> LabelPrompts:
    """Names (each its own description) or a mapping name -> description(s), checked."""
    if isinstance(labels, LabelPrompts):
        return labels
    if isinstance(labels, str):
        return parse_labels(labels, source)
    if isinstance(labels, Mapping):
        items = [(name, [value] if isinstance(value, str) else list(value)) for name, value in labels.items()]
    else:
        items = [(name, [name]) for name in labels]
    return _checked(items, source)


def parse_labels(spec: str, source: str = "--labels") -> LabelPrompts:
    """``"a,b"`` or ``"a=description,b=description"`` (alternatives separated by ``|``); items are
    separated by ``;`` instead when the spec has one, so that descriptions may contain commas."""
    parts = spec.split(";" if ";" in spec else ",")
    return _checked([_item(part) for part in parts if part.strip()], source)


def read_labels_file(path: str | Path) -> LabelPrompts:
    """One label a line, ``name`` or ``name=description`` (``|`` between alternatives);
    blank lines and lines starting with ``#`` are skipped."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such labels file")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            items.append(_item(line, f"{path}: line {number}"))
    return _checked(items, str(path))


def dataset_codes(dataset: Dataset, prompts: LabelPrompts) -> np.ndarray:
    """The dataset's labels as indices into ``prompts.names``, matched by class name."""
    index = {name: i for i, name in enumerate(prompts.names)}
    classes = dataset.classes or []
    missing = [c for c in classes if c not in index]
    if missing:
        raise HeadstartError(
            f"{dataset.name}: classes {', '.join(missing)} have no label among {', '.join(prompts.names)}; "
            f"name the labels after the data's classes ({', '.join(classes)}), e.g. '{classes[0]}=a description'"
        )
    return np.array([index[c] for c in classes])[dataset.labels.astype(int)]


def _item(text: str, where: str = "") -> tuple[str, list[str]]:
    name, sep, described = text.partition("=")
    name = name.strip()
    descriptions = [d.strip() for d in described.split("|") if d.strip()] if sep else [name]
    if sep and not descriptions:
        raise HeadstartError(f"{where or 'labels'}: label {name!r} has an empty description")
    return name, descriptions


def _checked(items: list[tuple[str, list[str]]], source: str) -> LabelPrompts:
    names = [name for name, _ in items]
    if len(names) < 2:
        raise HeadstartError(f"{source}: zero-shot classification needs at least 2 labels, got {len(names)}")
    if any(not name for name in names):
        raise HeadstartError(f"{source}: a label has an empty name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HeadstartError(f"{source}: label {repeated[0]!r} is given more than once")
    return LabelPrompts(names, [descriptions for _, descriptions in items])
