"""A run, fully described: data aside, everything ``fit`` needs to reproduce a model.

``Recipe`` holds every setting by name (artifacts store it flat). The run settings are shared by
all methods; the others belong to the methods that read them: each method declares its settings
as a ``MethodSettings`` dataclass (defaults and documentation live there) and registers it with
``register_settings``. ``Recipe.build`` accepts only the shared settings and the method's own.
"""

from __future__ import annotations

import difflib
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from headstart.errors import HeadstartError, did_you_mean


@dataclass
class Recipe:
    """Typed hyper-parameters of one transfer run (defaults work on a new dataset).

    ``None`` means "choose from the data and the backbone" (see ``headstart.training``). The fields
    from ``unfreeze`` to ``lora_freeze_a`` are methods' settings, documented (with these same
    defaults) on each method's ``settings`` dataclass, e.g. ``headstart.methods.finetune.FineTuneSettings``.
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
    # methods' settings (see each method's settings dataclass)
    unfreeze: int | str = 2
    lr_decay: float = 1.0
    gradual: int = 0
    head_init: str = "probe"
    batchnorm: str = "auto"
    l2sp: float = 0.0
    bss: float = 0.0
    bss_k: int = 1
    architecture: str = "small"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_targets: list[str] | None = None
    lora_groups: int | None = None
    lora_freeze_a: bool = False
    # data and training
    augment: bool = False  # images: flip, crop, colour jitter (turns off frozen-prefix caching)
    val_fraction: float | None = None  # None: 0.2 when every class has >= 10 examples, else 0
    patience: int = 5  # early stopping on validation loss (when there is a validation split)
    checkpoint_steps: int = 0  # with a run folder: a checkpoint every N optimiser steps too (0: at each epoch's end only)
    bf16: bool = False
    devices: int = 1
    num_nodes: int = 1
    backbone_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, **values: Any) -> Recipe:
        """A recipe from keyword values: only the shared settings and the method's own are accepted
        (one-line errors otherwise), and the method's settings are validated by its dataclass."""
        method = values.get("method", cls.method)
        settings = method_settings(method)
        own = setting_names(settings)
        refused = sorted(set(values) - set(own) - set(shared_settings()))
        if refused:
            raise HeadstartError(_refusal(refused, method, own))
        chosen = settings(**{k: v for k, v in values.items() if k in own})
        recipe = cls(**{k: v for k, v in values.items() if k not in own}, **{k: getattr(chosen, k) for k in own})
        recipe.validate()
        return recipe

    @staticmethod
    def valid_keys(method: str) -> list[str]:
        """The settings ``build`` accepts with ``method``: the shared ones, then the method's own."""
        return [*shared_settings(), *setting_names(method_settings(method))]

    def validate(self) -> None:
        """Check the shared settings (each method's settings check themselves)."""
        if self.task not in ("classification", "multilabel", "regression"):
            raise HeadstartError(f"task must be classification, multilabel or regression, not {self.task!r}")
        if self.schedule not in ("cosine", "onecycle", "constant"):
            raise HeadstartError(f"schedule must be cosine, onecycle or constant, not {self.schedule!r}")
        if self.batch_size < 1 or (self.epochs is not None and self.epochs < 1):
            raise HeadstartError("batch_size and epochs must be positive")
        if self.checkpoint_steps < 0:
            raise HeadstartError(f"checkpoint_steps must be >= 0 (0: every epoch), not {self.checkpoint_steps!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MethodSettings:
    """Base of a method's own settings. Fields are named as ``Recipe``'s, with the same defaults,
    and documented by ``setting(default, doc)``; ``__post_init__`` validates (subclasses extend it,
    calling ``super().__post_init__()`` so that composed settings all check themselves)."""

    def __post_init__(self) -> None:
        """Check each value's type (``None`` only where it is the default)."""
        for f in fields(self):
            value, kinds = getattr(self, f.name), f.metadata["kinds"]
            if not (isinstance(value, kinds) or (value is None and f.default is None)):
                raise HeadstartError(f"{f.name} must be {' or '.join(k.__name__ for k in kinds)}, not {value!r}")


def setting(default: Any, doc: str, kinds: tuple[type, ...] | None = None) -> Any:
    """A settings field with its default, its one-line documentation and the types it accepts
    (default: the default's type; a float setting takes ints too)."""
    kinds = kinds or ((int, float) if isinstance(default, float) else (type(default),))
    return field(default=default, metadata={"doc": doc, "kinds": kinds})


@dataclass(frozen=True)
class SettingInfo:
    """One method setting as the CLI shows it."""

    name: str
    default: Any
    doc: str


def describe(settings: type[MethodSettings]) -> list[SettingInfo]:
    """The settings' name, default and documentation, in ``Recipe``'s field order."""
    by_name = {f.name: f for f in fields(settings)}
    return [SettingInfo(name, by_name[name].default, by_name[name].metadata.get("doc", "")) for name in setting_names(settings)]


def setting_names(settings: type[MethodSettings]) -> list[str]:
    """The settings' field names, in ``Recipe``'s field order."""
    own = {f.name for f in fields(settings)}
    return [f.name for f in fields(Recipe) if f.name in own]


_SETTINGS: dict[str, type[MethodSettings]] = {}


def register_settings(method: str, settings: type[MethodSettings]) -> None:
    """Make ``settings`` the settings ``Recipe.build`` accepts with ``method``. Each field must be a
    ``Recipe`` field with the same default (the dataclass is where that default is documented)."""
    defaults = {f.name: f.default for f in fields(Recipe)}
    for f in fields(settings):
        if f.name not in defaults or f.default is MISSING or f.default != defaults[f.name]:
            raise TypeError(f"{settings.__name__}.{f.name} must be a Recipe field with its default {defaults.get(f.name)!r}")
    _SETTINGS[method] = settings


def method_settings(method: str) -> type[MethodSettings]:
    """The settings dataclass of a registered method."""
    if method not in _SETTINGS:
        raise HeadstartError(f"unknown method {method!r}{did_you_mean(method, _SETTINGS)}; available: {', '.join(_SETTINGS)}")
    return _SETTINGS[method]


def shared_settings() -> list[str]:
    """``Recipe`` fields that no method owns: the run settings every method shares."""
    owned = {f.name for settings in _SETTINGS.values() for f in fields(settings)}
    return [f.name for f in fields(Recipe) if f.name not in owned]


def _refusal(keys: list[str], method: str, own: list[str]) -> str:
    """The one-line error for keys ``method`` does not take: unknown ones first, then other methods'."""
    shared, names = shared_settings(), [f.name for f in fields(Recipe)]
    unknown = [k for k in keys if k not in names]
    if unknown:
        guess = difflib.get_close_matches(unknown[0], own + shared, n=1) or difflib.get_close_matches(unknown[0], names, n=1)
        hint = f"did you mean {guess[0]}? " if guess else ""
        return f"unknown option(s) {', '.join(unknown)}; {hint}valid with method {method}: {', '.join(own + shared)}"
    return (f"{', '.join(keys)} {'does' if len(keys) == 1 else 'do'} nothing with method {method}; "
            f"{method}'s settings: {', '.join(own) or 'none'}; shared settings: {', '.join(shared)}")
