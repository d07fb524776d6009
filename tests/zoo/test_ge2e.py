"""``ge2e-speaker`` on real weights and real speech (espeak-ng voices): the package's own embedding
reproduced, voices told apart, every depth and the frozen-prefix cache round trip."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import numpy as np
import pytest
import torch

from headstart.zoo import get_entry, load_backbone

SENTENCES = ("The quick brown fox jumps over the lazy dog.", "Please call Stella and ask her to bring these things.")
VOICES = ("en-us", "en-gb-scotland+f2")


def espeak(voice: str, text: str) -> np.ndarray:
    """``text`` spoken by espeak-ng's ``voice`` as a float32 16 kHz waveform (skips without espeak-ng)."""
    import io

    import soundfile
    import soxr

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    wave, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return soxr.resample(wave, rate, 16000).astype(np.float32)


@pytest.fixture(scope="module")
def ge2e():
    return load_backbone("ge2e-speaker")


@pytest.fixture(scope="module")
def speech() -> dict[tuple[str, int], np.ndarray]:
    """(voice, sentence) -> waveform: two sentences in each of two voices."""
    return {(voice, i): espeak(voice, text) for voice in VOICES for i, text in enumerate(SENTENCES)}


def test_reproduces_the_packages_utterance_embedding(ge2e, speech):
    resemblyzer = pytest.importorskip("resemblyzer")
    from resemblyzer.audio import normalize_volume

    reference = resemblyzer.VoiceEncoder("cpu", verbose=False)
    long_clip = speech[("en-us", 0)]
    clips = [long_clip, long_clip[:16000], 0.01 * long_clip]  # several partials, one padded partial, a quiet clip
    ours = ge2e.forward_features(ge2e.preprocess(clips)).detach().numpy()
    for clip, embedding in zip(clips, ours):
        expected = reference.embed_utterance(normalize_volume(clip, -30, increase_only=True))
        assert float(embedding @ expected) >= 0.999


def test_tells_voices_apart(ge2e, speech):
    keys = list(speech)
    with torch.no_grad():
        embeddings = ge2e.forward_features(ge2e.preprocess([speech[k] for k in keys])).numpy()
    similarity = embeddings @ embeddings.T
    for a, (voice_a, _) in enumerate(keys):
        same = max(similarity[a, b] for b, (voice_b, _) in enumerate(keys) if b != a and voice_b == voice_a)
        other = max(similarity[a, b] for b, (voice_b, _) in enumerate(keys) if voice_b != voice_a)
        assert same > other + 0.05, (keys[a], same, other)


def test_depths_and_cached_states(ge2e, speech):
    clips = [speech[("en-us", 0)], speech[("en-us", 0)][:8000]]
    batch = ge2e.preprocess(clips)
    counts = ge2e.input_lengths(clips)
    assert counts.tolist() == list(batch.counts) and counts[0] > 1 and counts[1] == 1
    assert batch.h.shape == (counts.sum(), 160, 40)
    with torch.no_grad():
        assert [tuple(ge2e.features_at(batch, d).shape) for d in range(ge2e.num_groups)] == [(2, 256)] * 4
        rows = ge2e.split_state(ge2e.forward_groups(batch, 0, 2))
        assert [tuple(r.shape) for r in rows] == [(int(n), 160, 256) for n in counts]
        resumed = ge2e.pool(ge2e.forward_groups(ge2e.merge_states(rows), 2))
        torch.testing.assert_close(resumed, ge2e.forward_features(batch))
        assert ge2e.scratch_backbone().forward_features(batch).shape == (2, 64)
    from headstart.data.catalogue import wheel_member

    assert ge2e.weights_hash == hashlib.sha256(wheel_member("resemblyzer", "0.1.4", "resemblyzer/pretrained.pt")).hexdigest()
    assert [name for name, m in ge2e.named_modules() if name.endswith(ge2e.lora_targets)] == ["groups.3.linear"]


def test_registry_entry_matches_the_built_model(ge2e):
    entry = get_entry("ge2e-speaker")
    assert (entry.modality, entry.source, entry.installed()) == ("audio", "package resemblyzer==0.1.4 (registry wheel)", True)
    assert sum(p.numel() for p in ge2e.parameters()) == entry.num_params
    assert ge2e.feature_dim == entry.feature_dim and not ge2e.training
