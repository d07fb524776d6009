"""silero-vad (ONNX from the silero-vad wheel) finds a real espeak-ng utterance inside padded silence."""

import numpy as np

from headstart.data import vad
from headstart.data.audio import SAMPLE_RATE, read_audio
from headstart.data.speech_synth import speak

MS = SAMPLE_RATE // 1000


def test_speech_span_matches_the_padding_and_trim_drops_it(tmp_path):
    speech = speak("We walked along the river bank.", "en-gb-x-rp")
    lead, tail = np.zeros(SAMPLE_RATE // 2, np.float32), np.zeros(SAMPLE_RATE, np.float32)
    padded = np.concatenate([lead, speech, tail])
    spans = vad.speech_spans(padded)
    start, stop = spans[0][0], spans[-1][1]
    assert abs(start - len(lead)) < 50 * MS, spans
    # silero's probability decays over a few frames after the last sound, and the span gets its 30 ms
    # padding: the end lands 50-100 ms late on espeak-ng speech, never early
    assert 0 <= stop - (len(lead) + len(speech)) < 120 * MS, spans
    assert 0 <= len(vad.trim(padded)) - len(speech) < 150 * MS
    assert vad.speech_spans(np.zeros(SAMPLE_RATE, np.float32)) == []


def test_probabilities_follow_the_speech_and_the_reader_trims(tmp_path):
    import soundfile as sf

    speech = speak("Put the book back on the shelf.")
    silence = np.zeros(SAMPLE_RATE, np.float32)
    probs = vad.speech_probabilities(np.concatenate([silence, speech]))
    frames = SAMPLE_RATE // vad.FRAME  # the first second is silence
    assert len(probs) == -(-(SAMPLE_RATE + len(speech)) // vad.FRAME)
    assert probs[:frames].max() < 0.1 and np.median(probs[frames + 3:]) > 0.9
    sf.write(tmp_path / "late.wav", np.concatenate([silence, speech, silence]), SAMPLE_RATE)
    assert abs(len(read_audio(tmp_path / "late.wav", trim=True)) - len(speech)) < 150 * MS
