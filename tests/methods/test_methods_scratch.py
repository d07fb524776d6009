"""The no-transfer control: the family's small architecture, its own learning rate, a model that learns."""

import numpy as np
import pytest
import torch

import headstart
from headstart.errors import HeadstartError
from headstart.methods import get_method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.significance import collapse
from headstart.zoo import load_backbone
from headstart.zoo.hf_text import SmallTextEncoder
from headstart.zoo.image import SmallConvNet


@pytest.fixture(scope="module")
def digits_scratch(digits_train):
    return headstart.fit(digits_train, backbone="efficientnet-lite0", method="scratch", seed=0)


def test_scratch_on_digits_learns_with_a_small_cnn(digits_scratch, digits_test):
    model = digits_scratch
    assert isinstance(model.model.backbone, SmallConvNet) and model.info["trainable_params"] < 200_000
    predicted = model.outputs(digits_test).argmax(1)
    assert collapse(predicted, digits_test.labels) is None
    assert model.evaluate(digits_test)["accuracy"] > 0.5  # 5 per class, 10 classes; measured 0.73


def test_scratch_saves_and_reloads_its_small_architecture(digits_scratch, digits_test, tmp_path):
    digits_scratch.save(tmp_path / "run")
    loaded = headstart.load(tmp_path / "run")
    assert isinstance(loaded.model.backbone, SmallConvNet)
    assert np.array_equal(loaded.outputs(digits_test.inputs[:8]), digits_scratch.outputs(digits_test.inputs[:8]))


def test_small_architectures_declare_their_own_learning_rate(digits_test):
    text, image = load_backbone("minilm-l6"), load_backbone("efficientnet-lite0")
    scratch = get_method("scratch")(Recipe(method="scratch"))
    small_text, small_image = scratch.backbone_for(text), scratch.backbone_for(image)
    assert isinstance(small_text, SmallTextEncoder) and small_text.num_groups == 1 and small_text.tokenizer is text.tokenizer
    assert (scratch.learning_rate(small_text), scratch.learning_rate(small_image)) == (2e-2, 3e-3)
    model = TransferModel(small_image, torch.nn.Linear(128, 10))
    assert {g["name"]: g["lr"] for g in scratch.parameter_groups(model)}["head"] == 3e-3  # not 20x: the head is random too
    assert sum(p.numel() for p in small_text.parameters()) < 5_000_000
    batch = small_image.prepare_inputs(list(digits_test.inputs[:3]))
    assert small_image(batch).shape == (3, 128)


def test_architecture_same_keeps_the_backbones_own():
    image = load_backbone("efficientnet-lite0")
    same = get_method("scratch")(Recipe.build(method="scratch", backbone="efficientnet-lite0", architecture="same"))
    assert same.backbone_for(image) is image
    assert get_method("finetune")(Recipe(method="finetune")).backbone_for(image) is image
    with pytest.raises(HeadstartError, match="architecture must be small or same"):
        Recipe.build(method="scratch", architecture="tiny")


def test_scratch_text_encoder_fits_its_training_articles(bbc_train, bbc_test):
    model = headstart.fit(bbc_train, method="scratch", epochs=20, backbone_options={"max_length": 64}, seed=0)
    assert isinstance(model.model.backbone, SmallTextEncoder)
    assert model.evaluate(bbc_train)["accuracy"] >= 0.8  # it learns from random weights (MiniLM-sized scratch predicts one class)
    assert collapse(model.outputs(bbc_test).argmax(1), bbc_test.labels) is None
