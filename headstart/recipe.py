"""A run, fully described: data aside, everything ``fit`` needs to reproduce a model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from headstart.errors import HeadstartError


@dataclass
class Recipe:
    """Typed hyper-parameters of one transfer run (defaults work on a new dataset).

    ``None`` means "choose from the data and the backbone" (see ``headstart.training``).
    """

    backbone: str = "minilm-l6"
    method: str = "probe"
    task: str = "classification"  # classification | multilabel | regression
    seed: int = 0
    # optimisation (trainable methods)
    epochs: int | None = None  # None: enough epochs for ~150 optimiser steps, 3 to 40
    batch_size: int = 16
    lr: float | None = None  # peak learning rate of the top backbone group
    head_lr: float | None = None  # None: 20x lr
    weight_decay: float = 0.01
    schedule: str = "cosine"  # cosine | onecycle | constant
    warmup: float = 0.1  # fraction of all steps spent warming up linearly
    # what is trained
    unfreeze: int | str = 2  # finetune: train the last k layer groups, or "all"
    lr_decay: float = 1.0  # layer-wise decay: group i gets lr * lr_decay ** (top - i)
    gradual: int = 0  # gradual unfreezing: one more group every `gradual` epochs (0: off)
    head_init: str = "probe"  # probe: start from the linear probe's solution (LP-FT) | random
    batchnorm: str = "auto"  # trained groups' BatchNorm statistics: train | frozen | auto (frozen unless scratch)
    # regularisers
    l2sp: float = 0.0  # strength of the pull towards the pre-trained weights
    bss: float = 0.0  # batch spectral shrinkage strength
    bss_k: int = 1  # number of smallest singular values shrunk
    # LoRA
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_targets: list[str] | None = None  # None: the backbone family's default
    # data and training
    augment: bool = False  # images: flip, crop, colour jitter (turns off frozen-prefix caching)
    val_fraction: float | None = None  # None: 0.2 when every class has >= 10 examples, else 0
    patience: int = 5  # early stopping on validation loss (when there is a validation split)
    bf16: bool = False
    devices: int = 1
    num_nodes: int = 1
    backbone_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, **values: Any) -> Recipe:
        """A recipe from keyword values, with a clear error for unknown names."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise HeadstartError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        recipe = cls(**values)
        recipe.validate()
        return recipe

    def validate(self) -> None:
        if self.task not in ("classification", "multilabel", "regression"):
            raise HeadstartError(f"task must be classification, multilabel or regression, not {self.task!r}")
        if self.schedule not in ("cosine", "onecycle", "constant"):
            raise HeadstartError(f"schedule must be cosine, onecycle or constant, not {self.schedule!r}")
        if isinstance(self.unfreeze, str) and self.unfreeze != "all":
            if not self.unfreeze.isdigit():
                raise HeadstartError(f"unfreeze must be a number of layer groups or 'all', not {self.unfreeze!r}")
            self.unfreeze = int(self.unfreeze)
        if isinstance(self.unfreeze, int) and self.unfreeze < 0:
            raise HeadstartError("unfreeze must be >= 0")
        if self.batchnorm not in ("auto", "train", "frozen"):
            raise HeadstartError(f"batchnorm must be auto, train or frozen, not {self.batchnorm!r}")
        if self.head_init not in ("probe", "random"):
            raise HeadstartError(f"head_init must be probe or random, not {self.head_init!r}")
        if self.batch_size < 1 or (self.epochs is not None and self.epochs < 1):
            raise HeadstartError("batch_size and epochs must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
