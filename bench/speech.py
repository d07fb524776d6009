"""Speech transfer (issue 15): digits across speakers on real recordings (FSDD), speakers and accents.

**FSDD leave-one-speaker-out** (``fsdd``: 3,000 real recordings, 13 MFCCs per frame, six speakers;
speaker ids inferred, see ``headstart/data/fsdd.py``). For each held-out speaker S:

- an ``hs-speech`` encoder is pre-trained on the other five speakers' digits
  (``headstart.pretrain_speech``, default recipe);
- K = 1, 5, 20 recordings per digit of S, drawn by seed (``SEEDS``), are the only labels of S;
  scored on S's other recordings: the MFCC-statistics + logistic-regression baseline (at K = 1 its
  C cannot be cross-validated and stays at scikit-learn's default 1.0), ``scratch`` (the
  encoder's architecture from random weights on the K examples), and the pre-trained encoder
  transferred with ``probe`` and ``finetune``;
- unsupervised: S's recordings without labels, through ``headstart.adapt`` (``ADAPT``), scored on
  a fixed stratified 20 % of S (seed 0); ``oracle`` is ``finetune`` on the other 80 % of S with
  its labels, the same 20 % scored. Gap closed = (adapted - source only) / (oracle - source only).

**Speaker identification on real recordings** (``ami_speakers``: 1.5 s solo windows of five
speakers in the AMI meeting excerpts of pyannote.audio's test data; FSDD ships no waveforms): K
windows per speaker drawn by seed (``AMI_SEEDS``), scored on the rest: the MFCC baseline,
``ge2e-speaker`` and ``crepe-tiny`` probes, GE2E's scratch architecture.

**Accents** on the SYNTHETIC espeak-ng set (``speech_accents``): accent identification with K clips
per accent from the voices seen in training, scored on a held-out voice (each voice in turn);
the baseline, GE2E (probe, fine-tune, scratch), CREPE (probe), and unsupervised adaptation to the
held-out voice; then speaker identification among its 24 voices.

    OMP_NUM_THREADS=1 .venv/bin/python bench/speech.py [--part fsdd|ami|accents] [--speakers s1,s2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

import headstart
from headstart.adapt.api import adapt
from headstart.baselines import fit_baseline, mfcc_baseline
from headstart.data import Dataset, load_dataset, sample_shots, stratified_split
from headstart.pretrain_speech import pretrain_speech

RESULTS = Path(__file__).parent / "results" / "speech.json"
SHOTS, SEEDS = (1, 5, 20), (0, 1)
ADAPT = ("source_only", "adabn", "self_training", "dann")


def rest_of(data: Dataset, part: Dataset) -> Dataset:
    """``data`` without the examples of ``part`` (compared by identity)."""
    taken = {id(x) for x in part.inputs}
    return data.subset([i for i, x in enumerate(data.inputs) if id(x) not in taken], name=f"{data.name}:rest")


def baseline_accuracy(train: Dataset, test: Dataset, seed: int) -> float:
    if min(train.class_counts().values()) >= 2:
        return fit_baseline(train, seed, kind="mfcc-stats").evaluate(test)["accuracy"]
    plain = clone(mfcc_baseline(2, seed).estimator)  # one example per class: no cross-validation, C stays 1.0
    plain.fit(list(train.inputs), train.labels)
    return float(np.mean(plain.predict(list(test.inputs)) == test.labels))


def fsdd_speaker(speaker: str, encoder_dir: Path) -> dict[str, Any]:
    """Every FSDD measurement with ``speaker`` held out."""
    started = time.perf_counter()
    net = pretrain_speech(f"fsdd:-{speaker}", encoder_dir)
    encoder = str(encoder_dir)
    row: dict[str, Any] = {"pretrain": net.trained, "shots": {}}
    target = load_dataset("fsdd", speaker)
    for k in SHOTS:
        cells: dict[str, list[float]] = {m: [] for m in ("baseline", "scratch", "probe", "finetune")}
        for seed in SEEDS:
            train = sample_shots(target, k, seed)
            test = rest_of(target, train)
            cells["baseline"].append(baseline_accuracy(train, test, seed))
            for method in ("scratch", "probe", "finetune"):
                fitted = headstart.fit(train, backbone=encoder, method=method, seed=seed)
                cells[method].append(fitted.evaluate(test)["accuracy"])
        row["shots"][str(k)] = {m: summary(v) for m, v in cells.items()}
        print(speaker, f"K={k}", {m: round(100 * statistics.mean(v), 1) for m, v in cells.items()}, flush=True)
    labelled, scored = stratified_split(target, 0.2, 0)
    row["oracle"] = headstart.fit(labelled, backbone=encoder, method="finetune").evaluate(scored)["accuracy"]
    source = load_dataset("fsdd", f"-{speaker}")
    row["adapt"] = {}
    for method in ADAPT:
        began = time.perf_counter()
        fitted = adapt(source, target.without_labels(), encoder, method)
        row["adapt"][method] = {"accuracy": fitted.evaluate(scored)["accuracy"],
                                "seconds": round(time.perf_counter() - began, 1)}
    base = row["adapt"]["source_only"]["accuracy"]
    for method, cell in row["adapt"].items():
        gap = row["oracle"] - base
        cell["gap_closed"] = None if gap <= 0 else round((cell["accuracy"] - base) / gap, 3)
    print(speaker, "oracle", row["oracle"], {m: c["accuracy"] for m, c in row["adapt"].items()}, flush=True)
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def summary(values: list[float]) -> dict[str, Any]:
    return {"mean": round(statistics.mean(values), 4), "sd": round(statistics.pstdev(values), 4),
            "runs": [round(v, 4) for v in values]}


def fsdd_part(speakers: list[str], results: dict[str, Any]) -> None:
    """Each speaker's row, written as soon as it is measured; then the table over all measured speakers."""
    rows = results.setdefault("fsdd", {}).setdefault("speakers", {})
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as scratch:
        for speaker in speakers:
            rows[speaker] = fsdd_speaker(speaker, Path(scratch) / f"enc-{speaker}")
            results["fsdd"]["over_speakers"] = over_speakers(rows)
            write(results)


def over_speakers(rows: dict[str, Any]) -> dict[str, Any]:
    speakers = sorted(rows)
    table: dict[str, Any] = {}
    for k in SHOTS:
        table[str(k)] = {m: summary([rows[s]["shots"][str(k)][m]["mean"] for s in speakers])
                         for m in ("baseline", "scratch", "probe", "finetune")}
    table["oracle"] = summary([rows[s]["oracle"] for s in speakers])
    for method in ADAPT:
        table[method] = summary([rows[s]["adapt"][method]["accuracy"] for s in speakers])
        closed = [rows[s]["adapt"][method]["gap_closed"] for s in speakers]
        table[method]["gap_closed"] = closed
    return table


def write(results: dict[str, Any]) -> None:
    """Merge into the results file (another part may have written since this run began)."""
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(results)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=1))


ACCENT_SHOTS = (5, 20)
ACCENT_METHODS = (("baseline", None), ("probe", "ge2e-speaker"), ("finetune", "ge2e-speaker"),
                  ("scratch", "ge2e-speaker"), ("probe", "crepe-tiny"))
ACCENT_ADAPT = ("source_only", "self_training", "coral")


def accents_part(results: dict[str, Any]) -> None:
    """Accent identification on the SYNTHETIC espeak-ng set, one voice held out at a time, and
    speaker identification among its 24 voices (accent x voice)."""
    data = load_dataset("speech_accents")
    voices = sorted(set(data.meta["voices"]))
    out: dict[str, Any] = {"synthetic": True, "generator": data.meta.get("generator"), "voices": voices,
                           "accents": list(data.classes or []), "held_out_voice": {}}
    for voice in voices:
        target = data.subset(np.flatnonzero(data.meta["voices"] == voice), name=f"voice {voice}")
        source = data.subset(np.flatnonzero(data.meta["voices"] != voice), name=f"not {voice}")
        row: dict[str, Any] = {}
        for k in ACCENT_SHOTS:
            train = sample_shots(source, k, seed=0)
            for method, backbone in ACCENT_METHODS:
                key = f"{method} {backbone}" if backbone else "baseline"
                began = time.perf_counter()
                if backbone is None:
                    accuracy = baseline_accuracy(train, target, 0)
                else:
                    accuracy = headstart.fit(train, backbone=backbone, method=method).evaluate(target)["accuracy"]
                row.setdefault(key, {})[str(k)] = {"accuracy": round(accuracy, 4),
                                                   "seconds": round(time.perf_counter() - began, 1)}
        labelled, scored = stratified_split(target, 0.5, 0)
        row["oracle probe ge2e-speaker"] = headstart.fit(labelled, backbone="ge2e-speaker", method="probe").evaluate(scored)["accuracy"]
        for method in ACCENT_ADAPT:
            fitted = adapt(source, target.without_labels(), "ge2e-speaker", method)
            row[f"adapt {method}"] = fitted.evaluate(scored)["accuracy"]
        out["held_out_voice"][voice] = row
        print("accents", voice, json.dumps(row), flush=True)
        results["accents"] = out
        write(results)
    from headstart.data.speech_synth import load_accents

    speakers = load_accents(label="speaker")
    train = sample_shots(speakers, 5, seed=0)
    test = rest_of(speakers, train)
    out["speaker_id"] = {"speakers": len(speakers.classes or []), "train_per_speaker": 5,
                         "baseline": baseline_accuracy(train, test, 0),
                         "probe ge2e-speaker": headstart.fit(train, backbone="ge2e-speaker", method="probe").evaluate(test)["accuracy"]}
    print("speaker id", out["speaker_id"], flush=True)
    write(results)


AMI_SHOTS, AMI_SEEDS = (1, 3, 5), (0, 1, 2, 3, 4)
AMI_METHODS = (("baseline", None), ("probe", "ge2e-speaker"), ("probe", "crepe-tiny"), ("scratch", "ge2e-speaker"))


def ami_part(results: dict[str, Any]) -> None:
    """Speaker identification on real meeting speech, K windows per speaker."""
    data = load_dataset("ami_speakers")
    recordings = {c: sorted(set(data.meta["recordings"][data.labels == i].tolist())) for i, c in enumerate(data.classes)}
    out: dict[str, Any] = {"speakers": data.class_counts(), "windows": len(data), "recordings": recordings, "shots": {}}
    for k in AMI_SHOTS:
        cells: dict[str, list[float]] = {}
        for seed in AMI_SEEDS:
            train = sample_shots(data, k, seed)
            test = rest_of(data, train)
            for method, backbone in AMI_METHODS:
                key = f"{method} {backbone}" if backbone else "baseline"
                accuracy = (baseline_accuracy(train, test, seed) if backbone is None else
                            headstart.fit(train, backbone=backbone, method=method, seed=seed).evaluate(test)["accuracy"])
                cells.setdefault(key, []).append(accuracy)
        out["shots"][str(k)] = {m: summary(v) for m, v in cells.items()}
        print("ami", f"K={k}", {m: round(100 * statistics.mean(v), 1) for m, v in cells.items()}, flush=True)
    results["ami"] = out
    write(results)


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("fsdd", "ami", "accents", "all"), default="all")
    parser.add_argument("--speakers", default="s1,s2,s3,s4,s5,s6")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.part in ("fsdd", "all"):
        fsdd_part(args.speakers.split(","), results)
    if args.part in ("ami", "all"):
        ami_part(results)
    if args.part in ("accents", "all"):
        accents_part(results)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
