"""Parameter-efficient fine-tuning with LoRA adapters injected by PEFT.

PEFT is imported where adapters are made, saved, loaded or merged, not at import: importing it takes
~2.5 s (it loads transformers' BLOOM model), which every command would pay, a bad input's error included.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import Tensor

from headstart.errors import HeadstartError
from headstart.methods.base import HeadInitSetting, Method, register_method
from headstart.methods.regularizers import BSSSettings, L2SPSetting
from headstart.model import TransferModel
from headstart.recipe import setting
from headstart.zoo.base import Backbone

if TYPE_CHECKING:
    from peft import LoraConfig


@dataclass
class LoRASettings(HeadInitSetting, L2SPSetting, BSSSettings):
    """LoRA's settings: the adapters' rank, scale, dropout and targets, the head start, regularisers."""

    lora_r: int = setting(8, "rank r of each adapter")
    lora_alpha: int = setting(16, "scale: the update is alpha / r * B A")
    lora_dropout: float = setting(0.1, "dropout on the adapters' input")
    lora_targets: list[str] | None = setting(None, "names of the adapted modules (None: the backbone family's default)", (list,))
    lora_groups: int | None = setting(None, "adapt only the top k layer groups (None: all); the groups below are frozen "
                                            "and their activations cached, as for finetune --unfreeze k", (int,))
    lora_freeze_a: bool = setting(False, "train B only: A keeps its seeded initialisation (FFA-LoRA), so averaging "
                                         "the B of several runs averages their updates B A exactly")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lora_groups is not None and self.lora_groups < 1:
            raise HeadstartError(f"lora_groups must be at least 1 (or None: every group), not {self.lora_groups!r}")
        if self.lora_r < 1 or self.lora_alpha <= 0 or not 0 <= self.lora_dropout < 1:
            raise HeadstartError(
                f"LoRA needs lora_r >= 1, lora_alpha > 0 and 0 <= lora_dropout < 1, not {self.lora_r!r}, {self.lora_alpha!r}, {self.lora_dropout!r}")


@register_method("lora", settings=LoRASettings)
class LoRA(Method):
    r"""LoRA: low-rank adapters (PEFT) on the frozen backbone, plus the head; only they are saved.

    Each adapted weight becomes :math:`W + \frac{\alpha}{r} B A` with :math:`A \in R^{r \times k}`,
    :math:`B \in R^{d \times r}`, ``B = 0`` at the start (Hu et al., "LoRA", 2021). The adapted
    modules are the recipe's ``lora_targets``, else those the backbone declares (``lora_targets``).

    With ``lora_freeze_a``, A stays at its random initialisation and only B (and the head) trains
    (FFA-LoRA: Sun et al., "Improving LoRA in privacy-preserving federated learning", 2024):
    clients sharing A then average the updates exactly, :math:`\frac{1}{n}\sum_i B_i A = \bar B A`,
    where averaging A and B separately gives :math:`\bar B \bar A \ne \frac{1}{n}\sum_i B_i A_i`.
    """

    lr_kind = "lora"
    backbone_train_mode = False  # BatchNorm statistics and dropout of the base model stay frozen

    def first_trainable(self, num_groups: int) -> int:
        k = self.recipe.lora_groups
        return 0 if k is None else max(0, num_groups - k)

    def config(self, backbone: Backbone) -> LoraConfig:
        r = self.recipe
        targets = r.lora_targets or list(backbone.lora_targets)
        if not targets:
            raise HeadstartError(f"backbone {backbone.name!r} declares no LoRA target modules; set lora_targets")
        if r.lora_groups is not None:
            targets = modules_in_top_groups(backbone, targets, self.first_trainable(backbone.num_groups))
        from peft import LoraConfig

        return LoraConfig(r=r.lora_r, lora_alpha=r.lora_alpha, lora_dropout=r.lora_dropout, target_modules=targets)

    def prepare(self, model: TransferModel) -> None:
        from peft import inject_adapter_in_model

        inject_adapter_in_model(self.config(model.backbone), model.backbone)

    def configure_trainable(self, model: TransferModel, first_group: int) -> None:
        model.set_trainable(model.backbone.num_groups)
        fixed = self.fixed_names()
        for name, p in model.backbone.named_parameters():
            p.requires_grad_("lora_" in name and not any(f in name for f in fixed))

    def fixed_names(self) -> tuple[str, ...]:
        """Name parts of the adapter tensors that stay as initialised (``lora_freeze_a``: A's)."""
        return ("lora_A.",) if self.recipe.lora_freeze_a else ()

    def fixed_state(self, model: TransferModel) -> list[str]:
        fixed = self.fixed_names()
        return [k for k in self.changed_state(model) if any(f in k for f in fixed)]

    def parameter_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        r = self.recipe
        lr = self.learning_rate(model.backbone)
        adapters = [p for n, p in model.backbone.named_parameters() if "lora_" in n and p.requires_grad]
        head_lr = r.head_lr if r.head_lr is not None else 10 * lr
        return [{"params": adapters, "lr": lr, "name": "adapters"}, {"params": list(model.head.parameters()), "lr": head_lr, "name": "head"}]

    def changed_state(self, model: TransferModel) -> dict[str, Tensor]:
        """The adapters, as PEFT selects and names them (without the adapter name), and the head."""
        from peft import get_peft_model_state_dict

        adapters = {f"backbone.{k}": v for k, v in get_peft_model_state_dict(model.backbone).items()}
        return adapters | {f"head.{k}": v for k, v in model.head.state_dict().items()}

    def load_changed_state(self, model: TransferModel, tensors: dict[str, Tensor]) -> None:
        from peft import set_peft_model_state_dict

        adapters = {k.removeprefix("backbone."): v for k, v in tensors.items() if k.startswith("backbone.")}
        result = set_peft_model_state_dict(model.backbone, adapters)
        if result.unexpected_keys:
            raise HeadstartError(f"LoRA state has tensors the adapters do not (e.g. {sorted(result.unexpected_keys)[:3]})")
        model.head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")})


def modules_in_top_groups(backbone: Backbone, targets: list[str], first: int) -> list[str]:
    """The full names of the modules matching ``targets`` (PEFT's rule: the name or its last
    dotted parts) inside ``backbone.groups[first:]``."""
    inside = {id(m) for group in backbone.groups[first:] for m in group.modules()}
    names = [name for name, m in backbone.named_modules()
             if id(m) in inside and any(name == t or name.endswith(f".{t}") for t in targets)]
    if not names:
        raise HeadstartError(f"no module named {', '.join(targets)} in the top {backbone.num_groups - first} layer groups "
                             f"of {backbone.name!r}; set lora_targets or more lora_groups")
    return names


def merged(backbone: Backbone) -> Backbone:
    """A copy of ``backbone`` with every LoRA adapter merged into its base weights and unwrapped
    (what PEFT's ``merge_and_unload`` does for a ``PeftModel``; headstart injects adapters with
    ``inject_adapter_in_model``, so there is no ``PeftModel`` to call it on)."""
    from peft.tuners.lora import LoraLayer

    net = copy.deepcopy(backbone).eval()
    for name, module in list(net.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge(safe_merge=True)
            parent_name, _, child = name.rpartition(".")
            setattr(net.get_submodule(parent_name) if parent_name else net, child, module.get_base_layer())
    return net
