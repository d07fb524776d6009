"""Speech transfer on real recordings (FSDD's MFCC frames): an hs-speech encoder pre-trained on
source speakers, then fine-tuned, probed, adapted to a new speaker, saved and loaded; a waveform
backbone refuses frames in one line; ``auto`` keeps the saveable MFCC baseline when it wins."""

import numpy as np
import pytest
import torch

import headstart
from headstart.adapt.api import adapt
from headstart.data import load_dataset, sample_shots
from headstart.errors import DataError
from headstart.pretrain_speech import pretrain_speech
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    source = sample_shots(load_dataset("fsdd", "-s3"), 20, seed=0)  # 200 recordings of five speakers
    folder = tmp_path_factory.mktemp("speech") / "enc"
    net = pretrain_speech(source, folder, widths=(32, 64), epochs=8, seed=0)
    return folder, net


@pytest.fixture(scope="module")
def new_speaker():
    return load_dataset("fsdd", "s3")


def test_the_encoder_is_a_backbone_folder_that_records_its_training(encoder, new_speaker):
    folder, net = encoder
    loaded = load_backbone(folder)
    assert loaded.trained["speakers"] == ["s1", "s2", "s4", "s5", "s6"] and loaded.trained["examples"] > 100
    assert loaded.trained["val_accuracy"] > 0.5  # held-out source recordings, 10 digits (chance 0.1)
    batch = loaded.prepare_inputs(list(new_speaker.inputs[:8]))
    with torch.no_grad():
        torch.testing.assert_close(loaded.forward_features(batch), net.eval().forward_features(batch))


def test_a_new_speaker_from_five_examples_per_digit(encoder, new_speaker, tmp_path):
    folder, _ = encoder
    train = sample_shots(new_speaker, 5, seed=0)
    taken = {id(x) for x in train.inputs}
    test = new_speaker.subset([i for i, x in enumerate(new_speaker.inputs) if id(x) not in taken])
    probe = headstart.fit(train, backbone=str(folder), method="probe")
    accuracy = probe.evaluate(test)["accuracy"]
    assert accuracy > 0.6, accuracy
    loaded = headstart.load(probe.save(tmp_path / "run"))
    np.testing.assert_allclose(loaded.outputs(list(test.inputs[:20])), probe.outputs(list(test.inputs[:20])), atol=1e-5)


def test_adabn_adapts_to_the_unlabelled_speaker(encoder, new_speaker):
    folder, _ = encoder
    source = sample_shots(load_dataset("fsdd", "-s3"), 10, seed=1)
    adapted = adapt(source, new_speaker.subset(range(0, 500, 2)), str(folder), "adabn")
    before, after = (adapted.info["adaptation"]["target_accuracy"][k] for k in ("before", "after"))
    assert after > 0.3 and before > 0.3  # it runs end to end and predicts digits, not one class
    source_stats = load_backbone(folder).groups[0].norm.running_mean
    assert not torch.allclose(adapted.model.backbone.groups[0].norm.running_mean, source_stats)  # re-estimated on the target


def test_waveform_backbones_refuse_frames_in_one_line(new_speaker):
    with pytest.raises(DataError, match="holds feature frames \\(T, D\\), not recordings; ge2e-speaker"):
        headstart.fit(new_speaker.subset(range(20)), backbone="ge2e-speaker", method="probe")
