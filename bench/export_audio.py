"""Benchmark the ONNX export of audio and series runs: parity with PyTorch, accuracy, int8.

- ``ge2e-speaker`` and ``crepe-tiny`` probes on real meeting speech (``ami_speakers``, 3 windows per
  speaker; test: the other windows, plus clips of 0.4 to 6 s joined from one speaker's windows);
- an ``hs-speech`` encoder pre-trained on five FSDD speakers, probed on the sixth (5 per digit;
  test: the rest of that speaker, real MFCC frames of every length);
- an ``hs-tcn`` encoder pre-trained on aeon's series, probed on GunPoint (5 per class; test: the
  test split, plus a third of it cut to 60-100 points: left-padded).

For each: max |Δprob| and label agreement of the fp32 graph against PyTorch, accuracy of both, and
with int8 (the backbone's quantisation; for GE2E, which refuses int8, the dynamic quantisation it
would take, measured to quote the refusal) accuracy, agreement and speed-up. Writes
``bench/results/export_audio.json`` (after each model; ``--only NAME`` reruns one).

    OMP_NUM_THREADS=1 .venv/bin/python -P bench/export_audio.py [--only ge2e-speaker|crepe-tiny|hs-speech|hs-tcn]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import headstart
from headstart.data import load_dataset, sample_shots
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.export import OnnxModel, export_onnx
from headstart.export.export import parity, parts, seconds_per_pass
from headstart.export.quantize import quantize
from headstart.export.runner import metadata_path
from headstart.pretrain import pretrain
from headstart.pretrain_speech import pretrain_speech

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "export_audio.json"
CLIP_SECONDS = (0.4, 0.8, 1.2, 2.0, 2.7, 3.5, 4.5, 6.0)


def rest_of(data: Dataset, part: Dataset) -> Dataset:
    taken = {id(x) for x in part.inputs}
    return data.subset([i for i, x in enumerate(data.inputs) if id(x) not in taken])


def joined_clips(data: Dataset) -> list[np.ndarray]:
    """Clips of ``CLIP_SECONDS`` cut from each speaker's windows joined end to end."""
    joined = [np.concatenate([w for w, y in zip(data.inputs, data.labels) if y == c]) for c in range(len(data.classes))]
    return [joined[c][: int(s * 16000)] for c in range(len(joined)) for s in CLIP_SECONDS]


def lengths(model: Any, items: list[Any]) -> list[int]:
    """The fewest and most rows (partials, frames; points for series) the inputs give."""
    counts = parts(model)[0].input_lengths(items)
    counts = np.array([np.shape(x)[-1] for x in items]) if counts is None else counts
    return [int(counts.min()), int(counts.max())]


def aeon_series(name: str) -> np.ndarray:
    """The value column of aeon's bundled ``name/name.csv``."""
    import aeon

    path = Path(aeon.__file__).parent / "datasets" / "data" / name / f"{name}.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, dtype=np.float64)


def measure(name: str, model: Any, test: Dataset, extra: list[Any], folder: Path) -> dict[str, Any]:
    """fp32 (and int8) export of ``model``: parity on ``test`` and ``extra`` inputs, accuracy on ``test``."""
    path = folder / f"{name}.onnx"
    items = list(test.inputs) + extra
    try:
        report = export_onnx(model, path, data=test, int8=True)
        int8 = report.pop("int8")
    except HeadstartError as refusal:  # no int8 export: measure the quantisation it would take
        report = export_onnx(model, path, data=test)
        target = path.with_name(f"{name}.int8.onnx")
        quantize(path, target, "dynamic", OnnxModel(path).prepare, [])
        shutil.copy(metadata_path(path), metadata_path(target))
        quantised = OnnxModel(target)
        int8 = {"refused": str(refusal), "quantisation": "dynamic", **parity(parts(model)[3], quantised, list(test.inputs)),
                "accuracy": float(quantised.evaluate(test)["accuracy"]),
                "speedup": seconds_per_pass(OnnxModel(path), list(test.inputs)) / seconds_per_pass(quantised, list(test.inputs))}
    onnx = OnnxModel(path)
    both = parity(parts(model)[3], onnx, items)
    row = {"test_examples": len(test), "extra_examples": len(extra), "rows_per_input": lengths(model, items),
           "max_abs_diff": both["max_abs_diff"], "label_agreement": both["label_agreement"],
           "accuracy_torch": float(model.evaluate(test)["accuracy"]), "accuracy_onnx": report["accuracy"],
           "int8": {k: int8[k] for k in ("refused", "quantisation", "max_abs_diff", "label_agreement", "accuracy", "speedup")
                    if k in int8}}
    print(name, json.dumps(row), flush=True)
    return row


def record(name: str, row: dict[str, Any], started: float) -> None:
    """Merge ``row`` into the results file as ``name``."""
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    results[name] = row | {"seconds": time.perf_counter() - started}
    OUT.write_text(json.dumps(results, indent=1))
    print(f"wrote {name} to {OUT}", flush=True)


def speech(folder: Path) -> None:
    started = time.perf_counter()
    pretrain_speech(sample_shots(load_dataset("fsdd", "-s3"), 20, seed=0), folder / "speech", widths=(32, 64),
                    epochs=8, seed=0)
    speaker = load_dataset("fsdd", "s3")
    train = sample_shots(speaker, 5, seed=0)
    model = headstart.fit(train, backbone=str(folder / "speech"), method="probe")
    record("hs-speech", measure("hs-speech", model, rest_of(speaker, train), [], folder), started)


def series(folder: Path) -> None:
    started = time.perf_counter()
    pretrain([aeon_series(n) for n in ("Airline", "Lynx", "ShampooSales")], folder / "tcn", epochs=3,
             steps_per_epoch=40, batch_size=16, lr=3e-3, seed=0, context=160, horizon=12, width=32, blocks=5)
    gunpoint = load_dataset("gunpoint", "test")
    model = headstart.fit(sample_shots(load_dataset("gunpoint", "train"), 5, seed=0), backbone=str(folder / "tcn"),
                          method="probe")
    cut = [x[: 60 + (i % 5) * 10] for i, x in enumerate(gunpoint.inputs[::3])]
    record("hs-tcn", measure("hs-tcn", model, gunpoint, cut, folder), started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("ge2e-speaker", "crepe-tiny", "hs-speech", "hs-tcn"))
    only = parser.parse_args().only
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ami = load_dataset("ami_speakers")
        train = sample_shots(ami, 3, seed=0)
        test = rest_of(ami, train)
        for backbone in ("ge2e-speaker", "crepe-tiny"):
            if only in (None, backbone):
                started = time.perf_counter()
                model = headstart.fit(train, backbone=backbone, method="probe")
                record(backbone, measure(backbone, model, test, joined_clips(test), folder), started)
        if only in (None, "hs-speech"):
            speech(folder)
        if only in (None, "hs-tcn"):
            series(folder)


if __name__ == "__main__":
    main()
