"""Voice-activity detection with silero-vad (MIT): where the speech is in a 16 kHz waveform.

The model is the ONNX export in the ``silero-vad==6.2.3`` wheel (fetched once into the cache,
read straight out of the wheel, run with onnxruntime; no TorchScript, nothing unpickled). Its
``silero_vad_16k_sequence.onnx`` runs a block of 32 ms frames in one call and gives the same
per-frame probabilities as the streaming ``silero_vad.onnx`` (checked bit-exact). Each frame is
512 samples prefixed by the last 64 samples of the previous frame (zeros for the first); the LSTM
state carries over between blocks. The probabilities become speech spans with the package's own
rules (``utils_vad.get_speech_timestamps_from_probs``): speech starts at a frame >= ``threshold``,
ends after ``min_silence_ms`` below ``threshold - 0.15``, spans shorter than ``min_speech_ms`` are
dropped, and each span is padded by ``pad_ms``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from headstart.data import cache
from headstart.errors import DataError

SAMPLE_RATE = 16000  # the rate of every waveform headstart handles (re-exported by headstart.data.audio)
FRAME = 512  # samples per frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame the model sees before each frame
BLOCK = 512  # frames per ONNX call (~16 s of audio)
WHEEL = ("silero-vad", "6.2.3")
MODEL = "silero_vad/data/silero_vad_16k_sequence.onnx"


@lru_cache(maxsize=1)
def _session() -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise DataError("voice-activity trimming needs onnxruntime: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    return ort.InferenceSession(cache.wheel_member(*WHEEL, MODEL), options, providers=["CPUExecutionProvider"])


def speech_probabilities(waveform: np.ndarray) -> np.ndarray:
    """The speech probability of each 512-sample frame of a 16 kHz waveform (the last one zero-padded)."""
    audio = np.ascontiguousarray(waveform, dtype=np.float32).reshape(-1)
    n_frames = -(-audio.size // FRAME)
    if n_frames == 0:
        return np.zeros(0, dtype=np.float32)
    frames = np.zeros((n_frames, FRAME), dtype=np.float32)
    frames.reshape(-1)[: audio.size] = audio
    contexts = np.concatenate([np.zeros((1, CONTEXT), np.float32), frames[:-1, -CONTEXT:]])
    windows = np.concatenate([contexts, frames], axis=1)
    hidden = cell = np.zeros((1, 1, 128), dtype=np.float32)
    probs = []
    for first in range(0, n_frames, BLOCK):
        block_probs, hidden, cell = _session().run(
            ["speech_probs", "hn", "cn"], {"input": windows[first:first + BLOCK], "h": hidden, "c": cell}
        )
        probs.append(block_probs.reshape(-1))
    return np.concatenate(probs)


def speech_spans(
    waveform: np.ndarray,
    *,
    threshold: float = 0.5,
    min_speech_ms: int = 250,
    min_silence_ms: int = 100,
    pad_ms: int = 30,
) -> list[tuple[int, int]]:
    """The ``(start, stop)`` sample ranges of speech in a 16 kHz waveform, padded by ``pad_ms``
    each side; spans the padding makes touch are merged. Defaults are silero-vad's."""
    n = len(waveform)
    min_speech, min_silence, pad = (SAMPLE_RATE * ms // 1000 for ms in (min_speech_ms, min_silence_ms, pad_ms))
    off = max(threshold - 0.15, 0.01)
    raw: list[tuple[int, int]] = []
    start: int | None = None
    silence_from = 0  # the frame where the current run of silence began (0: none)
    for i, prob in enumerate(speech_probabilities(waveform)):
        sample = i * FRAME
        if prob >= threshold:
            silence_from = 0
            start = sample if start is None else start
        elif prob < off and start is not None:
            silence_from = silence_from or sample
            if sample - silence_from >= min_silence:
                if silence_from - start > min_speech:
                    raw.append((start, silence_from))
                start, silence_from = None, 0
    if start is not None and n - start > min_speech:
        raw.append((start, n))
    spans: list[tuple[int, int]] = []
    for begin, end in raw:
        begin, end = max(0, begin - pad), min(n, end + pad)
        if spans and begin <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((begin, end))
    return spans


def trim(waveform: np.ndarray, **options: Any) -> np.ndarray:
    """The speech of a 16 kHz waveform: its ``speech_spans`` (``options`` go there) joined, silence
    before, between and after them removed. Empty when there is no speech."""
    spans = speech_spans(waveform, **options)
    if not spans:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([waveform[a:b] for a, b in spans]).astype(np.float32, copy=False)
