"""Benchmark export and serving.

(a) Export: a MiniLM-L6 probe on BBC News (8 per class, test: 200 articles cut to 128 tokens) and an
    EfficientNet-Lite0 probe on scikit-learn digits (8 per class, test: 200 images): parity of the
    fp32 ONNX graph with PyTorch, int8 accuracy change, and seconds per input of headstart's
    PyTorch path, onnxruntime fp32 and int8 at batch 1 and 32 (best of 3 passes).
(b) Serving the exported MiniLM graph over loopback (``headstart serve``, onnxruntime), one short
    text per request, driven by ``wrk`` (a C load generator: ``apt install wrk``; a Python client
    saturates before the server does) for ``SECONDS`` per cell at 1, 8 and 64 open connections,
    micro-batching on and off; then past saturation (256 connections, queue of 32): non-2xx
    (503) counts, server RSS before/after, and whether it still answers ``/health``. Before the HTTP
    cells, the same batcher and graph in process (64 concurrent callers, no HTTP): what batching
    buys when nothing else shares the cores with the forward pass.
    The PyTorch column times headstart's uncached path (backbone + head, no feature cache).

Runs with OMP_NUM_THREADS=1 and onnxruntime on 1 thread; the machine is shared with other jobs, so
absolute times are noisy (ratios less so). Writes ``bench/results/serve.json``.

    OMP_NUM_THREADS=1 .venv/bin/python -P bench/serve.py
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.export import OnnxModel, export_onnx
from headstart.features import extract_features
from headstart.fitted import as_batch
from headstart.serve.batching import MicroBatcher
from headstart.serve.launch import launch

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 5  # per serving cell
MAX_BATCH = 32  # headstart serve's default --max-batch
SHORT_TEXTS = ["Shares fell sharply after the results", "The striker scored twice in the final",
               "The minister announced a new budget", "A new phone with a faster chip", "The film won three awards"]


def timed(fn, items: list, batch: int, repeats: int = 3) -> float:
    """Best seconds per input of ``fn`` over ``items`` in batches of ``batch``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(0, len(items), batch):
            fn(items[i : i + batch])
        best = min(best, time.perf_counter() - started)
    return best / len(items)


def export_cell(name: str, model, test, calibration, folder: Path, n_timing: int) -> dict:
    report = export_onnx(model, folder / f"{name}.onnx", data=test, int8=True, calibration=calibration)
    fp32, int8 = OnnxModel(folder / f"{name}.onnx", threads=1), OnnxModel(folder / f"{name}.int8.onnx", threads=1)
    items = list(test.inputs[:n_timing])

    def uncached(batch: list) -> np.ndarray:
        features = extract_features(model.model.backbone, as_batch(batch, model.modality), cache=False)
        return model.outputs_from(features)

    speed = {}
    for batch in (1, 32):
        speed[f"batch_{batch}"] = {
            "torch_ms_per_input": 1000 * timed(uncached, items, batch),
            "onnx_fp32_ms_per_input": 1000 * timed(fp32.outputs, items, batch),
            "onnx_int8_ms_per_input": 1000 * timed(int8.outputs, items, batch),
        }
        s = speed[f"batch_{batch}"]
        s["fp32_vs_torch"] = s["torch_ms_per_input"] / s["onnx_fp32_ms_per_input"]
        s["int8_vs_fp32"] = s["onnx_fp32_ms_per_input"] / s["onnx_int8_ms_per_input"]
    return {"parity_max_abs_diff": report["max_abs_diff"], "label_agreement": report["label_agreement"],
            "examples": report["examples"], "accuracy_fp32": report["accuracy"],
            "accuracy_int8": report["int8"]["accuracy"], "int8_quantisation": report["int8"]["quantisation"],
            "int8_max_abs_diff": report["int8"]["max_abs_diff"], "speed": speed, "timed_inputs": len(items)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


WRK_SCRIPT = """
texts = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"},
                    '{"inputs": ["' .. texts[i %% #texts + 1] .. '"]}')
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def load(url: str, connections: int, seconds: int, script: Path) -> dict:
    """``wrk`` with ``connections`` open connections for ``seconds``, one text per request."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    percentile = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    failed = int(non_2xx.group(1)) if non_2xx else 0
    return {"clients": connections, "seconds": seconds, "requests": total, "ok": total - failed, "non_2xx": failed,
            "socket_errors": errors.group(1) if errors else None,
            "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)) * (total - failed) / max(total, 1),
            "p50_ms": percentile.get("50"), "p99_ms": percentile.get("99")}


def in_process(path: Path, clients: int = 64, requests: int = 640) -> dict:
    """The same micro-batcher and graph without HTTP: ``clients`` concurrent callers submitting one
    text each, ``requests`` in all, batching on and off; requests per second of each. Also the
    graph alone on the same texts at batch 1 and at the server's batch size: the ceiling of what
    batching can buy once every request's own overhead is gone."""
    model = OnnxModel(path, threads=1)
    texts = [SHORT_TEXTS[i % len(SHORT_TEXTS)] for i in range(requests // 2)]
    graph = {f"batch_{b}_texts_per_second": 1 / timed(model.outputs, texts, b) for b in (1, MAX_BATCH)}
    graph["ratio"] = graph[f"batch_{MAX_BATCH}_texts_per_second"] / graph["batch_1_texts_per_second"]
    rates = {}
    for enabled in (True, False):
        async def drive() -> float:
            batcher = MicroBatcher(model.outputs, enabled=enabled, max_queue=10_000)
            batcher.start()
            counter = iter(range(requests))

            async def caller() -> None:
                for i in counter:
                    await batcher.submit([SHORT_TEXTS[i % len(SHORT_TEXTS)]])

            started = time.perf_counter()
            await asyncio.gather(*(caller() for _ in range(clients)))
            elapsed = time.perf_counter() - started
            await batcher.stop()
            return requests / elapsed

        rates["batching" if enabled else "no_batching"] = asyncio.run(drive())
    return {"clients": clients, "requests": requests, "requests_per_second": rates,
            "speedup": rates["batching"] / rates["no_batching"], "graph_alone": graph}


def serving(path: Path, folder: Path) -> dict:
    if shutil.which("wrk") is None:
        sys.exit("bench/serve.py needs wrk for the serving part: apt install wrk")
    script = folder / "post.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(t) for t in SHORT_TEXTS))
    cells = []
    for batching in (True, False):
        proc, url = launch(path, "--batching" if batching else "--no-batching", "--max-queue", "1024")
        try:
            load(url, 4, 2, script)  # warm-up
            for clients in (1, 8, 64):
                cells.append({"batching": batching, **load(url, clients, SECONDS, script)})
                print(cells[-1], flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    proc, url = launch(path, "--max-queue", "32")
    try:
        before = rss_mb(proc.pid)
        first, second = load(url, 256, SECONDS, script), load(url, 256, SECONDS, script)
        saturation = {"queue": 32, "first": first, "second": second, "rss_mb_before": before,
                      "rss_mb_after": rss_mb(proc.pid), "alive": httpx.get(f"{url}/health").status_code == 200}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {"load_generator": "wrk -t1 (one text per request)", "server": "headstart serve defaults (--max-batch 32, "
            "--max-wait-ms 0: a batch is what queued during the previous forward), --max-queue 1024; onnxruntime 1 thread",
            "cells": cells, "past_saturation": saturation}


def main() -> None:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="headstart-serve-bench-"))
    bbc_train = sample_shots(load_dataset("bbc_news", "train"), 8, seed=0)
    bbc_test = sample_shots(load_dataset("bbc_news", "test"), 40, seed=0)
    text = headstart.fit(bbc_train, backbone="minilm-l6", method="probe", backbone_options={"max_length": 128})
    digits_train = sample_shots(load_dataset("digits", "train"), 8, seed=0)
    digits_test = sample_shots(load_dataset("digits", "test"), 20, seed=0)
    image = headstart.fit(digits_train, backbone="efficientnet-lite0", method="probe")
    results = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs; OMP_NUM_THREADS="
                   f"{os.environ.get('OMP_NUM_THREADS')}, onnxruntime 1 thread",
        "export": {"minilm-l6 (bbc_news)": export_cell("minilm", text, bbc_test, bbc_train, folder, 64),
                   "efficientnet-lite0 (digits)": export_cell("lite0", image, digits_test, digits_train, folder, 64)},
    }
    print(json.dumps(results["export"], indent=1), flush=True)
    results["in_process"] = in_process(folder / "minilm.onnx")
    print(results["in_process"], flush=True)
    results["serving"] = serving(folder / "minilm.onnx", folder)
    on = {c["clients"]: c for c in results["serving"]["cells"] if c["batching"]}
    off = {c["clients"]: c for c in results["serving"]["cells"] if not c["batching"]}
    results["serving"]["speedup_at_64"] = on[64]["requests_per_second"] / off[64]["requests_per_second"]
    results["seconds"] = time.perf_counter() - started
    out = ROOT / "bench" / "results" / "serve.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
