"""The FittedModel contract on every kind: the same inputs (PIL images, one input alone) and members."""

import numpy as np
import pytest
from PIL import Image

import headstart
from headstart.fitted import FittedModel
from tests.fitted_kinds import KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_fitted_model(kind, fitted_kinds, tmp_path):
    model, _ = fitted_kinds[kind]
    assert isinstance(model, FittedModel)
    assert isinstance(headstart.load(model.save(tmp_path / kind)), FittedModel)


@pytest.mark.parametrize("kind", [k for k in KINDS if k.startswith("image")])
def test_pil_images_predict_like_the_arrays_they_hold(kind, fitted_kinds):
    model, held_out = fitted_kinds[kind]
    arrays = list(held_out.inputs[:6])
    images = [Image.fromarray(a) for a in arrays]
    assert np.allclose(model.outputs(images), model.outputs(arrays), atol=1e-6)
    assert model.predict(images).labels == model.predict(arrays).labels
    one = model.predict(images[0])  # one image alone is a batch of one
    assert one.labels == model.predict(arrays[:1]).labels and one.probabilities.shape == (1, 10)


@pytest.mark.parametrize("kind", ["text_probe", "multitask", "text_baseline"])
def test_one_string_is_a_batch_of_one(kind, fitted_kinds):
    model, _ = fitted_kinds[kind]
    one = model.predict("A triumph.")
    assert len(one.labels) == 1 and one.probabilities.shape == (1, 2)
    assert one.labels == model.predict(["A triumph."]).labels


def test_a_multitask_model_with_several_tasks_asks_which(reviews):
    from headstart.errors import HeadstartError
    from headstart.multitask import TaskSpec, fit_multitask
    from tests.fitted_kinds import SHORT

    train, test = reviews
    model = fit_multitask([TaskSpec("a", train), TaskSpec("b", train)], method="probe", **SHORT)
    with pytest.raises(HeadstartError, match="choose one with task="):
        model.predict("A triumph.")
    with pytest.raises(HeadstartError, match="several tasks"):
        model.evaluate(test)
    assert model.evaluate(test, task="a") == model.for_task("a").evaluate(test)


@pytest.mark.parametrize("kind", ["image_baseline", "text_baseline", "image_probe"])
def test_the_report_accepts_any_single_task_kind(kind, fitted_kinds, tmp_path):
    from headstart.report import write_report

    model, held_out = fitted_kinds[kind]
    page = write_report(model, held_out, tmp_path).read_text()
    assert model.describe()["method"] in page and "Feature map" in page
