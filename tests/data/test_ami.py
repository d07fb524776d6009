"""Real meeting speech from pyannote.audio's source archive (AMI excerpts): solo windows per speaker."""

import numpy as np

from headstart.data import load_dataset
from headstart.data.ami import WINDOW_SECONDS, read_rttm, solo_stretches


def test_turns_lose_the_time_another_speaker_talks():
    turns = read_rttm("SPEAKER a 1 0.0 4.0 <NA> <NA> A <NA> <NA>\nSPEAKER a 1 1.0 1.0 <NA> <NA> B <NA> <NA>\n"
                      "SPEAKER a 1 3.5 2.0 <NA> <NA> B <NA> <NA>\n")
    assert solo_stretches(turns["a"]) == [(0.0, 1.0, "A"), (2.0, 3.5, "A"), (4.0, 5.5, "B")]


def test_windows_of_real_speakers_from_several_recordings():
    data = load_dataset("ami_speakers")
    assert data.modality == "audio" and len(data.classes) >= 5 and min(data.class_counts().values()) >= 5
    assert {len(w) for w in data.inputs} == {int(WINDOW_SECONDS * 16000)}
    assert len(set(data.meta["recordings"])) >= 5
    rms = [float(np.sqrt(np.mean(w**2))) for w in data.inputs]
    assert 0.05 < min(rms) and max(np.abs(np.concatenate(data.inputs))) <= 0.99 + 1 / 32767  # peak-capped, int16-stored
