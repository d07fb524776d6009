"""Each method declares its own settings: Recipe.build, fit and the CLI accept only the shared ones
and the method's, with one-line errors naming the valid keys."""

import csv
import subprocess
import sys
from dataclasses import dataclass, fields

import pytest

import headstart
from headstart.errors import HeadstartError
from headstart.methods import get_method, list_methods
from headstart.methods.finetune import FineTuneSettings
from headstart.methods.lora import LoRASettings
from headstart.methods.probe import ProbeSettings
from headstart.methods.scratch import ScratchSettings
from headstart.recipe import (
    MethodSettings,
    Recipe,
    register_settings,
    setting,
    shared_settings,
)

SHARED = ["backbone", "method", "task", "seed", "epochs", "batch_size", "lr", "head_lr", "weight_decay", "schedule",
          "warmup", "augment", "val_fraction", "patience", "checkpoint_steps", "bf16", "devices", "num_nodes", "backbone_options"]
OWN = {
    "probe": (ProbeSettings, []),
    "finetune": (FineTuneSettings, ["unfreeze", "lr_decay", "gradual", "head_init", "batchnorm", "l2sp", "bss", "bss_k"]),
    "lora": (LoRASettings, ["head_init", "l2sp", "bss", "bss_k", "lora_r", "lora_alpha", "lora_dropout", "lora_targets",
             "lora_groups", "lora_freeze_a"]),
    "scratch": (ScratchSettings, ["lr_decay", "batchnorm", "bss", "bss_k", "architecture"]),
}


@pytest.fixture(scope="module")
def reviews():
    from headstart.data.catalogue import load_dataset
    from headstart.data.splits import sample_shots

    return sample_shots(load_dataset("rotten_tomatoes", "train"), 4, seed=0)


@pytest.mark.parametrize("method", list(OWN))
def test_each_method_registers_its_settings_with_documented_defaults(method):
    settings, names = OWN[method]
    assert get_method(method).settings is settings
    assert Recipe.valid_keys(method) == SHARED + names
    info = list_methods()[method]
    assert [s.name for s in info.settings] == names and all(s.doc for s in info.settings)
    recipe = Recipe()
    assert all(s.default == getattr(recipe, s.name) for s in info.settings)  # one default per setting
    assert info.summary == get_method(method).__doc__.strip().splitlines()[0]


def test_shared_settings_are_the_run_settings_and_every_other_field_has_an_owner():
    assert shared_settings() == SHARED
    owned = {name for _, names in OWN.values() for name in names}
    assert owned | set(SHARED) == {f.name for f in fields(Recipe)} and not owned & set(SHARED)


def test_a_settings_default_different_from_the_recipe_is_refused_at_registration():
    @dataclass
    class Drifted(MethodSettings):
        unfreeze: int = setting(3, "a second default")

    with pytest.raises(TypeError, match="Drifted.unfreeze must be a Recipe field with its default 2"):
        register_settings("drifted", Drifted)
    with pytest.raises(HeadstartError, match="unknown method 'drifted'"):
        Recipe.build(method="drifted")


def test_another_methods_setting_is_refused_in_one_line_naming_the_valid_ones():
    with pytest.raises(HeadstartError) as probe:
        Recipe.build(method="probe", unfreeze=2)
    assert str(probe.value) == f"unfreeze does nothing with method probe; probe's settings: none; shared settings: {', '.join(SHARED)}"
    with pytest.raises(HeadstartError) as finetune:
        Recipe.build(method="finetune", lora_r=4)
    assert str(finetune.value).startswith(
        "lora_r does nothing with method finetune; finetune's settings: unfreeze, lr_decay, gradual, head_init, batchnorm, l2sp, bss, bss_k;")
    with pytest.raises(HeadstartError, match="unfreeze does nothing with method lora"):
        Recipe.build(method="lora", unfreeze=1)
    with pytest.raises(HeadstartError, match="l2sp does nothing with method scratch"):
        Recipe.build(method="scratch", l2sp=0.01)
    with pytest.raises(HeadstartError, match="batchnorm does nothing with method probe"):
        Recipe.build(batchnorm="train")  # probe is the default method
    with pytest.raises(HeadstartError, match="^lora_r, unfreeze do nothing with method probe;"):
        Recipe.build(unfreeze=1, lora_r=2)
    with pytest.raises(HeadstartError, match="^unknown option\\(s\\) colour, size; valid"):
        Recipe.build(unfreeze=1, colour="red", size=3)  # unknown names are reported first
    assert "\n" not in str(probe.value)


def test_an_unknown_key_gets_a_suggestion_and_the_valid_keys():
    with pytest.raises(HeadstartError) as error:
        Recipe.build(method="finetune", unfreez=2)
    message = str(error.value)
    assert message.startswith("unknown option(s) unfreez; did you mean unfreeze? valid with method finetune: unfreeze, lr_decay")
    assert message.endswith("num_nodes, backbone_options") and "lora_r" not in message
    with pytest.raises(HeadstartError, match="did you mean lora_alpha"):
        Recipe.build(method="lora", lora_alfa=8)
    with pytest.raises(HeadstartError, match=r"^unknown option\(s\) colour; valid with method probe: backbone, method, task"):
        Recipe.build(colour="red")


def test_each_method_accepts_its_own_settings():
    finetune = Recipe.build(method="finetune", unfreeze="3", l2sp=0.01, bss=0.001, gradual=1, batchnorm="train")
    assert (finetune.unfreeze, finetune.l2sp, finetune.bss, finetune.gradual, finetune.batchnorm) == (3, 0.01, 0.001, 1, "train")
    lora = Recipe.build(method="lora", lora_r=2, lora_targets=["query"], head_init="random", epochs=1)
    assert (lora.lora_r, lora.lora_targets, lora.head_init, lora.epochs) == (2, ["query"], "random", 1)
    assert Recipe.build(method="scratch", batchnorm="frozen", lr_decay=0.5).lr_decay == 0.5
    assert Recipe.build(method="probe", epochs=3, seed=1).to_dict() == {**Recipe().to_dict(), "epochs": 3, "seed": 1}


@pytest.mark.parametrize("values, message", [
    (dict(method="finetune", unfreeze="some"), "unfreeze must be a number of layer groups or 'all', not 'some'"),
    (dict(method="finetune", unfreeze=-1), "unfreeze must be >= 0"),
    (dict(method="finetune", batchnorm="moving"), "batchnorm must be auto, train or frozen, not 'moving'"),
    (dict(method="lora", head_init="zeros"), "head_init must be probe or random, not 'zeros'"),
    (dict(method="finetune", lr_decay=0), "lr_decay must be > 0, not 0"),
    (dict(method="scratch", bss_k=0), "bss must be >= 0 and bss_k >= 1"),
    (dict(method="finetune", l2sp=-1.0), "l2sp must be >= 0"),
    (dict(method="lora", lora_r=0), "LoRA needs lora_r >= 1"),
    (dict(method="probe", schedule="linear"), "schedule must be cosine, onecycle or constant"),
    (dict(method="finetune", gradual="two"), "gradual must be int, not 'two'"),
    (dict(method="lora", lora_targets="query"), "lora_targets must be list, not 'query'"),
    (dict(method="scratch", lr_decay=None), "lr_decay must be int or float, not None"),
])
def test_values_are_validated_by_the_settings_they_belong_to(values, message):
    with pytest.raises(HeadstartError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Recipe.build(**values)
    assert FineTuneSettings(unfreeze="all").unfreeze == "all" and FineTuneSettings(unfreeze="4").unfreeze == 4


def test_an_old_artifact_recipe_with_every_field_still_constructs():
    """Artifacts store the flat recipe, with every method's fields whatever the method."""
    stored = {**Recipe().to_dict(), "method": "probe", "unfreeze": 3, "lora_r": 4, "batchnorm": "train"}
    recipe = Recipe(**stored)
    assert recipe.to_dict() == stored and get_method(recipe.method)(recipe).first_trainable(7) == 7


def test_fit_refuses_another_methods_setting_before_loading_a_backbone(reviews, monkeypatch):
    def no_backbone(*args, **kwargs):
        raise AssertionError("the backbone was loaded")

    monkeypatch.setattr("headstart.training.prepare.load_backbone", no_backbone)
    with pytest.raises(HeadstartError, match="^unfreeze does nothing with method probe; probe's settings: none;"):
        headstart.fit(reviews, method="probe", unfreeze=2)
    with pytest.raises(HeadstartError, match="lora_dropout does nothing with method finetune"):
        headstart.fit(reviews, method="finetune", lora_dropout=0.2)
    with pytest.raises(AssertionError, match="the backbone was loaded"):
        headstart.fit(reviews, method="finetune", l2sp=0.01)  # accepted: fit goes on to load the backbone


def test_the_cli_set_option_is_checked_against_the_method(reviews, tmp_path):
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([("text", "label"), *((t, reviews.classes[y]) for t, y in zip(reviews.inputs, reviews.labels))])
    done = subprocess.run([sys.executable, "-m", "headstart", "fit", str(path), "--method", "probe", "--set", "lora_r=4",
                           "--no-progress", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "lora_r does nothing with method probe" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()
