"""fracast-0 behind the Backbone interface reproduces the package's own forecast, group by group."""

import fracast
import numpy as np
import pytest
import torch

from headstart.errors import BackboneError
from headstart.zoo import get_entry, load_backbone
from headstart.zoo.fracast import EncoderState, HorizonState, StemState
from headstart.zoo.registry import default_backbone
from tests.zoo.series_data import aeon_series


@pytest.fixture(scope="module")
def backbone():
    return load_backbone("fracast-0")


@pytest.fixture(scope="module")
def airline():
    return aeon_series("Airline")


def test_registered_with_its_source_size_and_default(backbone):
    entry = get_entry("fracast-0")
    assert (entry.modality, entry.source, default_backbone("series")) == ("series", "package fracast", "fracast-0")
    assert entry.installed() and not backbone.training
    assert sum(p.numel() for p in backbone.parameters()) == entry.num_params
    assert backbone.feature_dim == entry.feature_dim == 48 * 64
    assert backbone.context_length == 2048 and backbone.native_horizon == 48 and len(backbone.quantiles) == 9


@pytest.mark.parametrize("horizon", [12, 48])
def test_zero_shot_forecast_equals_the_package_forecast(backbone, airline, horizon):
    reference = fracast.FracastModel.from_pretrained(weights="fp32")
    ours = backbone.forecast([airline[:120], airline], horizon)
    np.testing.assert_allclose(ours[0], reference.forecast(airline[:120], horizon=horizon), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours[1], reference.forecast(airline, horizon=horizon), rtol=0, atol=1e-6)
    assert ours.shape == (2, horizon, 9)
    truth = airline[120:132]  # a real forecast: the next year lies inside the 80 % band
    assert np.mean((ours[0, :12, 0] <= truth) & (truth <= ours[0, :12, 8])) >= 0.9


def test_missing_points_are_masked_like_the_package(backbone, airline):
    series = airline.copy()
    series[[10, 50, 51, 100]] = np.nan
    reference = fracast.FracastModel.from_pretrained(weights="fp32").forecast(series, horizon=24)
    np.testing.assert_allclose(backbone.forecast([series], 24)[0], reference, rtol=0, atol=1e-6)


def test_groups_in_sequence_equal_the_full_forward_and_cached_states_round_trip(backbone, airline):
    batch = backbone.prepare_inputs([airline, aeon_series("Lynx")])
    with torch.inference_mode():
        states = [backbone.forward_groups(batch, 0, 1)]
        states.append(backbone.forward_groups(states[0], 1, 2))
        states.append(backbone.forward_groups(states[1], 2, 3))
        assert [type(s) for s in states] == [StemState, EncoderState, HorizonState]
        full = backbone.forward_features(batch)
        torch.testing.assert_close(backbone.pool(states[2]), full, rtol=0, atol=0)
        for depth, dim in enumerate([128, 128, 48 * 64]):
            assert backbone.features_at(batch, depth).shape == (2, dim)
        for depth in (0, 1):  # the frozen-prefix cache: split per example, merge, run the rest
            rows = backbone.split_state(states[depth])
            assert len(rows) == 2
            merged = backbone.merge_states(rows)
            torch.testing.assert_close(backbone.pool(backbone.forward_groups(merged, depth + 1)), full, rtol=0, atol=0)
    assert backbone.split_state(states[1])[0].numel() < 13_000  # the small cached encoder state


def test_multichannel_items_average_their_channels_features(backbone, airline):
    lynx = aeon_series("Lynx")
    pair = np.stack([airline[-100:], lynx[-100:]])
    with torch.inference_mode():
        joint = backbone.features_at(backbone.prepare_inputs([pair, pair]), 1)
        apart = backbone.features_at(backbone.prepare_inputs([airline[-100:], lynx[-100:]]), 1)
    assert joint.shape == (2, 128)
    torch.testing.assert_close(joint[0], apart.mean(0), rtol=1e-5, atol=1e-5)


def test_horizon_beyond_48_is_one_line(backbone):
    with pytest.raises(BackboneError, match="1 to 48 steps ahead, not 60") as error:
        backbone.forecast_head(60, pretrained=True)
    assert "\n" not in str(error.value)


def test_scratch_has_the_same_architecture_and_fresh_weights(backbone):
    scratch = backbone.scratch_backbone()
    ours, theirs = dict(backbone.named_parameters()), dict(scratch.named_parameters())
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert not torch.equal(ours["groups.1.block.pw.weight"], theirs["groups.1.block.pw.weight"])
    assert scratch.weights_hash == "random-init" != backbone.weights_hash
