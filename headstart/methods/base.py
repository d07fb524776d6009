"""The Method contract and its registry (PEFT's lesson: one method, one module, one registration).

A method decides what is trained (``first_trainable``), with which learning rates
(``parameter_groups``), which extra loss terms apply (``penalty``), and what it saves
(``changed_state``, read back by ``load_changed_state``). The training path (``headstart.training``) does the rest, the same way for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torch import Tensor

from headstart.errors import HeadstartError, did_you_mean
from headstart.methods.regularizers import L2SP, BatchSpectralShrinkage
from headstart.model import TransferModel
from headstart.recipe import (
    MethodSettings,
    Recipe,
    SettingInfo,
    describe,
    register_settings,
    setting,
)
from headstart.zoo.base import Backbone

_METHODS: dict[str, type[Method]] = {}


def register_method(name: str, settings: type[MethodSettings]) -> Callable[[type[Method]], type[Method]]:
    """Register a method under ``name`` with the settings dataclass ``Recipe.build`` checks it by."""

    def wrap(cls: type[Method]) -> type[Method]:
        cls.name, cls.settings = name, settings
        register_settings(name, settings)
        _METHODS[name] = cls
        return cls

    return wrap


def get_method(name: str) -> type[Method]:
    if name not in _METHODS:
        raise HeadstartError(f"unknown method {name!r}{did_you_mean(name, _METHODS)}; available: {', '.join(_METHODS)}")
    return _METHODS[name]


@dataclass(frozen=True)
class MethodInfo:
    """What the CLI shows of a method: the first line of its docstring and its own settings."""

    summary: str
    settings: list[SettingInfo]


def list_methods() -> dict[str, MethodInfo]:
    """Method name -> its summary and settings (name, default, doc)."""
    return {name: MethodInfo((cls.__doc__ or "").strip().splitlines()[0], describe(cls.settings)) for name, cls in _METHODS.items()}


@dataclass
class LayerDecaySetting(MethodSettings):
    """Layer-wise learning-rate decay (methods that train backbone groups with their own rates)."""

    lr_decay: float = setting(1.0, "layer-wise decay: group i gets lr * lr_decay ** (top - i)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.lr_decay > 0:
            raise HeadstartError(f"lr_decay must be > 0, not {self.lr_decay!r}")


@dataclass
class HeadInitSetting(MethodSettings):
    """Where the head starts (pre-trained methods that train: LP-FT or random)."""

    head_init: str = setting("probe", "probe: start the head from the linear probe's solution (LP-FT) | random")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.head_init not in ("probe", "random"):
            raise HeadstartError(f"head_init must be probe or random, not {self.head_init!r}")


@dataclass
class BatchNormSetting(MethodSettings):
    """What the trained groups' BatchNorm statistics do (methods that train whole groups)."""

    batchnorm: str = setting("auto", "trained groups' BatchNorm statistics: train | frozen | auto (frozen unless scratch)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batchnorm not in ("auto", "train", "frozen"):
            raise HeadstartError(f"batchnorm must be auto, train or frozen, not {self.batchnorm!r}")


class Method:
    """A way of transferring. Trainable methods override what differs from full fine-tuning."""

    name: ClassVar[str]
    settings: ClassVar[type[MethodSettings]]  # the method's own settings (``register_method``)
    trains: ClassVar[bool] = True  # False for closed-form methods (probe)
    pretrained: ClassVar[bool] = True  # False for the from-scratch control
    backbone_train_mode: ClassVar[bool] = True  # False: dropout and BatchNorm statistics stay frozen
    lr_kind: ClassVar[str] = "finetune"  # which of the backbone's default learning rates applies

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    @property
    def frozen_batchnorm(self) -> bool:
        """Whether the trained groups keep their pre-trained BatchNorm statistics (``recipe.batchnorm``;
        ``auto``: yes, unless training from scratch). Batch statistics of a few small batches from
        a new domain are noisy, and the running averages trail them (momentum 0.01 in
        EfficientNet-Lite), so the features seen at test time would differ from those trained on."""
        choice = self.recipe.batchnorm
        return choice == "frozen" or (choice == "auto" and self.pretrained)

    def backbone_for(self, net: Backbone) -> Backbone:
        """The backbone this method trains: the pre-trained one (the from-scratch control may take
        the family's smaller architecture, ``Backbone.scratch_backbone``)."""
        return net

    def prepare(self, model: TransferModel) -> None:
        """Change the model before training or loading (re-initialise, inject adapters)."""

    def configure_trainable(self, model: TransferModel, first_group: int) -> None:
        """Make groups ``first_group …`` and the head trainable, everything else frozen."""
        model.set_trainable(first_group)

    def setup_penalties(self, model: TransferModel) -> None:
        """Build the recipe's regularisers once the final trainable set is configured."""
        r = self.recipe
        self.penalties = [L2SP(model, r.l2sp)] if r.l2sp > 0 else []
        if r.bss > 0:
            self.penalties.append(BatchSpectralShrinkage(r.bss, r.bss_k))

    def first_trainable(self, num_groups: int) -> int:
        """Index of the lowest layer group that is ever trained (``num_groups``: none)."""
        return 0

    def trainable_at(self, epoch: int, num_groups: int) -> int:
        """Lowest trainable group at ``epoch`` (gradual unfreezing moves it down over time)."""
        return self.first_trainable(num_groups)

    def learning_rate(self, backbone: Backbone) -> float:
        """The recipe's ``lr``, else the backbone's default for this kind of method."""
        return self.recipe.lr if self.recipe.lr is not None else backbone.default_lr(self.lr_kind)

    def parameter_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        """Optimiser groups: one per trained layer group (layer-wise decay) and one for the head."""
        r, n = self.recipe, model.backbone.num_groups
        lr = self.learning_rate(model.backbone)
        groups = [
            {"params": list(model.backbone.groups[i].parameters()), "lr": lr * r.lr_decay ** (n - 1 - i), "name": f"group{i}"}
            for i in range(self.first_trainable(n), n)
        ]
        head_lr = r.head_lr if r.head_lr is not None else 20 * lr
        groups.append({"params": list(model.head.parameters()), "lr": head_lr, "name": "head"})
        return [g for g in groups if g["params"]]

    def penalty(self, model: TransferModel, features: Tensor) -> Tensor | None:
        """Sum of the extra loss terms (regularisers); ``None`` when there are none."""
        terms = [p(model, features) for p in getattr(self, "penalties", [])]
        return torch.stack(terms).sum() if terms else None

    def changed_state(self, model: TransferModel) -> dict[str, Tensor]:
        """The tensors an artifact must store: the head and every trained group, buffers included."""
        n = model.backbone.num_groups
        keep = tuple(f"backbone.groups.{i}." for i in range(self.first_trainable(n), n)) + ("head.",)
        return {k: v for k, v in model.state_dict().items() if k.startswith(keep)}

    def fixed_state(self, model: TransferModel) -> list[str]:
        """Keys of ``changed_state`` that training leaves at their seeded initialisation (the same
        for every party building the model from the recipe), which a federation need not send."""
        return []

    def load_changed_state(self, model: TransferModel, tensors: dict[str, Tensor]) -> None:
        """Put tensors of the form ``changed_state`` returns back into ``model``."""
        model.load_state_dict(tensors, strict=False)
