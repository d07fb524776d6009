"""The whole inference path of a transfer model as one ``torch.nn.Module`` and its ONNX export:
backbone (LoRA adapters merged into the weights) + one head per output + activation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import Tensor, nn

from headstart import tasks
from headstart.export.traceable import OPSET, traceable_ops
from headstart.methods.lora import merged
from headstart.zoo import Backbone


@dataclass(frozen=True)
class Output:
    """One graph output: its name, task kind and class names."""

    name: str
    task: str
    classes: list[str] | None


class InferenceGraph(nn.Module):
    """``inputs -> activate(head_i(pool(backbone(inputs))))`` for each output ``i``; takes the
    backbone's batch as positional tensors named ``input_names`` (a single tensor for images)."""

    def __init__(self, backbone: Backbone, heads: Sequence[nn.Module], outputs: Sequence[Output],
                 input_names: Sequence[str] | None) -> None:
        super().__init__()
        self.backbone = backbone
        self.heads = nn.ModuleList(heads)
        self.kinds = [o.task for o in outputs]
        self.input_names = list(input_names) if input_names else None

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        batch: Any = self.backbone.graph_batch(dict(zip(self.input_names, inputs))) if self.input_names else inputs[0]
        features = self.backbone.forward_features(batch)
        return tuple(tasks.activate(kind, head(features)) for kind, head in zip(self.kinds, self.heads))


def as_tensors(batch: Any) -> tuple[list[str] | None, tuple[Tensor, ...]]:
    """A backbone batch (a mapping of tensors, or one tensor) as input names and tensors."""
    if isinstance(batch, Mapping):
        return list(batch), tuple(batch.values())
    return None, (batch,)


def export_graph(backbone: Backbone, heads: Sequence[nn.Module], outputs: Sequence[Output], example: Any,
                 path: Path) -> list[str]:
    """Write the graph to ``path`` (TorchScript-based exporter, dynamic batch and length axes, or
    those ``backbone.graph_axes`` names), traced on ``example`` (a backbone batch); return the
    graph's input names."""
    names, tensors = as_tensors(backbone.graph_inputs(example))
    graph = InferenceGraph(merged(backbone), heads, outputs, names).eval()
    input_names = names or ["pixels"]
    declared = backbone.graph_axes()
    axes = {n: dict(declared[n]) if n in declared else {0: "batch", 1: "length"} if t.dim() == 2 else {0: "batch"}
            for n, t in zip(input_names, tensors)}
    axes |= {o.name: {0: "batch"} for o in outputs}
    write_onnx(graph, tensors, input_names, [o.name for o in outputs], axes, path)
    return input_names


def write_onnx(module: nn.Module, tensors: Sequence[Tensor], input_names: Sequence[str], output_names: Sequence[str],
               axes: Mapping[str, Mapping[int, str]], path: Path) -> None:
    """Trace ``module`` on ``tensors`` into ``path`` (TorchScript-based exporter, opset ``OPSET``,
    with ``traceable_ops``)."""
    with torch.inference_mode(), traceable_ops():
        torch.onnx.export(module.eval(), tuple(tensors), str(path), input_names=list(input_names),
                          output_names=list(output_names), dynamic_axes={k: dict(v) for k, v in axes.items()},
                          opset_version=OPSET, dynamo=False)
    shared_constants(path)


def shared_constants(path: Path, at_least: int = 1 << 20) -> None:
    """Rewrite ``path`` with each large ``Constant`` (``at_least`` bytes; e.g. the DFT matrices of
    ``traceable_ops``, traced once per call site) held once, its copies' uses pointing at it."""
    model = onnx.load(str(path))
    first: dict[bytes, str] = {}
    renamed: dict[str, str] = {}
    for node in list(model.graph.node):
        if node.op_type != "Constant" or not node.attribute[0].HasField("t"):
            continue
        data = node.attribute[0].t.raw_data
        if len(data) < at_least:
            continue
        key = repr((list(node.attribute[0].t.dims), node.attribute[0].t.data_type)).encode() + data
        if key in first:
            renamed[node.output[0]] = first[key]
            model.graph.node.remove(node)
        else:
            first[key] = node.output[0]
    if renamed:
        for node in model.graph.node:
            node.input[:] = [renamed.get(name, name) for name in node.input]
        onnx.save(model, str(path))
