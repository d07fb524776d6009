"""A local CLIP folder as an image backbone: loading, preprocessing, the towers against CLIPModel, transfer.

The folder is a tiny randomly initialised CLIP that the test saves itself (``tests/zoo/tiny_clip.py``).
"""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data
from torch.nn import functional as F
from transformers import CLIPImageProcessor, CLIPModel

import headstart
from headstart.data.images import load_image
from headstart.errors import BackboneError
from headstart.zoo import load_backbone
from headstart.zoo.base import file_sha256
from headstart.zoo.image_text import CLIPImageTower
from tests.zoo.tiny_clip import colour_photos, save_tiny_clip, write_photo_folder


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def clip(clip_dir):
    return load_backbone(clip_dir)


@pytest.fixture(scope="module")
def original(clip_dir):
    return CLIPModel.from_pretrained(clip_dir, local_files_only=True).eval()


@pytest.fixture(scope="module")
def photos():
    """Two real, non-square photos (300x451 and 400x600)."""
    return [Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())]


def test_the_folder_loads_as_an_image_backbone_with_a_text_tower(clip, clip_dir, original):
    assert isinstance(clip, CLIPImageTower) and clip.modality == "image"
    assert clip.num_groups == 4  # stem, 2 vision layers, head (post-LayerNorm + projection)
    assert clip.feature_dim == 16 and clip.text_tower().backbone.feature_dim == 16
    assert clip.weights_hash == file_sha256(clip_dir / "model.safetensors")
    tower = clip.text_tower()
    assert tower.backbone.modality == "text" and tower.templates == ("a photo of a {}.",)
    assert tower.logit_scale == pytest.approx(original.logit_scale.exp().item())
    # the text tower is not part of the image backbone's parameters (freezing, saving, LoRA)
    vision_params = sum(p.numel() for p in original.vision_model.parameters()) + original.visual_projection.weight.numel()
    assert sum(p.numel() for p in clip.parameters()) == vision_params


def test_preprocessing_is_the_folders_image_processor(clip, clip_dir, photos):
    expected = CLIPImageProcessor.from_pretrained(clip_dir)(images=photos, return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(clip.preprocess(photos), expected)
    # the same by hand: shorter side to 32 (bicubic), centre 32x32 crop, (p / 255 - mean) / std
    config = json.loads((clip_dir / "preprocessor_config.json").read_text())
    width, height = photos[0].size
    resized = photos[0].resize((round(width * 32 / height), 32), Image.Resampling.BICUBIC)
    left = (resized.width - 32) // 2
    pixels = np.asarray(resized.crop((left, 0, left + 32, 32)), dtype=np.float64) / 255
    manual = (pixels - config["image_mean"]) / config["image_std"]
    np.testing.assert_allclose(clip.preprocess(photos[:1])[0].permute(1, 2, 0).numpy(), manual, atol=0.02)
    assert clip.describe()["preprocessing"]["mean"] == config["image_mean"]


def test_inputs_are_decoded_by_the_one_image_decoder(clip, tmp_path):
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[:20, :, :3] = (200, 10, 10)
    rgba[:20, :, 3] = 255  # the bottom half is transparent, so white once decoded
    Image.fromarray(rgba).save(tmp_path / "half.png")
    from_path = clip.prepare_inputs([tmp_path / "half.png", rgba, Image.fromarray(rgba)])
    torch.testing.assert_close(from_path[0], clip.preprocess([load_image(rgba)])[0])
    torch.testing.assert_close(from_path[0], from_path[1])
    torch.testing.assert_close(from_path[0], from_path[2])
    white = clip.preprocess([Image.new("RGB", (40, 40), "white")])[0]
    torch.testing.assert_close(from_path[0][:, -4:], white[:, -4:])
    augmented = [clip.prepare_inputs([rgba], np.random.default_rng(seed)) for seed in (0, 0, 1)]
    assert augmented[0].shape == from_path[:1].shape
    assert torch.equal(augmented[0], augmented[1]) and not torch.equal(augmented[0], augmented[2])


def test_the_towers_reproduce_clip(clip, original, photos):
    batch = clip.preprocess(photos)
    texts = ["a photo of a cat.", "a photo of a cup of coffee.", "dog"]
    tower = clip.text_tower().backbone
    with torch.inference_mode():
        images = clip.forward_features(batch)
        expected_images = original.get_image_features(pixel_values=batch).pooler_output
        words = tower.forward_features(tower.preprocess(texts))
        encoded = tower.tokenizer(texts, padding=True, return_tensors="pt")
        expected_words = original.get_text_features(**encoded).pooler_output
    torch.testing.assert_close(images, F.normalize(expected_images, dim=-1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(words, F.normalize(expected_words, dim=-1), rtol=1e-5, atol=1e-5)


def test_intermediate_groups_pool_their_cls_token_and_resume_from_cached_states(clip, photos):
    batch = clip.preprocess(photos)
    with torch.inference_mode():
        tokens = clip.forward_groups(batch, 0, 2)  # stem and the first layer: (B, 1 + 16 patches, 32)
        assert tokens.shape == (2, 17, 32)
        torch.testing.assert_close(clip.features_at(batch, 1), tokens[:, 0])
        resumed = clip.pool(clip.forward_groups(clip.merge_states(clip.split_state(tokens)), 2))
        torch.testing.assert_close(resumed, clip.forward_features(batch))


def test_probe_and_finetune_of_the_image_tower_learn_colours(clip_dir, tmp_path):
    photos = write_photo_folder(tmp_path / "photos", 6)
    test_images = [np.asarray(image) for colour in ("red", "green", "blue") for image in colour_photos(colour, 3, seed=1)]
    truth = [colour for colour in ("red", "green", "blue") for _ in range(3)]
    probe = headstart.fit(photos, backbone=str(clip_dir), method="probe")
    assert probe.predict(test_images).labels == truth  # random weights, but distinct colours
    finetuned = headstart.fit(photos, backbone=str(clip_dir), method="finetune", unfreeze=1, epochs=2, seed=0)
    trained = {name for name, p in finetuned.model.backbone.named_parameters() if p.requires_grad}
    assert trained and all(name.startswith("groups.3.") for name in trained)  # the head group only
    finetuned.save(tmp_path / "finetuned")
    loaded = headstart.load(tmp_path / "finetuned")
    np.testing.assert_allclose(loaded.outputs(test_images), finetuned.outputs(test_images), atol=1e-6)


def test_folder_code_is_never_run(clip_dir, tmp_path):
    folder = tmp_path / "remote"
    folder.mkdir()
    for file in clip_dir.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    marker = tmp_path / "code-ran"
    (folder / "custom.py").write_text(f"open({str(marker)!r}, 'w').close()\nfrom transformers import CLIPModel as Custom\n")
    for name, auto in [("config.json", "AutoModel"), ("tokenizer_config.json", "AutoTokenizer"),
                       ("preprocessor_config.json", "AutoImageProcessor")]:
        config = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps({**config, "auto_map": {auto: "custom.Custom"}}))
    assert isinstance(load_backbone(folder), CLIPImageTower)
    assert not marker.exists()


def test_a_folder_without_its_image_processor_config_is_explained(clip_dir, tmp_path):
    folder = tmp_path / "incomplete"
    folder.mkdir()
    for file in clip_dir.iterdir():
        if file.name != "preprocessor_config.json":
            (folder / file.name).write_bytes(file.read_bytes())
    with pytest.raises(BackboneError, match="no preprocessor_config.json"):
        load_backbone(folder)
