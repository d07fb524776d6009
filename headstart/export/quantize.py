"""int8 quantisation with ``onnxruntime.quantization``, as the backbone says
(``Backbone.int8_quantisation``): dynamic (weights int8, activations quantised on the fly: text
encoders over token ids), or static (activation ranges calibrated on example inputs, QDQ format:
networks over pixels, audio frames or series). A static graph is first pre-processed as onnxruntime
recommends (``quant_pre_process``: symbolic shape inference and graph optimisation before the
quantiser sees it; without it int8 EfficientNet-Lite0 ran barely faster than fp32, see
``bench/serve.py``); a graph it cannot pre-process is quantised as it is.

On x86 CPUs without VNNI (AVX2 only) onnxruntime's fused uint8 x int8 kernels sum pairs of
products in 16 bits (``vpmaddubsw``), which saturates: int8 EfficientNet-Lite0 agreed with fp32 on
31 % of digits there, 83 % under the QDQ graph's reference semantics (``bench/int8_kernels.py``).
``saturating_int8_cpu`` tells the runner to keep those semantics on such a CPU."""

from __future__ import annotations

import platform
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_BATCH = 8


VNNI_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}  # 8-bit dot products accumulated in 32 bits


def saturating_int8_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU's int8 convolutions saturate: x86 without a VNNI flag (an x86 whose flags
    cannot be read counts as saturating, so answers stay right)."""
    if platform.machine().lower() not in {"x86_64", "amd64", "i686", "x86"}:
        return False
    try:
        words = set(cpuinfo.read_text().split())
    except OSError:
        return True
    return not words & VNNI_FLAGS


class Calibration:
    """``onnxruntime.quantization.CalibrationDataReader`` over preprocessed example batches."""

    def __init__(self, prepare: Callable[[Sequence[Any]], dict[str, np.ndarray]], items: Sequence[Any]) -> None:
        batches = (items[i : i + CALIBRATION_BATCH] for i in range(0, len(items), CALIBRATION_BATCH))
        self.feeds: Iterator[dict[str, np.ndarray]] = (prepare(batch) for batch in batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.feeds, None)


def quantize(source: Path, target: Path, how: str,
             prepare: Callable[[Sequence[Any]], dict[str, np.ndarray]], calibration: Sequence[Any]) -> str:
    """Write the int8 version of ``source`` to ``target`` ``how`` (``dynamic`` or ``static``); return ``how``."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.preprocess import quant_pre_process

    if how == "dynamic":
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
        return "dynamic"
    reader = type("Reader", (Calibration, CalibrationDataReader), {})(prepare, list(calibration))
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".quantize-") as staging:
        prepared = Path(staging) / "preprocessed.onnx"
        try:
            quant_pre_process(str(source), str(prepared))
        except Exception:  # noqa: BLE001  (any failure of the optional pre-processing: quantise the graph as it is)
            prepared = source
        quantize_static(str(prepared), str(target), reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return "static"
