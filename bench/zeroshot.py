"""Benchmark zero-shot classification and the few-shot bridge (K = 0, 1, 2, 4, 8) with MiniLM-L6.

Data: Rotten Tomatoes (fresh vs rotten) and BBC News (5 topics), each with its fixed test split;
the Rotten Tomatoes test split (2,562 snippets) is subsampled to 1,000 at random (seed 0) for
speed, BBC News's 445 test articles are all used. K-shot training sets come from the train split
(``sample_shots``, seeds 0, 1, 2; nested in K for a seed).

Rows:
(a) zero-shot with bare class names vs written descriptions, one template vs the default set
    (averaged), and the negative log-likelihood at the default temperature 0.05 vs the
    test-optimal one (an oracle that bounds what calibration can gain);
(b) the K-shot curve of the bridge (probe pulled towards the zero-shot head, default strength
    0.3, and 0.1 / 1.0 to show the sensitivity) against a plain probe (``fit_linear_head``,
    L2 by cross-validation) on the same examples.

Writes ``bench/results/zeroshot.json`` and prints the Markdown tables quoted in ``docs/benchmarks.md``.

    .venv/bin/python bench/zeroshot.py [--seeds 3] [--test 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots
from headstart.features import extract_features
from headstart.methods.probe import fit_linear_head
from headstart.zeroshot import (
    DEFAULT_TEMPERATURE,
    fit_temperature,
    label_embeddings,
    label_prompts,
)
from headstart.zeroshot.classifier import zeroshot_model
from headstart.zeroshot.fewshot import fit_head_towards_prior
from headstart.zoo import Backbone, load_backbone

RESULTS = Path(__file__).parent / "results" / "zeroshot.json"
SHOTS = (1, 2, 4, 8)
STRENGTHS = (0.1, 0.3, 1.0)
DESCRIPTIONS = {
    "rotten_tomatoes": {"fresh": "a positive, glowing review", "rotten": "a negative, scathing review"},
    "bbc_news": {
        "business": "business, economy and finance",
        "entertainment": "entertainment, film, music and celebrities",
        "politics": "politics and government",
        "sports": "sports",
        "tech": "technology, computers and the internet",
    },
}


def accuracy(head: torch.nn.Linear, features: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        return float((head(torch.from_numpy(features)).argmax(1).numpy() == labels).mean())


def nll(similarities: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    logits = torch.from_numpy(similarities / temperature)
    return float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)))


def zero_shot_rows(net: Backbone, name: str, test: Dataset, features: np.ndarray) -> dict[str, Any]:
    """Accuracy for bare names vs descriptions and one template vs the set; calibration of the set."""
    described = DESCRIPTIONS[name]
    variants = {
        "names, template '{}'": (list(described), ["{}"]),
        "names, default templates": (list(described), None),
        "descriptions, template '{}'": (described, ["{}"]),
        "descriptions, default templates": (described, None),
    }
    rows = {label: accuracy(zeroshot_model(labels, net, templates).model.head, features, test.labels)
            for label, (labels, templates) in variants.items()}
    similarities = features @ label_embeddings(net, label_prompts(described)).T
    oracle = fit_temperature(similarities, test.labels)
    return {
        "accuracy": rows,
        "nll_default_temperature": nll(similarities, test.labels, DEFAULT_TEMPERATURE),
        "test_optimal_temperature": oracle,
        "nll_test_optimal_temperature": nll(similarities, test.labels, oracle),
    }


def shot_curve(net: Backbone, name: str, train: Dataset, test_features: np.ndarray, test_labels: np.ndarray,
               seeds: int) -> dict[str, dict[str, list[float]]]:
    """Per K: test accuracy of each seed for the bridge at each strength and for the plain probe."""
    prior = zeroshot_model(DESCRIPTIONS[name], net).model.head
    zero = accuracy(prior, test_features, test_labels)
    curve: dict[str, dict[str, list[float]]] = {"0": {f"bridge {s}": [zero] * seeds for s in STRENGTHS}}
    for k in SHOTS:
        runs: dict[str, list[float]] = {}
        for seed in range(seeds):
            shots = sample_shots(train, k, seed=seed)
            features = extract_features(net, shots, progress=False)
            for strength in STRENGTHS:
                head = fit_head_towards_prior(features, shots.labels, prior, strength)
                runs.setdefault(f"bridge {strength}", []).append(accuracy(head, test_features, test_labels))
            plain = fit_linear_head(features, shots.labels, "classification", len(train.classes), seed)
            runs.setdefault("plain probe", []).append(accuracy(plain, test_features, test_labels))
        curve[str(k)] = runs
    return curve


def markdown(results: dict[str, Any]) -> str:
    lines = ["| dataset | labels, templates | accuracy |", "|---|---|---|"]
    for name, r in results["datasets"].items():
        lines += [f"| {name} | {variant} | {acc:.3f} |" for variant, acc in r["zero_shot"]["accuracy"].items()]
    lines += ["", "| dataset | NLL at tau = 0.05 | test-optimal tau | NLL there |", "|---|---|---|---|"]
    for name, r in results["datasets"].items():
        z = r["zero_shot"]
        lines.append(f"| {name} | {z['nll_default_temperature']:.3f} | {z['test_optimal_temperature']:.3f} | "
                     f"{z['nll_test_optimal_temperature']:.3f} |")
    for name, r in results["datasets"].items():
        columns = [f"bridge {s}" for s in STRENGTHS] + ["plain probe"]
        lines += ["", f"{name} (test accuracy, mean ± std over {results['seeds']} seeds)", "",
                  "| K per class | " + " | ".join(c.replace("bridge 0.3", "**bridge 0.3 (default)**") for c in columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        for k, runs in r["curve"].items():
            cells = [f"{np.mean(runs[c]):.3f} ± {np.std(runs[c]):.3f}" if c in runs else "–" for c in columns]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=1000, help="Rotten Tomatoes test examples kept (at random, seed 0)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # scikit-learn's notices about future defaults
    torch.set_num_threads(2)
    started = time.perf_counter()
    net = load_backbone("minilm-l6")
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "backbone": "minilm-l6", "seeds": args.seeds, "default_temperature": DEFAULT_TEMPERATURE, "datasets": {},
    }
    for name in DESCRIPTIONS:
        test = load_dataset(name, "test")
        if len(test) > args.test:
            test = test.subset(np.sort(np.random.default_rng(0).permutation(len(test))[: args.test]))
        test_features = extract_features(net, test, progress=False)
        results["datasets"][name] = {
            "n_test": len(test),
            "zero_shot": zero_shot_rows(net, name, test, test_features),
            "curve": shot_curve(net, name, load_dataset(name, "train"), test_features, test.labels, args.seeds),
        }
    results["seconds"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
