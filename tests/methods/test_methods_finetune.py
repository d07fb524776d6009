import copy

import numpy as np
import pytest
import torch
from short_text import TEXT_OPTIONS

import headstart
from headstart.errors import HeadstartError
from headstart.features import cached_states, extract_features
from headstart.methods import get_method
from headstart.methods.regularizers import L2SP, BatchSpectralShrinkage
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.run import auto_epochs
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet-lite0")


def test_finetune_trains_only_the_last_groups(digits_train, digits_test):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="finetune", unfreeze=2, epochs=2)
    backbone = model.model.backbone
    expected = sum(p.numel() for g in backbone.groups[-2:] for p in g.parameters()) + 1280 * 10 + 10
    assert model.info["trainable_params"] == expected
    assert model.info["prefix_cached"] is True  # groups 0..6 were computed once
    changed = model.method.changed_state(model.model)
    assert sum(v.numel() for k, v in changed.items() if "running" not in k and "num_batches" not in k) == expected
    assert model.evaluate(digits_test)["accuracy"] > 0.3


def test_layerwise_learning_rates_decay_towards_the_input(lite0):
    recipe = Recipe.build(backbone="efficientnet-lite0", method="finetune", unfreeze=3, lr=1e-3, lr_decay=0.5, head_lr=1e-2)
    method = get_method("finetune")(recipe)
    groups = method.parameter_groups(TransferModel(lite0, torch.nn.Linear(1280, 3)))
    assert [g["name"] for g in groups] == ["group6", "group7", "group8", "head"]
    assert [g["lr"] for g in groups] == pytest.approx([2.5e-4, 5e-4, 1e-3, 1e-2])


def test_gradual_unfreezing_schedule():
    method = get_method("finetune")(Recipe.build(method="finetune", unfreeze=3, gradual=2))
    assert [method.trainable_at(e, 9) for e in range(8)] == [8, 8, 7, 7, 6, 6, 6, 6]
    assert get_method("finetune")(Recipe.build(method="finetune", unfreeze="all")).first_trainable(9) == 0


def test_augmentation_turns_prefix_caching_off(digits_train):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="finetune", unfreeze=1, epochs=1, augment=True)
    assert model.info["prefix_cached"] is False


def test_lora_trains_and_saves_only_adapters_and_head(bbc_train, tmp_path):
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="lora", epochs=1, **TEXT_OPTIONS)
    saved = model.method.changed_state(model.model)
    assert saved and all("lora_" in k or k.startswith("head.") for k in saved)
    assert not any(".default." in k for k in saved)  # PEFT's names, independent of the adapter's name
    adapters = sum(v.numel() for k, v in saved.items() if "lora_" in k)
    assert adapters == 6 * 2 * 2 * 8 * 384  # 6 layers x (query, value) x (A, B) x r x d
    reloaded = headstart.load(model.save(tmp_path / "lora"))
    texts = bbc_train.inputs[:4]
    assert np.array_equal(reloaded.outputs(texts), model.outputs(texts))
    trained_b = next(v for k, v in saved.items() if "lora_B" in k)
    assert float(trained_b.abs().sum()) > 0  # B starts at 0: the adapters did train, and were reloaded


def test_lora_on_the_top_groups_caches_the_frozen_prefix(bbc_train, tmp_path):
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="lora", lora_groups=2, epochs=1, **TEXT_OPTIONS)
    assert model.info["prefix_cached"] is True  # embeddings and layers 0-3 ran once, from the cache
    saved = model.method.changed_state(model.model)
    adapted = {k.split(".")[2] for k in saved if "lora_" in k}  # backbone.groups.<i>....
    assert adapted == {"5", "6"}  # groups[0] is the embeddings: the last two of the six layers
    reloaded = headstart.load(model.save(tmp_path / "lora2"))
    texts = bbc_train.inputs[:4]
    assert np.array_equal(reloaded.outputs(texts), model.outputs(texts))
    assert model.prefix_start == 5 and cached_states(model.model.backbone, texts, 4) is not None  # cached in training
    whole_way = extract_features(model.model.backbone, texts, cache=False, progress=False)  # every group runs
    np.testing.assert_allclose(model.outputs(texts), model.outputs_from(whole_way), atol=1e-5)
    with pytest.raises(HeadstartError, match="lora_groups"):
        Recipe.build(method="lora", lora_groups=0)


def test_scratch_starts_from_random_weights(lite0):
    model = TransferModel(load_backbone("efficientnet-lite0"), torch.nn.Linear(1280, 2))
    get_method("scratch")(Recipe.build(method="scratch", backbone="efficientnet-lite0")).prepare(model)
    stem_new = model.backbone.groups[0].state_dict()
    stem_old = lite0.groups[0].state_dict()
    key = next(k for k in stem_old if k.endswith("weight"))
    assert not torch.allclose(stem_new[key], stem_old[key])
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 and float(m.running_var.mean()) == 1.0 for m in norms)
    assert all(abs(m.momentum - 0.01) < 1e-9 for m in lite0.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_l2sp_is_zero_at_the_start_and_grows_with_distance(lite0):
    model = TransferModel(copy.deepcopy(lite0), torch.nn.Linear(1280, 2))  # the shared backbone stays untouched
    model.set_trainable(8)
    reg = L2SP(model, strength=2.0)
    assert float(reg(model, torch.zeros(1))) == 0.0
    p = next(model.backbone.groups[8].parameters())
    with torch.no_grad():
        p.add_(0.1)
    assert float(reg(model, torch.zeros(1))) == pytest.approx(0.5 * 2.0 * 0.01 * p.numel(), rel=1e-4)


def test_bss_is_the_sum_of_the_smallest_squared_singular_values():
    features = torch.tensor([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    assert float(BatchSpectralShrinkage(0.5, k=1)(None, features)) == pytest.approx(0.5 * 4.0)
    assert float(BatchSpectralShrinkage(1.0, k=2)(None, features)) == pytest.approx(13.0)


def test_regularisers_train_end_to_end(digits_train):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="finetune", unfreeze=1, epochs=1, l2sp=0.01, bss=0.001)
    assert any(row.get("penalty", 0) > 0 for row in model.info["history"])


def test_auto_epochs_targets_a_step_budget():
    assert auto_epochs(40, 16) == 40  # 3 steps per epoch -> capped at 40 epochs
    assert auto_epochs(5000, 16) == 3


def test_lora_wraps_the_pointwise_convolutions_of_efficientnet(digits_train, tmp_path):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="lora", epochs=1, lora_r=2, batch_size=16)
    adapters = {k: v for k, v in model.method.changed_state(model.model).items() if "lora_B" in k}
    assert adapters and any(v.abs().sum() > 0 for v in adapters.values())  # B starts at zero
    assert all("_expand_conv" in k or "_project_conv" in k for k in adapters)
    reloaded = headstart.load(model.save(tmp_path / "lora"))
    images = digits_train.inputs[:4]
    assert np.allclose(reloaded.outputs(images), model.outputs(images), atol=1e-5)


def test_batchnorm_statistics_stay_pretrained_unless_asked(digits_train, lite0):
    pretrained = lite0.groups[-1][1].running_mean.clone()  # the head group: conv 1x1, BatchNorm, ReLU6
    conv = lite0.groups[-1][0].weight.detach().clone()
    options = dict(backbone="efficientnet-lite0", method="finetune", unfreeze=1, epochs=1)
    kept = headstart.fit(digits_train, **options)
    assert torch.equal(kept.model.backbone.groups[-1][1].running_mean, pretrained)
    assert not torch.equal(kept.model.backbone.groups[-1][0].weight, conv)  # the weights still train
    moved = headstart.fit(digits_train, batchnorm="train", **options)
    assert not torch.allclose(moved.model.backbone.groups[-1][1].running_mean, pretrained)
