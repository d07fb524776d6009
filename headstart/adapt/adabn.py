"""AdaBN: adapt a network to a domain by re-estimating its BatchNorm statistics there.

Statistics computed once are kept on disk (keyed by the network's weights and the inputs' content),
and ``state_identity`` keys cached features by the statistics that computed them, so repeating an
adaptation costs no backbone pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from headstart.data.dataset import content_hash
from headstart.errors import HeadstartError
from headstart.features import default_cache_root
from headstart.features.batching import plan_batches, prepare_batch
from headstart.zoo.base import Backbone

BATCHNORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


def batchnorm_layers(module: nn.Module) -> dict[str, nn.Module]:
    """Every BatchNorm layer of ``module`` that keeps running statistics, by qualified name."""
    return {n: m for n, m in module.named_modules() if isinstance(m, BATCHNORM_TYPES) and m.track_running_stats}


def require_batchnorm(backbone: Backbone) -> None:
    if not batchnorm_layers(backbone):
        raise HeadstartError(f"adabn needs a backbone with BatchNorm layers; {backbone.name!r} has none")


def reestimate_batchnorm(backbone: Backbone, inputs: Sequence[Any], batch_size: int = 64, cache_dir: Path | None = None) -> None:
    r"""Replace the running statistics of every BatchNorm layer by those of ``inputs`` (AdaBN).

    Li et al., "Revisiting Batch Normalization for Practical Domain Adaptation", 2016. Each layer
    normalises :math:`\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}`; the affine weights keep the
    source task's knowledge while :math:`\mu, \sigma^2` carry the domain's. One pass over the
    domain in batches :math:`b = 1 \dots B`, BatchNorm layers in training mode with
    ``momentum=None`` (everything else in eval mode, no gradients), leaves the cumulative averages

    .. math:: \mu = \frac1B \sum_b \mu_b, \qquad \sigma^2 = \frac1B \sum_b \sigma_b^2

    of the batch means and (unbiased) batch variances. Weights are untouched. The result depends
    only on the weights and the inputs (training-mode layers normalise by batch statistics), so it
    is cached under ``cache_dir`` (default ``<feature cache>/batchnorm``) by both.
    """
    require_batchnorm(backbone)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_root() / "batchnorm"
    path = folder / f"{_statistics_key(backbone, inputs)}.safetensors"
    if path.is_file():
        backbone.load_state_dict(load_file(str(path)), strict=False)
        return
    _estimate(backbone, inputs, batch_size)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{uuid.uuid4().hex}.tmp"
    save_file({k: v.contiguous() for k, v in batchnorm_statistics(backbone).items()}, str(staged))
    os.replace(staged, path)


def batchnorm_statistics(backbone: Backbone) -> dict[str, Tensor]:
    """The running statistics of every BatchNorm layer, as ``state_dict`` entries."""
    layers = batchnorm_layers(backbone)
    return {k: v for k, v in backbone.state_dict().items() if k.rpartition(".")[0] in layers and k.rpartition(".")[2] in STATISTICS}


@contextmanager
def state_identity(backbone: Backbone) -> Iterator[None]:
    """Within the block the backbone's ``weights_hash`` is a digest of its current state (weights and
    BatchNorm statistics), so features cached meanwhile are keyed by what actually computes them;
    the pre-trained hash (which artifacts record) is restored on exit."""
    original = backbone.weights_hash
    backbone.weights_hash = f"{original[:16]}+state:{tensor_digest(backbone.state_dict())}"
    try:
        yield
    finally:
        backbone.weights_hash = original


def tensor_digest(tensors: Mapping[str, Tensor]) -> str:
    """SHA-256 over the names and bytes of ``tensors``."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _statistics_key(backbone: Backbone, inputs: Sequence[Any]) -> str:
    digest = hashlib.sha256(json.dumps(backbone.preprocessing_config(), sort_keys=True, default=str).encode())
    digest.update(tensor_digest(dict(backbone.named_parameters())).encode())
    for item in inputs:
        digest.update(content_hash(Path(item) if isinstance(item, str) else item).encode())
    return digest.hexdigest()[:32]


def _estimate(backbone: Backbone, inputs: Sequence[Any], batch_size: int) -> None:
    layers = list(batchnorm_layers(backbone).values())
    momenta, was_training = [layer.momentum for layer in layers], backbone.training
    backbone.eval()
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
        layer.train()
    try:
        with torch.no_grad():
            for indices in plan_batches(len(inputs), batch_size):
                backbone.forward_groups(prepare_batch(backbone, [inputs[i] for i in indices]))
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        backbone.train(was_training)
