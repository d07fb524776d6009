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


def test_the_block_model_matches_silero_streaming_model():
    """The streaming ``silero_vad.onnx`` run frame by frame as silero's own ``OnnxWrapper`` does
    (state carried, the last 64 samples of the previous frame prepended) gives the same probabilities."""
    import onnxruntime as ort

    from headstart.data.catalogue import wheel_member

    waveform = np.concatenate([np.zeros(4000, np.float32), speak("six one four", "en-029")])
    streaming = ort.InferenceSession(wheel_member(*vad.WHEEL, "silero_vad/data/silero_vad.onnx"),
                                     providers=["CPUExecutionProvider"])
    state, context, expected = np.zeros((2, 1, 128), np.float32), np.zeros((1, vad.CONTEXT), np.float32), []
    for start in range(0, len(waveform), vad.FRAME):
        frame = np.zeros((1, vad.FRAME), np.float32)
        chunk = waveform[start:start + vad.FRAME]
        frame[0, :len(chunk)] = chunk
        x = np.concatenate([context, frame], axis=1)
        out, state = streaming.run(None, {"input": x, "state": state, "sr": np.array(SAMPLE_RATE, np.int64)})
        expected.append(out.item())
        context = x[:, -vad.CONTEXT:]
    np.testing.assert_allclose(vad.speech_probabilities(waveform), expected, atol=1e-5)
