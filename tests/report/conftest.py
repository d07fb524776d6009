"""One real small run shared by the report tests: EfficientNet-Lite0 fine-tuned (top group, two
epochs) on 4 scikit-learn digits per class, evaluated on 60 held-out digits, with 60 MNIST digits
as a second domain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import headstart
from headstart.data.dataset import Dataset
from headstart.data.sources import load_data
from headstart.data.splits import stratified_split
from headstart.fitted import Transferred
from headstart.report import write_report

COMPARISON = [
    {"method": "pixels + logistic regression", "accuracy": 0.91, "macro_f1": 0.90, "train_seconds": 0.4, "trainable_params": 30730},
    {"method": "finetune", "accuracy": 0.55, "macro_f1": 0.52, "train_seconds": 9.0, "trainable_params": 423050},
]


@dataclass
class WrittenReport:
    fitted: Transferred
    eval_data: Dataset
    path: Path


@pytest.fixture(scope="session")
def digits_run() -> tuple[Transferred, Dataset, Dataset]:
    fitted = headstart.fit("digits:train", backbone="efficientnet-lite0", method="finetune", shots=4, unfreeze=1, epochs=2)
    eval_data = stratified_split(load_data("digits:test"), 60, seed=0)[1]
    source = stratified_split(load_data("mnist5k:test"), 60, seed=0)[1]
    return fitted, eval_data, source


@pytest.fixture(scope="session")
def written_report(digits_run: tuple[Transferred, Dataset, Dataset], tmp_path_factory: pytest.TempPathFactory) -> WrittenReport:
    fitted, eval_data, source = digits_run
    out = tmp_path_factory.mktemp("report")
    path = write_report(fitted, eval_data, out, comparison=COMPARISON, title="Digits report", source=source)
    return WrittenReport(fitted, eval_data, path)
