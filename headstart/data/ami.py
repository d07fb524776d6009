"""Real meeting speech of several speakers: the excerpts of the AMI Meeting Corpus (CC BY 4.0) that
``pyannote.audio`` 3.1.1 (MIT) ships as test data in its source archive: 14 recordings of 30 s
(16 kHz) with who-spoke-when labels (RTTM files).

``load_ami_speakers()`` cuts, from every labelled turn, the stretches where **only** that speaker
talks (other speakers' turns subtracted) into windows of ``WINDOW_SECONDS``, and keeps the speakers
with at least ``MIN_WINDOWS`` windows: a speaker-identification set of real, overlapping,
far-field meeting talk (laughs, fillers and crosstalk at the window edges included). The windows
are built once and cached (``$HEADSTART_CACHE``).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import soundfile

from headstart.data.audio import SAMPLE_RATE, to_waveform
from headstart.data.cache import cached_file, sdist_member
from headstart.data.dataset import Dataset
from headstart.data.readers import encode_labels

PACKAGE, VERSION = "pyannote.audio", "3.1.1"
ROOT = f"pyannote.audio-{VERSION}/tests/data"
RTTM = ("debug.train.rttm", "debug.development.rttm", "debug.test.rttm")
WINDOW_SECONDS, MIN_WINDOWS = 1.5, 5
Turn = tuple[float, float, str]  # start, end (s), speaker


def load_ami_speakers() -> Dataset:
    """1.5 s single-speaker windows labelled by speaker; ``meta["recordings"]`` names each window's
    recording and ``meta["starts"]`` its start (s)."""
    with np.load(cached_file("ami_speakers.npz", _write)) as arrays:
        waves = np.split(arrays["samples"].astype(np.float32) / 32767, np.cumsum(arrays["lengths"])[:-1])
        speakers, recordings, starts = arrays["speakers"], arrays["recordings"], arrays["starts"]
    labels, classes = encode_labels(speakers.tolist())
    return Dataset(waves, labels, classes, "audio", name="ami_speakers",
                   meta={"recordings": recordings, "starts": starts, "sample_rate": SAMPLE_RATE})


def read_rttm(text: str) -> dict[str, list[Turn]]:
    """Turns per recording from RTTM lines (``SPEAKER uri 1 start duration <NA> <NA> who …``)."""
    turns: dict[str, list[Turn]] = defaultdict(list)
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start = float(fields[3])
            turns[fields[1]].append((start, start + float(fields[4]), fields[7]))
    return dict(turns)


def solo_stretches(turns: list[Turn]) -> list[Turn]:
    """The parts of each turn when no other speaker talks."""
    solo = []
    for start, end, who in turns:
        parts = [(start, end)]
        for other_start, other_end, other in turns:
            if other == who:
                continue
            parts = [piece for a, b in parts for piece in ((a, min(b, other_start)), (max(a, other_end), b))
                     if piece[1] > piece[0]]
        solo.extend((a, b, who) for a, b in parts)
    return solo


def _write(path: Path) -> None:
    turns: dict[str, list[Turn]] = {}
    for name in RTTM:
        turns.update(read_rttm(sdist_member(PACKAGE, VERSION, f"{ROOT}/{name}").decode("utf-8")))
    windows: list[tuple[np.ndarray, str, str, float]] = []
    for uri in sorted(turns):
        samples, rate = soundfile.read(io.BytesIO(sdist_member(PACKAGE, VERSION, f"{ROOT}/{uri}.wav")), dtype="float32")
        for start, end, who in solo_stretches(turns[uri]):
            for offset in np.arange(start, end - WINDOW_SECONDS + 1e-9, WINDOW_SECONDS):
                begin = round(offset * rate)
                piece = samples[begin: begin + round(WINDOW_SECONDS * rate)]
                windows.append((to_waveform(piece, rate, f"{uri} at {offset:.1f} s"), who, uri, float(offset)))
    counts = Counter(who for _, who, _, _ in windows)
    kept = [w for w in windows if counts[w[1]] >= MIN_WINDOWS]
    np.savez_compressed(
        path, samples=np.concatenate([np.round(w[0] * 32767).astype(np.int16) for w in kept]),
        lengths=np.array([len(w[0]) for w in kept]), speakers=np.array([w[1] for w in kept]),
        recordings=np.array([w[2] for w in kept]), starts=np.array([w[3] for w in kept]))
