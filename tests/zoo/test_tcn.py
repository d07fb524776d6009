"""hs-tcn, headstart's own series encoder: groups, cached states, heads and its saved folder."""

import numpy as np
import pytest
import torch

from headstart.errors import BackboneError
from headstart.zoo import load_backbone
from headstart.zoo.tcn import TCNBackbone, TCNConfig, TCNState, save_tcn
from tests.zoo.series_data import aeon_series

TINY = TCNConfig(context=64, width=16, blocks=4, horizon=12)


@pytest.fixture(scope="module")
def series():
    return [aeon_series("Airline"), aeon_series("Lynx")]


def test_mean_abs_scaling_of_the_last_context_points(series):
    net = TCNBackbone(TINY)
    batch = net.prepare_inputs([series[0], series[1][:30]])
    assert batch.values.shape == (2, 64) and batch.mask[1].sum() == 30 and not batch.mask[1, :34].any()
    np.testing.assert_allclose(batch.scale[0, 0], np.abs(series[0][-64:]).mean(), rtol=1e-6)
    assert torch.all(batch.loc == 0)
    np.testing.assert_allclose(batch.values[0].numpy() * batch.scale[0, 0].item(), series[0][-64:], rtol=1e-5)


def test_groups_cached_states_and_heads(series):
    net = TCNBackbone(TINY).eval()
    batch = net.prepare_inputs(series)
    with torch.no_grad():
        full = net.forward_features(batch)
        assert full.shape == (2, 32) and net.num_groups == 5
        state = net.forward_groups(batch, 0, 2)
        assert isinstance(state, TCNState) and state.h.shape == (2, 64, 16)
        resumed = net.pool(net.forward_groups(net.merge_states(net.split_state(state)), 2))
        torch.testing.assert_close(resumed, full, rtol=0, atol=0)
        assert net.forecast_head(5, pretrained=True)(full).shape == (2, 5, 9)
        assert net.forecast_head(60, pretrained=False)(full).shape == (2, 60, 9)
    with pytest.raises(BackboneError, match="1 to 12 steps ahead, not 13"):
        net.forecast_head(13, pretrained=True)


def test_causal_a_later_point_does_not_change_earlier_states(series):
    net = TCNBackbone(TINY).eval()
    batch = net.preprocess([series[0]])
    with torch.no_grad():
        before = net.forward_groups(batch).h
        batch.values[0, -1] += 5.0  # the last scaled point changes
        after = net.forward_groups(batch).h
    assert not torch.allclose(before[:, -1], after[:, -1])
    torch.testing.assert_close(before[:, :-1], after[:, :-1], rtol=0, atol=0)


def test_saved_folder_round_trips_through_load_backbone(tmp_path, series):
    torch.manual_seed(1)
    net = TCNBackbone(TINY).eval()
    save_tcn(net, tmp_path / "enc", {"corpus": ["test"], "seconds": 0.0})
    loaded = load_backbone(tmp_path / "enc")
    assert loaded.config == TINY and loaded.trained == {"corpus": ["test"], "seconds": 0.0}
    np.testing.assert_array_equal(loaded.forecast(series, 12), net.forecast(series, 12))
    scratch = loaded.scratch_backbone()
    assert scratch.source_folder == loaded.source_folder and scratch.weights_hash == "random-init"


def test_multichannel_items_average_channels(series):
    net = TCNBackbone(TINY).eval()
    pair = np.stack([series[0][-80:], series[1][-80:]])
    with torch.no_grad():
        joint = net.forward_features(net.prepare_inputs([pair]))
        apart = net.forward_features(net.prepare_inputs([series[0][-80:], series[1][-80:]]))
    torch.testing.assert_close(joint[0], apart.mean(0))
