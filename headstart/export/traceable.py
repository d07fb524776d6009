r"""``traceable_ops()``: two operations the TorchScript-based ONNX exporter (opset 17) refuses, made
exportable while a graph is traced (``fracast-0`` uses both):

- ``torch.fft.rfft`` becomes two matrix products with fixed DFT matrices,
  :math:`\mathrm{Re}\,X_k = \sum_t x_t \cos(2\pi kt/n)`, :math:`\mathrm{Im}\,X_k = -\sum_t x_t \sin(2\pi kt/n)`
  (``n`` zero-padded as ``rfft`` does; the matrices computed in float64, exact up to fp32 rounding),
  returned as a ``RealSpectrum`` (the real and imaginary parts, with the complex products a
  power spectrum needs: ONNX graphs hold no complex tensors);
- ``aten::rms_norm`` (``nn.RMSNorm``) gets a symbolic: ``x / sqrt(mean(x^2) + eps) * weight``.

The dynamo exporter handles both natively (opset 18 ``DFT``) and gives the same graph to 1e-6, but
takes 16-21 s on fracast-0 where this takes 4 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.onnx import register_custom_op_symbolic, symbolic_helper, unregister_custom_op_symbolic

from headstart.errors import HeadstartError

OPSET = 17


@dataclass(frozen=True)
class RealSpectrum:
    """A complex tensor as its real and imaginary parts."""

    real: Tensor
    imag: Tensor

    def conj(self) -> RealSpectrum:
        return RealSpectrum(self.real, -self.imag)

    def __mul__(self, other: RealSpectrum) -> RealSpectrum:
        return RealSpectrum(self.real * other.real - self.imag * other.imag,
                            self.real * other.imag + self.imag * other.real)


def dft_rfft(x: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> RealSpectrum:
    """``torch.fft.rfft(x, n)`` over the last axis as two matrix products."""
    if dim not in (-1, x.dim() - 1) or norm not in (None, "backward"):
        raise HeadstartError(f"cannot export rfft over axis {dim} with norm {norm!r}: only the last axis, unnormalised")
    n = int(n or x.shape[-1])
    length = min(int(x.shape[-1]), n)
    angle = 2 * torch.pi * torch.outer(torch.arange(length, dtype=torch.float64),
                                       torch.arange(n // 2 + 1, dtype=torch.float64)) / n
    x = x[..., :length]
    return RealSpectrum(x @ torch.cos(angle).to(x.dtype), x @ (-torch.sin(angle)).to(x.dtype))


def rms_norm_symbolic(g: Any, x: Any, shape: Any, weight: Any, eps: Any) -> Any:
    """``aten::rms_norm(input, normalized_shape, weight, eps)`` in opset-17 operators."""
    axes = list(range(-len(symbolic_helper._get_const(shape, "is", "normalized_shape")), 0))
    epsilon = None if symbolic_helper._is_none(eps) else symbolic_helper._maybe_get_const(eps, "f")
    epsilon = float(torch.finfo(torch.float32).eps) if epsilon is None else float(epsilon)  # torch's default for fp32
    mean_square = g.op("ReduceMean", g.op("Mul", x, x), axes_i=axes, keepdims_i=1)
    root = g.op("Sqrt", g.op("Add", mean_square, g.op("Constant", value_t=torch.tensor(epsilon, dtype=torch.float32))))
    normed = g.op("Div", x, root)
    return normed if symbolic_helper._is_none(weight) else g.op("Mul", normed, weight)


@contextmanager
def traceable_ops() -> Iterator[None]:
    """While tracing for ``torch.onnx.export(..., dynamo=False)``: ``torch.fft.rfft`` is ``dft_rfft``
    and ``aten::rms_norm`` has a symbolic; both undone on exit."""
    rfft = torch.fft.rfft
    torch.fft.rfft = dft_rfft
    register_custom_op_symbolic("aten::rms_norm", rms_norm_symbolic, OPSET)
    try:
        yield
    finally:
        torch.fft.rfft = rfft
        unregister_custom_op_symbolic("aten::rms_norm", OPSET)
