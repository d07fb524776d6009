"""Backbones own their inputs: one image decoder, length hooks, LoRA targets and learning rates."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from headstart.data.dataset import Dataset
from headstart.data.images import load_image
from headstart.errors import BackboneError, DataError, HeadstartError
from headstart.methods import get_method
from headstart.recipe import Recipe
from headstart.zoo import backbone_family, input_family, load_backbone
from headstart.zoo.efficientnet_lite import EfficientNetLite
from headstart.zoo.hf_text import HFTextEncoder
from headstart.zoo.image import ImageBackbone

ORIENTATION = 0x0112  # EXIF tag
ROTATED_90_CW = 6


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet-lite0")


@pytest.fixture(scope="module")
def minilm():
    return load_backbone("minilm-l6")


@pytest.fixture(scope="module")
def photo():
    return data.astronaut()[::2, ::3]  # 256 x 171: not square, so a rotation shows


def test_an_exif_rotated_file_is_decoded_upright_the_same_way_everywhere(lite0, photo, tmp_path):
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATED_90_CW
    path = tmp_path / "rotated.jpg"
    Image.fromarray(photo).save(path, exif=exif, quality=95)
    upright = load_image(path)
    assert upright.size == (photo.shape[0], photo.shape[1])  # width and height swapped
    with Image.open(path) as opened:
        as_stored = opened.convert("RGB")
        batch = lite0.prepare_inputs([path, str(path), opened])
    assert torch.equal(batch[0], lite0.transform([upright])[0])
    assert torch.equal(batch[0], batch[1]) and torch.equal(batch[0], batch[2])
    assert not torch.equal(batch[0], lite0.transform([as_stored])[0])


def test_a_translucent_png_is_composited_on_white_the_same_way_everywhere(lite0, photo, tmp_path):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 64, np.uint8)])
    path = tmp_path / "translucent.png"
    Image.fromarray(rgba).save(path)
    on_white = np.round(photo * (64 / 255) + 255 * (1 - 64 / 255)).astype(np.uint8)
    assert np.abs(np.asarray(load_image(path)).astype(int) - on_white).max() <= 1
    batch = lite0.prepare_inputs([path, rgba, Image.fromarray(rgba)])
    assert torch.equal(batch[0], lite0.transform([load_image(path)])[0])
    assert torch.equal(batch[0], batch[1]) and torch.equal(batch[0], batch[2])
    assert not torch.equal(batch[0], lite0.prepare_inputs([photo])[0])  # alpha is not just dropped


def test_augmentation_changes_the_batch_only_when_asked(lite0, photo):
    plain = lite0.prepare_inputs([photo])
    assert torch.equal(plain, lite0.prepare_inputs([photo]))
    augmented = lite0.prepare_inputs([photo], np.random.default_rng(0))
    assert augmented.shape == plain.shape and not torch.equal(augmented, plain)
    assert torch.equal(augmented, lite0.prepare_inputs([photo], np.random.default_rng(0)))


def test_text_lengths_are_the_tokens_seen_and_images_have_none(minilm, lite0):
    texts = ["short", "a somewhat longer sentence with more words", "word " * 400]
    lengths = minilm.input_lengths(texts)
    assert lengths.tolist() == [len(minilm.preprocess([t])["input_ids"][0]) for t in texts]
    assert lengths[2] == minilm.max_length and lengths[0] < lengths[1] < lengths[2]
    assert lite0.input_lengths([np.zeros((8, 8), np.uint8)]) is None


def test_states_of_text_are_ragged_and_of_images_fixed(minilm, lite0):
    assert minilm.ragged_states and not lite0.ragged_states


def test_lora_targets_come_from_the_backbone(lite0, minilm):
    lora = get_method("lora")(Recipe())
    assert lora.config(lite0).target_modules == {"_expand_conv", "_project_conv"}
    assert lora.config(minilm).target_modules == {"query", "value"}
    named = get_method("lora")(Recipe(lora_targets=["key"]))
    assert named.config(minilm).target_modules == {"key"}


def test_lora_injects_adapters_into_the_declared_modules_only():
    backbone = load_backbone("efficientnet-lite0")
    get_method("lora")(Recipe()).prepare(TransferModelStub(backbone))
    adapted = {name.split(".lora_A.")[0].rsplit(".", 1)[-1] for name, _ in backbone.named_parameters() if ".lora_A." in name}
    assert adapted == {"_expand_conv", "_project_conv"}


class TransferModelStub:
    """What ``LoRA.prepare`` reads of a ``TransferModel``: its backbone."""

    def __init__(self, backbone):
        self.backbone = backbone


@pytest.mark.parametrize(
    ("method", "text_lr", "image_lr"),
    [("finetune", 5e-5, 3e-4), ("lora", 5e-4, 1e-3), ("scratch", 2e-4, 2e-3), ("probe", 5e-5, 3e-4)],
)
def test_default_learning_rates_come_from_the_backbone(minilm, lite0, method, text_lr, image_lr):
    chosen = get_method(method)(Recipe())
    assert (chosen.learning_rate(minilm), chosen.learning_rate(lite0)) == (text_lr, image_lr)
    assert get_method(method)(Recipe(lr=0.123)).learning_rate(lite0) == 0.123


class Undeclared(ImageBackbone):
    """An image family that declares neither LoRA targets nor learning rates."""

    name = "undeclared"

    def transform(self, images):
        return torch.zeros(len(images), 1)

    def pool(self, state):
        return state


def test_a_family_without_declarations_says_what_to_set():
    backbone = Undeclared()
    with pytest.raises(HeadstartError, match="declares no LoRA target modules; set lora_targets"):
        get_method("lora")(Recipe()).config(backbone)
    with pytest.raises(BackboneError, match="declares no default finetune learning rate"):
        get_method("finetune")(Recipe()).learning_rate(backbone)


def test_families_coerce_raw_values_as_their_datasets_hold_them():
    assert EfficientNetLite.as_inputs(["a.png", [[0, 255]]])[0] == Path("a.png")
    assert np.array_equal(EfficientNetLite.as_inputs([[[0, 255]]])[0], np.array([[0, 255]]))
    texts = HFTextEncoder.as_inputs(np.array(["one", "two"]))
    assert texts == ["one", "two"] and all(type(t) is str for t in texts)


def test_families_are_found_without_building_a_backbone(tmp_path):
    assert backbone_family("efficientnet-lite2") is EfficientNetLite
    assert backbone_family(tmp_path) is HFTextEncoder  # a local Hugging Face directory
    assert input_family("image") is EfficientNetLite and input_family("text") is HFTextEncoder
    assert (input_family("image").baseline, input_family("text").baseline) == ("pixels", "tfidf")
    assert input_family("array").baseline is None


def test_previews_are_images_or_strings(photo):
    assert input_family("image").preview(photo).size == (photo.shape[1], photo.shape[0])
    assert input_family("text").preview("some text") == "some text"


def test_a_dataset_of_another_kind_is_refused(lite0):
    texts = Dataset(["a", "b"], np.array([0, 1]), ["x", "y"], "text", name="tiny")
    with pytest.raises(DataError, match="tiny holds text data; text data cannot go through image backbone efficientnet-lite0"):
        lite0.check_inputs(texts)
