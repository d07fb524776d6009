"""hs-speech, headstart's own frame encoder: normalised frames, ragged cached states, its folder."""

import numpy as np
import pytest
import torch

from headstart.data import load_dataset
from headstart.errors import BackboneError, DataError
from headstart.zoo import load_backbone
from headstart.zoo.frames import FrameCNN, FrameCNNConfig, FrameState, save_frame_cnn


@pytest.fixture(scope="module")
def recordings():
    data = load_dataset("fsdd", "s1")
    return [data.inputs[i] for i in (0, 1, 2)]  # real MFCC frames of different lengths


def test_groups_pool_and_cached_states_resume_exactly(recordings):
    net = FrameCNN(FrameCNNConfig(widths=(16, 32))).eval()
    batch = net.prepare_inputs(recordings)
    lengths = [len(r) for r in recordings]
    assert isinstance(batch, FrameState) and batch.h.shape == (3, 13, max(lengths))
    assert batch.mask.sum(1).tolist() == lengths
    np.testing.assert_allclose(batch.h[0, :, : lengths[0]].mean(1), 0, atol=1e-5)  # per-utterance normalisation
    with torch.no_grad():
        full = net.forward_features(batch)
        assert full.shape == (3, 64) and net.feature_dim == 64
        alone = net.forward_features(net.prepare_inputs(recordings[:1]))
        torch.testing.assert_close(alone, full[:1], rtol=1e-5, atol=1e-5)  # padding changes nothing
        state = net.forward_groups(batch, 0, 1)
        rows = net.split_state(state)
        assert [r.shape[0] for r in rows] == lengths
        resumed = net.pool(net.forward_groups(net.merge_states(rows), 1))
        torch.testing.assert_close(resumed, full, rtol=1e-6, atol=1e-6)


def test_waveforms_become_mfccs_and_wrong_frames_are_refused(recordings):
    net = FrameCNN(FrameCNNConfig(widths=(8,)))
    wave = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * 0.3
    assert net.prepare_inputs([wave]).h.shape[:2] == (1, 13)
    with pytest.raises(DataError, match="audio 0: .* 13 coefficients, got an array of shape \\(5, 40\\)"):
        net.prepare_inputs([np.zeros((5, 40), np.float32)])


def test_saved_folder_loads_the_same_encoder(tmp_path, recordings):
    net = FrameCNN(FrameCNNConfig(widths=(8, 8))).eval()
    save_frame_cnn(net, tmp_path / "enc", {"data": "test"})
    loaded = load_backbone(tmp_path / "enc")
    assert isinstance(loaded, FrameCNN) and loaded.trained == {"data": "test"} and loaded.weights_hash != "random-init"
    batch = net.prepare_inputs(recordings)
    with torch.no_grad():
        torch.testing.assert_close(loaded.forward_features(batch), net.forward_features(batch))
    with pytest.raises(BackboneError, match="take no options"):
        load_backbone(tmp_path / "enc", max_length=3)


def test_previews_are_spectrograms_of_frames_and_of_waveforms(recordings):
    from PIL import Image

    frames = FrameCNN.preview(recordings[0])
    wave = FrameCNN.preview(np.sin(np.linspace(0, 4000, 16000)).astype(np.float32) * 0.3)
    assert isinstance(frames, Image.Image) and frames.height == wave.height == 64
    assert frames.width > len(recordings[0]) and len(set(np.asarray(wave).reshape(-1, 3).sum(1).tolist())) > 10


def test_recordings_are_cached_state_by_state_like_frames(tmp_path):
    from headstart.features.extract import extract_states

    net = FrameCNN(FrameCNNConfig(widths=(8,))).eval()
    waves = [np.sin(np.linspace(0, 900 * n, 4000 * n)).astype(np.float32) * 0.3 for n in (1, 2)]
    states = extract_states(net, waves, 0, cache_dir=tmp_path, progress=False)  # ragged: one row per MFCC frame
    assert [len(s) for s in states] == [len(net.frames_of(w)) for w in waves] == [26, 51]
