"""Static int8 on this CPU: fused kernels against the QDQ graph's reference semantics.

An EfficientNet-Lite0 probe on scikit-learn's digits (5 per class) is exported with ``--int8``
(calibrated on its training digits); its 100 test digits (10 per class) are run through the fp32
graph and the int8 graph twice: with onnxruntime's full optimisation (QDQ pairs fused into
uint8 x int8 kernels) and with basic optimisation only (dequantise, then float kernels, as the graph
says). Label agreement with fp32, accuracy, and seconds per pass. On x86 CPUs without VNNI the
fused kernels saturate (``headstart.export.quantize.saturating_int8_cpu``).

Writes ``bench/results/int8_kernels.json``.

    OMP_NUM_THREADS=1 .venv/bin/python bench/int8_kernels.py
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnxruntime as ort

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.export import OnnxModel, export_onnx
from headstart.export.quantize import VNNI_FLAGS, saturating_int8_cpu

RESULTS = Path(__file__).parent / "results" / "int8_kernels.json"
LEVELS = {"fused": ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "reference": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}


def run(path: Path, feed: dict[str, np.ndarray], level: ort.GraphOptimizationLevel) -> tuple[np.ndarray, float]:
    """The graph's first output on ``feed`` and the seconds of the best of three passes."""
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = session.run(None, feed)[0]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return out, min(times)


def main() -> None:
    train = sample_shots(load_dataset("digits", "train"), 5, seed=0)
    test = sample_shots(load_dataset("digits", "test"), 10, seed=0)
    model = headstart.fit(train, backbone="efficientnet-lite0", method="probe")
    truth = np.array([model.classes.index(str(y)) for y in test.labels])
    with tempfile.TemporaryDirectory() as out:
        path = Path(out) / "digits.onnx"
        export_onnx(model, path, data=test, int8=True, calibration=train)
        feed = OnnxModel(path).prepare(list(test.inputs))
        fp32, fp32_s = run(path, feed, LEVELS["fused"])
        rows = {"fp32": {"accuracy": float((fp32.argmax(1) == truth).mean()), "seconds": fp32_s}}
        for name, level in LEVELS.items():
            int8, seconds = run(path.with_name("digits.int8.onnx"), feed, level)
            rows[f"int8 {name}"] = {"accuracy": float((int8.argmax(1) == truth).mean()),
                                    "agreement_with_fp32": float((int8.argmax(1) == fp32.argmax(1)).mean()),
                                    "seconds": seconds, "x_fp32": seconds / fp32_s}
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").is_file() else set()
    record = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "examples": len(test),
              "cpu_vnni_flags": sorted(flags & VNNI_FLAGS), "saturating_int8_cpu": saturating_int8_cpu(),
              "runs": rows}
    RESULTS.write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
