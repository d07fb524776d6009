"""A SYNTHETIC set of English accents, spoken by the espeak-ng speech engine (``apt-get install espeak-ng``).

Each of six English accents of espeak-ng (US, British RP, Scottish, Caribbean, Lancaster, West
Midlands) is spoken by several voices (an espeak-ng voice variant at its own pitch and speed); every
voice says the same utterances (short sentences and digit strings), so the accent is the only
thing that tells the classes apart. The set is built once at first use (11 s on two cores for the
default 6 x 4 x 20 = 480 clips, 1.5 s each) and cached as an .npz of int16 PCM (``HEADSTART_CACHE``). This is generated speech,
not recordings: never let it be the only evidence for a claim about real voices.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import soundfile as sf

from headstart.data import cache
from headstart.data.audio import SAMPLE_RATE, to_waveform
from headstart.data.dataset import Dataset
from headstart.data.readers import encode_labels
from headstart.errors import DataError

ACCENTS = ("en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
# (espeak-ng voice variant, pitch 0..99, speed in words per minute): one "speaker" each
VOICES = (("m1", 40, 155), ("f2", 70, 170), ("m3", 30, 140), ("f4", 80, 180),
          ("m7", 50, 165), ("f1", 60, 150), ("m2", 45, 175), ("f5", 75, 145))
SENTENCES = (
    "The train leaves at half past nine.", "Please close the garden gate.", "She bought three red apples.",
    "My brother works on a farm.", "The weather is cold and wet today.", "Turn left at the old church.",
    "We walked along the river bank.", "The water in the bath is hot.", "He lost his car keys again.",
    "Could you pass the butter, please?", "The dog barked at the postman.", "I would like a cup of tea.",
    "They painted the house yellow.", "The children played in the park.", "It is a long way to the town.",
    "Put the book back on the shelf.", "Our flight was delayed by an hour.", "The shop opens early on Monday.",
    "Bring your coat, it might rain.", "The singer forgot the words.",
)
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
Label = Literal["accent", "speaker", "text"]
_FORMAT = 1  # bump when the stored arrays change


def utterances(n: int) -> list[str]:
    """The first ``n`` utterances: sentences and three-digit strings, alternating (at most 40)."""
    rng = np.random.default_rng(0)
    digit_strings = [" ".join(DIGITS[d] for d in rng.integers(0, 10, 3)) for _ in SENTENCES]
    texts = [t for pair in zip(SENTENCES, digit_strings) for t in pair]
    if not 1 <= n <= len(texts):
        raise DataError(f"speech accents: n_utterances must be 1..{len(texts)}, not {n}")
    return texts[:n]


def load_accents(
    accents: Sequence[str] = ACCENTS, n_voices: int = 4, n_utterances: int = 20, label: Label = "accent"
) -> Dataset:
    """The SYNTHETIC accent set: 16 kHz waveforms of every accent x voice x utterance, labelled by
    ``label`` (the accent by default; or the speaker, or the utterance's text for a keyword task).

    ``meta`` holds, aligned with ``inputs`` (as numpy arrays, so that ``meta["speakers"][idx]``
    follows a subset ``idx``, as ``Dataset.subset`` keeps them): ``"accents"``,
    ``"voices"`` (the same voice name across accents, e.g. ``"f2"``, to hold a voice out) and
    ``"speakers"`` (accent/voice, one per speaker), ``"texts"``; plus ``"synthetic": True`` and
    ``"generator"`` (the espeak-ng version).
    """
    if not 1 <= n_voices <= len(VOICES):
        raise DataError(f"speech accents: n_voices must be 1..{len(VOICES)}, not {n_voices}")
    if label not in ("accent", "speaker", "text"):
        raise DataError(f"speech accents: label must be 'accent', 'speaker' or 'text', not {label!r}")
    accents, voices, texts = list(accents), VOICES[:n_voices], utterances(n_utterances)
    unknown = sorted(set(accents) - _espeak_voices("--voices=en"))
    if unknown:
        raise DataError(f"speech accents: espeak-ng has no voice {', '.join(unknown)}; try: {', '.join(ACCENTS)}")
    key = json.dumps([_FORMAT, _espeak_version(), accents, voices, texts]).encode()
    name = f"speech_accents-{hashlib.blake2b(key, digest_size=8).hexdigest()}.npz"
    with np.load(cache.cached_file(name, lambda p: _build(p, accents, voices, texts))) as stored:
        pcm, ends = stored["pcm"], stored["ends"]
        meta = {k: stored[k] for k in ("accents", "voices", "speakers", "texts")}
    starts = np.concatenate([[0], ends[:-1]])
    inputs = [(pcm[a:b] / 32767).astype(np.float32) for a, b in zip(starts, ends)]
    names = [str(v) for v in meta[f"{label}s"]]
    codes, classes = encode_labels(names, accents if label == "accent" else None)
    return Dataset(inputs, codes, classes, "audio", name="speech_accents", meta={
        **meta, "synthetic": True, "generator": _espeak_version(), "sample_rate": SAMPLE_RATE,
        "note": "SYNTHETIC speech generated by espeak-ng (not recordings)",
    })


def _build(path: Path, accents: list[str], voices: Sequence[tuple[str, int, int]], texts: list[str]) -> None:
    """Speak every accent x voice x text and store the 16 kHz clips as int16 PCM, end to end."""
    jobs = [(a, v, t) for a in accents for v in voices for t in texts]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        clips = list(pool.map(lambda job: speak(job[2], *job[:2]), jobs))
    pcm = np.concatenate([np.round(c * 32767).astype(np.int16) for c in clips])
    with path.open("wb") as out:  # np.savez_compressed would add ".npz" to a str path
        np.savez_compressed(
            out, pcm=pcm, ends=np.cumsum([len(c) for c in clips]),
            accents=np.array([a for a, _, _ in jobs]), voices=np.array([v[0] for _, v, _ in jobs]),
            speakers=np.array([f"{a}/{v[0]}" for a, v, _ in jobs]), texts=np.array([t for _, _, t in jobs]),
        )


def speak(text: str, accent: str = "en-us", voice: tuple[str, int, int] = VOICES[0]) -> np.ndarray:
    """``text`` spoken by espeak-ng in ``accent`` with ``voice`` (variant, pitch, speed; the variant
    is left out if espeak-ng lacks it), as a normalised 16 kHz waveform with espeak-ng's digital
    silence at either end cut."""
    variant, pitch, speed = voice
    name = f"{accent}+{variant}" if variant in _espeak_voices("--voices=variant") else accent
    command = [_espeak(), "-v", name, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    result = subprocess.run(command, capture_output=True)
    where = f"espeak-ng -v {name}: {text!r}"
    if result.returncode != 0 or not result.stdout:
        raise DataError(f"{where} failed: {result.stderr.decode(errors='replace').strip() or 'no audio'}")
    samples, rate = sf.read(io.BytesIO(result.stdout), dtype="float32")
    sound = np.flatnonzero(np.abs(samples) > 1e-4)
    return to_waveform(samples[sound[0]:sound[-1] + 1] if sound.size else samples, rate, where)


@lru_cache(maxsize=None)
def _espeak_voices(option: str) -> set[str]:
    """The languages (``--voices=en``) or variant names (``--voices=variant``) espeak-ng has."""
    lines = _run_espeak(option).splitlines()[1:]
    if option == "--voices=variant":
        return {line.split()[-1].removeprefix("!v/") for line in lines if line.split()}
    return {line.split()[1] for line in lines if len(line.split()) > 1}


@lru_cache(maxsize=1)
def _espeak_version() -> str:
    return " ".join(_run_espeak("--version").split()[:4])  # "eSpeak NG text-to-speech: 1.51"


def _run_espeak(option: str) -> str:
    return subprocess.run([_espeak(), option], capture_output=True, text=True, check=True).stdout


def _espeak() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise DataError("the speech accents set needs the espeak-ng speech engine: apt-get install espeak-ng")
    return found
