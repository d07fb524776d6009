"""Zero-shot image classification with a local CLIP folder (a tiny random CLIP the test saves itself).

With random weights the labels mean nothing, so the tests check the scores against CLIP's own
computation, softmax(logit_scale * cos(image, "a photo of a {label}.")), and the plumbing around it.
"""

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from transformers import CLIPModel
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data import load_data
from headstart.zeroshot import (
    fit_fewshot_from_prior,
    zeroshot_classify,
    zeroshot_evaluate,
    zeroshot_model,
)
from headstart.zoo import load_backbone
from tests.zoo.tiny_clip import (
    COLOURS,
    colour_photos,
    save_tiny_clip,
    write_photo_folder,
)

LABELS = list(COLOURS)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def clip(clip_dir):
    return load_backbone(clip_dir)


@pytest.fixture(scope="module")
def images():
    """Two noisy images of each colour, as uint8 arrays."""
    return [np.asarray(image) for colour in LABELS for image in colour_photos(colour, 2)]


def clip_probabilities(clip_dir, clip, images, prompts):
    """CLIPModel's own zero-shot: softmax over the prompts of logit_scale * cos(image, prompt)."""
    model = CLIPModel.from_pretrained(clip_dir, local_files_only=True).eval()
    tokens = clip.text_tower().backbone.tokenizer(prompts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        logits = model(pixel_values=clip.preprocess(images), **tokens).logits_per_image
    return logits.softmax(-1).numpy()


def test_scores_are_clips_softmax_over_photo_prompts(clip_dir, clip, images):
    prediction = zeroshot_classify(images, LABELS, clip)
    expected = clip_probabilities(clip_dir, clip, images, [f"a photo of a {label}." for label in LABELS])
    assert prediction.probabilities.shape == (len(images), len(LABELS))
    np.testing.assert_allclose(prediction.probabilities.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(prediction.probabilities, expected, atol=1e-4)
    assert prediction.labels == [LABELS[i] for i in expected.argmax(1)]
    again = zeroshot_classify(images, LABELS, clip)
    np.testing.assert_array_equal(again.probabilities, prediction.probabilities)


def test_templates_and_descriptions_change_the_scores(clip_dir, clip, images):
    default = zeroshot_classify(images, LABELS, clip).probabilities
    templated = zeroshot_classify(images, LABELS, clip, templates=["{}"]).probabilities
    expected = clip_probabilities(clip_dir, clip, images, LABELS)
    np.testing.assert_allclose(templated, expected, atol=1e-4)
    assert np.abs(templated - default).max() > 1e-3
    described = zeroshot_classify(images, {"red": "a ripe tomato", "green": "grass", "blue": "the sky"}, clip)
    assert np.abs(described.probabilities - default).max() > 1e-3


def test_the_temperature_is_clips_logit_scale_and_the_model_saves_as_a_probe(clip, images, tmp_path):
    model = zeroshot_model(LABELS, clip)
    assert model.info["zeroshot"]["temperature"] == pytest.approx(1 / clip.text_tower().logit_scale)
    assert model.info["zeroshot"]["templates"] == ["a photo of a {}."]
    model.save(tmp_path / "zs")
    loaded = headstart.load(tmp_path / "zs")
    assert loaded.recipe.method == "probe"
    np.testing.assert_allclose(loaded.outputs(images), model.outputs(images), atol=1e-6)


def test_the_head_is_the_label_embeddings_over_the_temperature(clip, images):
    model = zeroshot_model(LABELS, clip)
    tower = clip.text_tower().backbone
    with torch.inference_mode():
        labels = tower.forward_features(tower.preprocess([f"a photo of a {label}." for label in LABELS]))
        features = clip.forward_features(clip.preprocess(images))
    torch.testing.assert_close(model.model.head.weight, labels * clip.text_tower().logit_scale, atol=1e-5, rtol=1e-5)
    cosines = features @ labels.T
    assert cosines.abs().max() <= 1 + 1e-5
    np.testing.assert_allclose(model.outputs(images), F.softmax(cosines * clip.text_tower().logit_scale, -1), atol=1e-5)


def test_the_command_classifies_an_image_folder(clip, clip_dir, tmp_path):
    photos = write_photo_folder(tmp_path / "photos", 3)
    result = CliRunner().invoke(app, ["zeroshot", str(photos), "--backbone", str(clip_dir), "--labels", "red,green,blue"])
    assert result.exit_code == 0, result.output
    assert "(zero-shot)" in result.output and "macro_f1" in result.output
    printed = next(line for line in result.stdout.splitlines() if "accuracy" in line)
    expected = zeroshot_evaluate(zeroshot_model(LABELS, clip), load_data(photos))["accuracy"]
    assert float(printed.replace("│", " ").split()[1]) == pytest.approx(expected, abs=1e-3)


def test_the_few_shot_bridge_starts_from_the_photo_prompts(clip, tmp_path):
    photos = load_data(write_photo_folder(tmp_path / "photos", 4))
    zeroshot = fit_fewshot_from_prior(photos, LABELS, clip, shots=0)
    fewshot = fit_fewshot_from_prior(photos, LABELS, clip, shots=2)
    assert fewshot.info["n_train"] == 6 and fewshot.info["zeroshot"]["templates"] == ["a photo of a {}."]

    def nll(model):
        return -np.log(model.outputs(photos)[np.arange(len(photos)), photos.labels]).mean()

    assert nll(fewshot) < nll(zeroshot)  # pulled from the zero-shot head towards the labelled photos
