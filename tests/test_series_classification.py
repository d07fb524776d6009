"""Series classification baselines (MiniRocket + ridge, 1-NN z-normalised) on real UCR sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aeon.datasets import load_from_ts_file

import aeon
from headstart.baselines import fit_baseline, series_panel, znormalised
from headstart.data.dataset import Dataset

UCR = Path(aeon.__file__).parent / "datasets" / "data"


def ucr(name: str, split: str) -> Dataset:
    x, y = load_from_ts_file(str(UCR / name / f"{name}_{split.upper()}.ts"))
    classes = sorted(set(y))
    inputs = [np.asarray(row, dtype=np.float32).squeeze(0) if row.shape[0] == 1 else np.asarray(row, dtype=np.float32) for row in x]
    return Dataset(inputs, np.array([classes.index(v) for v in y]), classes, "series", name=f"{name}:{split}")


@pytest.mark.parametrize(("name", "kind", "floor"), [
    ("GunPoint", "minirocket", 0.9), ("GunPoint", "nn1", 0.9), ("ItalyPowerDemand", "minirocket", 0.9),
    ("ItalyPowerDemand", "nn1", 0.9), ("BasicMotions", "minirocket", 0.9)])
def test_baseline_accuracy_on_ucr_test(name: str, kind: str, floor: float) -> None:
    fitted = fit_baseline(ucr(name, "train"), kind=kind)
    accuracy = fitted.evaluate(ucr(name, "test"))["accuracy"]
    assert accuracy > floor, (name, kind, accuracy)


def test_unequal_lengths_resampled_and_znormalised() -> None:
    panel = series_panel([np.arange(5.0), np.array([0.0, np.nan, 4.0])])
    assert panel.shape == (2, 1, 5)
    np.testing.assert_allclose(panel[1, 0], [0, 1, 2, 3, 4])
    rows = znormalised([np.arange(5.0) * 10 + 3, np.ones(5)])
    np.testing.assert_allclose(rows[0], rows[0] - rows[0].mean() , atol=1e-12)
    assert rows[0].std() == pytest.approx(1.0) and not rows[1].any()


def test_series_baseline_model_saves_loads_and_predicts_the_same(tmp_path: Path) -> None:
    """The kept series baseline is an artifact: refitting from its stored panel gives the same answers."""
    import headstart
    from headstart.data.splits import sample_shots
    from headstart.select.baseline_model import fit_baseline_model

    train, test = sample_shots(ucr("GunPoint", "train"), 5, seed=0), ucr("GunPoint", "test")
    model = fit_baseline_model(train)
    assert model.name == "MiniRocket + ridge"
    reference = fit_baseline(train).evaluate(test)["accuracy"]
    assert model.evaluate(test)["accuracy"] == pytest.approx(reference) and reference > 0.8
    loaded = headstart.load(model.save(tmp_path / "baseline"))
    assert loaded.predict(test).labels == model.predict(test).labels
    assert loaded.outputs(test.inputs[:3]).shape == (3, 2)
