"""Fine-tuning EfficientNet-Lite0 with its BatchNorm statistics frozen (the default) vs moving.

MNIST-5k, 32 examples per class (seed 0), tested on 500 images of the fixed test split (stratified,
seed 0): ``finetune --unfreeze 2`` with ``batchnorm="frozen"`` and ``"train"``, and the probe both
start from. Writes ``bench/results/batchnorm.json`` and prints the line quoted in
``docs/benchmarks.md`` ("Choosing what to transfer").

    .venv/bin/python bench/batchnorm.py
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import torch

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots, stratified_split

RESULTS = Path(__file__).parent / "results" / "batchnorm.json"


def main() -> None:
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    test = stratified_split(load_dataset("mnist5k", "test"), 500, seed=0)[1]
    train = sample_shots(load_dataset("mnist5k", "train"), 32, seed=0)
    runs = {"probe": {"method": "probe"}}
    runs.update({f"finetune, batchnorm={bn}": {"method": "finetune", "unfreeze": 2, "batchnorm": bn} for bn in ("frozen", "train")})
    results = {}
    for label, options in runs.items():
        started = time.perf_counter()
        model = headstart.fit(train, backbone="efficientnet-lite0", **options)
        results[label] = {"accuracy": model.evaluate(test)["accuracy"], "seconds": round(time.perf_counter() - started, 1)}
        print(label, results[label], flush=True)
    RESULTS.write_text(json.dumps({"shots": 32, "seed": 0, "n_test": len(test), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
