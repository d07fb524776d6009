"""Audio in: decode any supported file (or a waveform) into the one form audio backbones read.

A waveform is a 1-D ``float32`` array at ``SAMPLE_RATE`` (16 kHz), mono, with its loudness
normalised to ``TARGET_DBFS`` RMS (scaled down further if that would clip). Files are decoded by
``soundfile`` (libsndfile: WAV, FLAC, OGG, MP3), channels averaged to mono and resampled with
``soxr`` (high quality). With ``trim=True``, silero-vad keeps only the speech (``headstart.data.vad``).
A corrupt, empty, silent or too-short file, or one recorded below ``MIN_RATE``, raises
``DataError`` naming the file; the readers fail or skip (and report) such files, as for images.
"""

from __future__ import annotations

import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np
import soundfile as sf
import soxr

from headstart.data import vad
from headstart.data.dataset import Dataset, Task
from headstart.data.readers import OnError, class_folder_files, read_rows, read_table, visible_files
from headstart.data.vad import SAMPLE_RATE
from headstart.errors import DataError

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3"})
TARGET_DBFS = -20.0
SILENCE_DBFS = -60.0  # an RMS below this is silence
PEAK = 0.99  # loudness normalisation never scales a sample beyond this
MIN_SECONDS = 0.1
MIN_RATE = 8000  # below this a file cannot hold the speech band a 16 kHz model reads
log = logging.getLogger(__name__)


def is_audio_file(path: Path) -> bool:
    """True for a visible file with a supported audio extension (any letter case)."""
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".")


def audio_files(folder: Path) -> list[Path]:
    """Audio files anywhere under ``folder``, sorted, skipping hidden files and folders."""
    return visible_files(folder, is_audio_file)


def read_audio(path: Path | str, *, trim: bool = False) -> np.ndarray:
    """The waveform of an audio file (16 kHz mono float32, loudness-normalised; speech only with ``trim``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such audio file")
    return decode_audio(path, str(path), trim=trim)


def read_audio_bytes(data: bytes, where: str, *, trim: bool = False) -> np.ndarray:
    """The waveform of an audio file's bytes (e.g. an upload); ``where`` names it in errors."""
    return decode_audio(io.BytesIO(data), where, trim=trim)


def decode_audio(source: Path | BinaryIO, where: str, *, trim: bool = False) -> np.ndarray:
    try:
        samples, rate = sf.read(source, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{where}: not a readable audio file ({reason})") from None
    return to_waveform(samples, rate, where, trim=trim)


def load_audio(item: Path | str | np.ndarray, *, trim: bool = False) -> np.ndarray:
    """A waveform from an audio file or from a 1-D array already at 16 kHz (normalised the same way)."""
    if isinstance(item, (str, Path)):
        return read_audio(item, trim=trim)
    if isinstance(item, np.ndarray) and item.ndim == 1:
        return to_waveform(item, SAMPLE_RATE, "waveform", trim=trim)
    shape = getattr(item, "shape", "")
    raise DataError(f"expected an audio file or a 1-D waveform at {SAMPLE_RATE} Hz, not {type(item).__name__} {shape}")


def to_waveform(samples: np.ndarray, rate: int, where: str, *, trim: bool = False) -> np.ndarray:
    """``samples`` (``(n,)`` or ``(n, channels)`` at ``rate`` Hz) as a normalised 16 kHz mono
    waveform; ``where`` names the source in errors."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        raise DataError(f"{where}: no audio samples (an empty recording)")
    if not np.isfinite(samples).all():
        raise DataError(f"{where}: the audio holds NaN or infinite samples")
    if rate < MIN_RATE:
        raise DataError(f"{where}: sample rate {rate} Hz is below {MIN_RATE} Hz; record at {SAMPLE_RATE} Hz or more")
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)
    if _dbfs(mono) < SILENCE_DBFS:
        raise DataError(f"{where}: the recording is silent (RMS below {SILENCE_DBFS:.0f} dBFS)")
    if trim:
        mono = vad.trim(mono)
        if mono.size == 0:
            raise DataError(f"{where}: no speech found (voice-activity trimming left nothing)")
    seconds = mono.size / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        kept = " after trimming" if trim else ""
        raise DataError(f"{where}: too short ({seconds:.3f} s{kept}; at least {MIN_SECONDS} s needed)")
    return normalise_loudness(mono)


def normalise_loudness(waveform: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """``waveform`` scaled to ``target_dbfs`` RMS, or less if that would push a sample past ``PEAK``."""
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))
    peak = float(np.abs(waveform).max())
    gain = min(10 ** (target_dbfs / 20) / rms, PEAK / peak) if rms > 0 else 1.0
    return (waveform * gain).astype(np.float32)


def _dbfs(waveform: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else -np.inf


# ----------------------------------------------------------------------------- readers


def read_audio_folder(root: Path | str, on_error: OnError = "fail", trim: bool = False) -> Dataset:
    """An audio dataset from ``root/<class>/**/<file>`` (classes = sorted sub-folder names).

    Inputs are decoded waveforms (``read_audio``). ``on_error="fail"`` raises on the first bad file;
    ``"skip"`` drops bad files, logs a warning and lists them in ``meta["skipped"]``.
    Hidden entries and ``__MACOSX``-style folders are ignored.
    """
    root = Path(root)
    files, labels, classes = class_folder_files(root, audio_files, "audio", AUDIO_EXTENSIONS)
    waveforms, keep, skipped = _decode_all(files, on_error, trim)
    return Dataset(waveforms, np.asarray(labels)[keep], classes, "audio", name=root.name,
                   meta={"source": str(root), "skipped": skipped, "sample_rate": SAMPLE_RATE, "trim": trim})


def read_audio_table(
    path: Path | str,
    path_col: str = "path",
    label_col: str | None = "label",
    task: Task = "classification",
    label_sep: str = "|",
    *,
    on_error: OnError = "fail",
    trim: bool = False,
    allow_unlabelled: bool = False,
) -> Dataset:
    """An audio dataset from a CSV, TSV or JSONL file with a ``path_col`` column of audio files
    (relative paths are relative to the table's folder) and labels as ``read_table`` parses them."""
    path = Path(path)
    columns, _ = read_rows(path)
    if path_col not in columns:
        raise DataError(f"{path}: no audio path column '{path_col}'; columns are: {', '.join(map(str, columns))}"
                        f" (name it with path_col= in Python)")
    table = read_table(path, path_col, label_col, task, label_sep, allow_unlabelled=allow_unlabelled)
    files = [path.parent / Path(p.strip()).expanduser() for p in table.inputs]
    waveforms, keep, skipped = _decode_all(files, on_error, trim)
    kept = table.subset(keep)
    return replace(kept, inputs=waveforms, modality="audio",
                   meta={"source": str(path), "skipped": skipped, "sample_rate": SAMPLE_RATE, "trim": trim})


def _decode_all(files: Sequence[Path], on_error: OnError, trim: bool) -> tuple[list[np.ndarray], list[int], list[Path]]:
    """The waveforms of the files that decode, their positions in ``files`` and the files that do not
    (``on_error="fail"``: raise the first file's ``DataError`` instead)."""

    def decode(file: Path) -> np.ndarray | DataError:
        try:
            return read_audio(file, trim=trim)
        except DataError as exc:
            return exc

    # libsndfile, soxr and onnxruntime release the GIL, so threads decode files in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(decode, files))
    problems = [(file, r) for file, r in zip(files, results) if isinstance(r, DataError)]
    if problems and on_error == "fail":
        raise problems[0][1]
    for _, problem in problems:
        log.warning("skipping %s", problem)
    keep = [i for i, r in enumerate(results) if not isinstance(r, DataError)]
    if not keep:
        raise DataError(f"none of the {len(files)} audio files is readable; the first: {problems[0][1]}")
    return [results[i] for i in keep], keep, [file for file, _ in problems]


# ----------------------------------------------------------------------------- features


MFCC_HOP = 160  # samples between MFCC frames (10 ms)


def mfcc_frames(num_samples: int) -> int:
    """How many frames ``mfcc`` gives for a waveform of ``num_samples`` (centred windows)."""
    return 1 + num_samples // MFCC_HOP


def mfcc(waveform: np.ndarray, n_mfcc: int = 13) -> np.ndarray:
    """Mel-frequency cepstral coefficients ``(frames, n_mfcc)`` float32 of a 16 kHz waveform
    (librosa; 25 ms windows every 10 ms, 40 mel bands)."""
    import librosa  # slow to import; only the baselines need it

    coefficients = librosa.feature.mfcc(
        y=np.asarray(waveform, dtype=np.float32), sr=SAMPLE_RATE, n_mfcc=n_mfcc,
        n_fft=512, win_length=400, hop_length=MFCC_HOP, n_mels=40,
    )
    return np.ascontiguousarray(coefficients.T, dtype=np.float32)
