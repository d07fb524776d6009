"""headstart.pretrain trains an hs-tcn on real series; the saved folder opens as a backbone that forecasts better than at init."""

import json

import numpy as np
import pytest
import torch

from headstart.data.dataset import Dataset
from headstart.errors import DataError
from headstart.pretrain import corpus_rows, pinball_loss, pretrain
from headstart.zoo import load_backbone
from headstart.zoo.tcn import TCNBackbone, TCNConfig
from tests.zoo.series_data import aeon_series

HELD_OUT = 24
TINY = dict(context=64, horizon=12, width=16, blocks=4)


def held_out_loss(backbone, series: list[np.ndarray]) -> float:
    """Pinball loss (scaled) on each series' last two 12-step windows, never seen in training."""
    contexts, targets = [], []
    for s in series:
        for cut in (len(s) - HELD_OUT, len(s) - HELD_OUT // 2):
            contexts.append(s[:cut])
            targets.append(s[cut: cut + 12])
    batch = backbone.prepare_inputs(contexts)
    with torch.no_grad():
        quantiles = backbone.forecast_head(12, pretrained=True)(backbone.forward_features(batch))
    return pinball_loss(quantiles, batch.normalise(torch.from_numpy(np.stack(targets))), backbone.quantiles).item()


def test_pretrained_encoder_loads_and_beats_its_init_on_held_out_windows(tmp_path):
    series = [aeon_series("Airline"), aeon_series("Lynx"), aeon_series("ShampooSales")]
    net = pretrain([s[:-HELD_OUT] for s in series], tmp_path / "enc", epochs=3, steps_per_epoch=40,
                   batch_size=16, lr=3e-3, seed=0, **TINY)
    loaded = load_backbone(tmp_path / "enc")
    assert isinstance(loaded, TCNBackbone) and loaded.modality == "series"
    assert loaded.weights_hash == net.weights_hash != "random-init"
    assert loaded.source_folder == (tmp_path / "enc").resolve()
    torch.manual_seed(0)
    init = TCNBackbone(TCNConfig(**TINY)).eval()  # the weights pre-training started from
    before, after = held_out_loss(init, series), held_out_loss(loaded, series)
    assert after < 0.7 * before, (before, after)
    recorded = json.loads((tmp_path / "enc" / "config.json").read_text())
    assert recorded["model_type"] == "headstart-series"
    assert recorded["trained"]["steps"] == 120 and recorded["trained"]["seconds"] > 0
    assert recorded["trained"]["corpus"][0] == "array 0 (1 series, 120 points)"
    assert loaded.forecast([series[0]], 12).shape == (1, 12, 9)


def test_classification_sets_rows_are_series_and_short_rows_are_dropped():
    inputs = [np.arange(30, dtype=np.float32), np.stack([np.arange(20.0), np.arange(20.0)]).astype(np.float32)]
    toy = Dataset(inputs, np.array([0, 1]), ["a", "b"], "series", name="toy_ucr")
    rows, described = corpus_rows([toy, np.arange(5.0)])
    assert [len(r) for r in rows] == [30, 20, 20]
    assert described == ["toy_ucr (3 series, 70 points)", "array 1 (0 series, 0 points)"]
    with pytest.raises(DataError, match="no series longer than"):
        corpus_rows([np.arange(5.0)])


def test_a_changed_weights_file_is_refused(tmp_path):
    pretrain([aeon_series("Lynx")], tmp_path / "enc", epochs=1, steps_per_epoch=2, batch_size=4, **TINY)
    weights = tmp_path / "enc" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(Exception, match="changed since it was saved"):
        load_backbone(tmp_path / "enc")
