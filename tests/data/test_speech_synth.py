"""The SYNTHETIC espeak-ng accent set: built once into the cache, with the accents, voices and
utterances it says; and a clear error without espeak-ng."""

from collections import Counter

import numpy as np
import pytest

from headstart.data import speech_synth
from headstart.data.speech_synth import load_accents, speak
from headstart.errors import DataError

ACCENTS = ["en-us", "en-gb-scotland"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    return tmp_path


def test_a_tiny_set_builds_once_with_its_accents_and_speakers(cache):
    ds = load_accents(ACCENTS, n_voices=2, n_utterances=3)
    assert ds.modality == "audio" and ds.classes == ACCENTS and len(ds) == 2 * 2 * 3
    assert ds.meta["synthetic"] is True and ds.meta["generator"].startswith("eSpeak NG")
    assert Counter(ds.meta["speakers"]) == {f"{a}/{v}": 3 for a in ACCENTS for v in ("m1", "f2")}
    assert [ACCENTS[c] for c in ds.labels] == list(ds.meta["accents"])
    assert set(ds.meta["texts"]) == set(speech_synth.utterances(3))
    assert set(str(ds.meta["texts"][1]).split()) <= set(speech_synth.DIGITS)  # sentences alternate with digits
    assert all(x.dtype == np.float32 and x.ndim == 1 and 0.5 < len(x) / 16000 < 5 for x in ds.inputs)
    stored = list((cache / "datasets").glob("speech_accents-*.npz"))
    assert len(stored) == 1
    again = load_accents(ACCENTS, n_voices=2, n_utterances=3, label="speaker")  # read from the cache
    assert list((cache / "datasets").iterdir()) == stored
    assert again.num_classes == 4 and all(np.abs(a - b).max() < 1e-4 for a, b in zip(again.inputs, ds.inputs))


def test_accents_and_voices_sound_different():
    text = "The water in the bath is hot."
    us, scottish = speak(text, "en-us"), speak(text, "en-gb-scotland")
    high = speak(text, "en-us", speech_synth.VOICES[1])
    assert len(us) != len(scottish) and len(us) != len(high)
    assert np.array_equal(us, speak(text, "en-us"))  # the engine is deterministic: the cache is faithful


def test_an_unknown_accent_and_a_missing_engine_are_one_line_errors(cache, monkeypatch):
    with pytest.raises(DataError, match="espeak-ng has no voice en-xx"):
        load_accents(["en-us", "en-xx"], n_voices=1, n_utterances=1)
    for cached in (speech_synth._espeak_voices, speech_synth._espeak_version):
        cached.cache_clear()
    monkeypatch.setenv("PATH", str(cache))
    with pytest.raises(DataError, match="apt-get install espeak-ng"):
        load_accents(n_voices=1, n_utterances=1)
    monkeypatch.undo()
    for cached in (speech_synth._espeak_voices, speech_synth._espeak_version):
        cached.cache_clear()
