"""The part of a model that travels: the method's changed state, as NumPy arrays in key order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from headstart.heads import linear_head
from headstart.methods import Method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.prepare import prepare


@dataclass
class SharedModel:
    """A model and its method; ``arrays``/``load`` read and write what the method trains
    (``Method.changed_state``: head, unfrozen groups or adapters, less its ``fixed_state``, which
    every party builds the same from the seed), the rest never leaves."""

    model: TransferModel
    method: Method
    keys: list[str]

    @classmethod
    def build(cls, recipe: Recipe, out_dim: int) -> SharedModel:
        """The recipe's pre-trained backbone, a new linear head with ``out_dim`` outputs and the
        method applied (e.g. LoRA adapters injected); seeded, so every party builds the same one."""
        torch.manual_seed(recipe.seed)
        prepared = prepare(recipe, {}, lambda net: linear_head(net.feature_dim, out_dim), lambda prepared, keep: None)
        model, method = prepared.model, prepared.method
        method.configure_trainable(model, method.first_trainable(model.backbone.num_groups))
        return cls(model, method, sorted(set(method.changed_state(model)) - set(method.fixed_state(model))))

    def arrays(self) -> list[np.ndarray]:
        state = self.method.changed_state(self.model)
        return [state[k].detach().cpu().numpy().copy() for k in self.keys]

    def load(self, arrays: list[np.ndarray]) -> None:
        state = self.method.changed_state(self.model)
        tensors = {k: torch.as_tensor(np.asarray(a)).to(state[k].dtype) for k, a in zip(self.keys, arrays, strict=True)}
        self.method.load_changed_state(self.model, state | tensors)

    def fixed_digest(self) -> str:
        """SHA-256 of the fixed tensors (``Method.fixed_state``), which every party must build alike."""
        state, digest = self.method.changed_state(self.model), hashlib.sha256()
        for k in sorted(self.method.fixed_state(self.model)):
            digest.update(k.encode() + state[k].detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def shapes(self) -> list[tuple[int, ...]]:
        return [tuple(a.shape) for a in self.arrays()]

    def model_bytes(self) -> int:
        """Bytes of the whole model (frozen backbone included), what sending it all would cost."""
        return sum(t.numel() * t.element_size() for t in self.model.state_dict().values())


def nbytes(arrays: list[np.ndarray]) -> int:
    return sum(int(a.nbytes) for a in arrays)
