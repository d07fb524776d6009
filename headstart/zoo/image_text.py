r"""CLIP image-text models from a local Hugging Face folder: the image tower as an image backbone,
the text tower beside it for zero-shot labels.

A CLIP folder (``config.json`` with ``model_type: clip``, weights, tokenizer files and
``preprocessor_config.json``) becomes an image ``Backbone`` whose layer groups are::

    stem    patch + position embeddings, pre-LayerNorm        pixels -> tokens (B, 1 + P, D)
    layer   one vision transformer layer each                 tokens -> tokens
    head    post-LayerNorm of the CLS token, visual projection   tokens -> (B, E)

``pool`` L2-normalises the head's output, so the features are CLIP's image embeddings
:math:`u = \mathrm{normalize}(W_v\, \mathrm{LN}(h_{\mathrm{CLS}}))` in the joint space (an
intermediate state pools to its CLS token). ``text_tower()`` returns the text side as a text
backbone, :math:`v = \mathrm{normalize}(W_t\, h_{\mathrm{EOS}})`, with the trained logit scale
:math:`s`: CLIP scores an image against a text by :math:`s \cos(u, v)`.

Images are decoded by ``headstart.data.images.load_image`` and resized, centre-cropped and
normalised by the folder's own image processor configuration. Nothing in the folder is executed:
the model, tokenizer and processor classes are CLIP's own (``trust_remote_code=False``).
transformers is imported only when a model is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import torch
from PIL import Image
from torch import Tensor, nn
from torch.nn import functional as F

from headstart.errors import BackboneError
from headstart.zoo.base import TextTower
from headstart.zoo.hf_text import WEIGHTS_FILES, weights_sha256
from headstart.zoo.image import ImageBackbone
from headstart.zoo.registry import register_loader
from headstart.zoo.text import TextBackbone

if TYPE_CHECKING:
    from transformers import CLIPImageProcessorPil, CLIPModel, PreTrainedTokenizerBase

PROCESSOR_FILE = "preprocessor_config.json"
PROMPT_TEMPLATES = ("a photo of a {}.",)  # the CLIP paper's base prompt for labels of photos


class VisionStem(nn.Module):
    """``groups[0]``: pixels ``(B, 3, H, W)`` -> CLS + patch tokens with positions, pre-LayerNorm."""

    def __init__(self, embeddings: nn.Module, pre_layernorm: nn.Module) -> None:
        super().__init__()
        self.embeddings = embeddings
        self.pre_layernorm = pre_layernorm

    def forward(self, pixels: Tensor) -> Tensor:
        return self.pre_layernorm(self.embeddings(pixels))


class VisionLayer(nn.Module):
    """One vision transformer layer: every token attends to every token (no mask)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, tokens: Tensor) -> Tensor:
        return self.layer(tokens, None)


class VisionHead(nn.Module):
    """The last group: post-LayerNorm of the CLS token, then the projection into the joint space."""

    def __init__(self, post_layernorm: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.post_layernorm = post_layernorm
        self.projection = projection

    def forward(self, tokens: Tensor) -> Tensor:
        return self.projection(self.post_layernorm(tokens[:, 0]))


class TextEncoder(nn.Module):
    """The whole text tower: tokens -> EOS state of the causal transformer -> text projection."""

    def __init__(self, text_model: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.text_model = text_model
        self.projection = projection

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        pooled = self.text_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).pooler_output
        return self.projection(pooled)


class CLIPTextTower(TextBackbone):
    """CLIP's text side as a one-group text backbone: L2-normalised text embeddings ``(B, E)``."""

    ragged_states = False  # one group: only pooled embeddings are ever cached

    def __init__(self, model: CLIPModel, tokenizer: PreTrainedTokenizerBase, *, name: str, weights_hash: str) -> None:
        super().__init__()
        self.name = name
        self.weights_hash = weights_hash
        self.tokenizer = tokenizer
        self.max_length: int = model.config.text_config.max_position_embeddings
        self.feature_dim = model.config.projection_dim
        self.groups = nn.ModuleList([TextEncoder(model.text_model, model.text_projection)])

    def preprocess(self, raw: Sequence[str]) -> dict[str, Tensor]:
        """Tokenise, truncating at the model's positions and padding to the batch's longest text."""
        encoded = self.tokenize(raw)
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def pool(self, state: Tensor) -> Tensor:
        return F.normalize(state, dim=-1)

    def preprocessing_config(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "normalize": True}


class CLIPImageTower(ImageBackbone):
    """CLIP's image side as layer groups (stem, one group per layer, head), with its text tower."""

    lora_targets = ("q_proj", "v_proj")  # the attention projections of the vision layers
    learning_rates = {"finetune": 1e-5, "lora": 5e-4, "scratch": 2e-4}  # ViT-style: far below a CNN's

    def __init__(
        self,
        model: CLIPModel,
        processor: CLIPImageProcessorPil,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        weights_hash: str,
    ) -> None:
        super().__init__()
        vision = model.vision_model
        self.name = name
        self.weights_hash = weights_hash
        self.processor = processor
        self.feature_dim = model.config.projection_dim
        self.logit_scale = float(model.logit_scale.detach().exp())
        self.groups = nn.ModuleList(
            [
                VisionStem(vision.embeddings, vision.pre_layrnorm),
                *(VisionLayer(layer) for layer in vision.encoder.layers),
                VisionHead(vision.post_layernorm, model.visual_projection),
            ]
        )
        # Kept out of the module tree: freezing, saving, LoRA and parameter counts see the image tower only.
        text = CLIPTextTower(model, tokenizer, name=f"{name}:text", weights_hash=weights_hash).eval()
        object.__setattr__(self, "_text", text)

    @classmethod
    def from_directory(cls, directory: str | Path) -> CLIPImageTower:
        """Load a local CLIP folder in eval mode, without network and without running its code."""
        from transformers import CLIPImageProcessorPil, CLIPModel, CLIPTokenizer
        from transformers.utils import logging as hf_logging

        directory = Path(directory).expanduser()
        weights = next((directory / f for f in WEIGHTS_FILES if (directory / f).is_file()), None)
        if weights is None:
            raise BackboneError(f"{directory}: no weights file ({' or '.join(WEIGHTS_FILES)})")
        if not (directory / PROCESSOR_FILE).is_file():
            raise BackboneError(f"{directory}: no {PROCESSOR_FILE} (the image size, mean and std)")
        hf_logging.disable_progress_bar()
        try:
            local = {"local_files_only": True, "trust_remote_code": False}
            model = CLIPModel.from_pretrained(directory, dtype=torch.float32, **local)
            tokenizer = CLIPTokenizer.from_pretrained(directory, **local)
            processor = CLIPImageProcessorPil.from_pretrained(directory, **local)
        except (OSError, ValueError) as exc:
            raise BackboneError(f"{directory}: cannot load the CLIP model, tokenizer or processor ({exc})") from None
        finally:
            hf_logging.enable_progress_bar()
        tokenizer.padding_side = "right"
        tower = cls(model, processor, tokenizer, name=str(directory), weights_hash=weights_sha256(weights))
        tower.source_folder = directory
        return tower.eval()

    def transform(self, images: Sequence[Image.Image]) -> Tensor:
        """RGB images -> ``(B, 3, S, S)``: the processor's resize of the shorter side, centre crop,
        ``(p / 255 - mean) / std``."""
        return self.processor(images=list(images), return_tensors="pt")["pixel_values"]

    def pool(self, state: Tensor) -> Tensor:
        """The head's projection L2-normalised; an intermediate state's CLS token."""
        return F.normalize(state, dim=-1) if state.ndim == 2 else state[:, 0]

    def text_tower(self) -> TextTower:
        return TextTower(self._text, self.logit_scale, PROMPT_TEMPLATES)

    def preprocessing_config(self) -> dict[str, Any]:
        p = self.processor
        return {
            "size": dict(p.size),
            "crop_size": dict(p.crop_size) if p.do_center_crop else None,
            "resample": int(p.resample),
            "mean": list(p.image_mean),
            "std": list(p.image_std),
        }




register_loader(CLIPImageTower, CLIPImageTower.from_directory, model_type="clip")
