"""No-transfer baselines: what a plain scikit-learn pipeline reaches on the same examples.

Text: TF-IDF (words and word pairs, sublinear term frequency) + logistic regression.
Images: raw pixels (resized to ``PIXEL_SIDE`` x ``PIXEL_SIDE`` RGB, standardised) + logistic
regression. In both, the L2 strength ``C`` is chosen by stratified cross-validation on the
training examples, the whole pipeline refit in each fold (no test or fold leakage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.data.images import load_image
from headstart.data.readers import require_labels
from headstart.errors import HeadstartError
from headstart.zoo.registry import input_family

C_GRID = np.logspace(-3, 4, 8)  # inverse L2 strengths tried
PIXEL_SIDE = 32
MAX_FOLDS = 5


def text_baseline(folds: int, seed: int = 0) -> GridSearchCV:
    """TF-IDF + logistic regression, ``C`` chosen by ``folds``-fold cross-validation."""
    pipeline = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1),
        LogisticRegression(max_iter=2000),
    )
    return _tuned(pipeline, folds, seed)


def pixel_baseline(folds: int, seed: int = 0) -> GridSearchCV:
    """Raw pixels (``PIXEL_SIDE``² RGB, standardised) + logistic regression, ``C`` by cross-validation."""
    pipeline = make_pipeline(
        FunctionTransformer(pixels),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    return _tuned(pipeline, folds, seed)


def pixels(images: Sequence[Any]) -> np.ndarray:
    """Each image (path or ``uint8`` array) as ``PIXEL_SIDE * PIXEL_SIDE * 3`` values in [0, 1]."""
    size = (PIXEL_SIDE, PIXEL_SIDE)
    return np.stack([np.asarray(load_image(x).resize(size), dtype=np.float32).ravel() / 255 for x in images])


def _tuned(pipeline: Pipeline, folds: int, seed: int) -> GridSearchCV:
    classifier = pipeline.steps[-1][0]
    return GridSearchCV(
        pipeline,
        {f"{classifier}__C": C_GRID},
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        scoring="accuracy",
    )


# Baseline builders by name; a backbone family names its own (``Backbone.baseline``).
BASELINES = {"tfidf": ("TF-IDF + logistic regression", text_baseline), "pixels": ("pixels + logistic regression", pixel_baseline)}


@dataclass
class Baseline:
    """A fitted baseline: its name, the estimator, how long the fit took and its parameter count."""

    name: str
    estimator: BaseEstimator
    train_seconds: float
    classes: list[str]

    @property
    def trainable_params(self) -> int:
        """Logistic-regression weights and biases (the TF-IDF vocabulary is counted, not trained)."""
        classifier = self.estimator.best_estimator_.steps[-1][1]
        return int(classifier.coef_.size + classifier.intercept_.size)

    def evaluate(self, data: Dataset) -> dict[str, Any]:
        """The same metrics as ``Transferred.evaluate`` (``headstart.tasks.evaluate``)."""
        fitted_codes = self.estimator.classes_.astype(int)
        probabilities = np.zeros((len(data), len(self.classes)))
        probabilities[:, fitted_codes] = self.estimator.predict_proba(list(data.inputs))
        return tasks.evaluate("classification", probabilities, data.labels, self.classes)


def fit_baseline(train: Dataset, seed: int = 0) -> Baseline:
    """Fit the baseline that the family of ``train``'s inputs names on labelled ``train`` data (classification)."""
    kind = input_family(train.modality).baseline
    if kind not in BASELINES:
        raise HeadstartError(f"{train.name}: no baseline for {train.modality} data (only text and images)")
    require_labels(train)
    name, build = BASELINES[kind]
    smallest_class = int(np.bincount(train.labels.astype(int))[np.unique(train.labels.astype(int))].min())
    folds = min(MAX_FOLDS, smallest_class)
    if folds < 2:
        raise HeadstartError(f"{train.name}: the baseline's cross-validation needs at least 2 examples per class")
    started = time.perf_counter()
    with threadpool_limits(1):  # BLAS threads only slow these small solves down (about 100x when the CPU is busy)
        estimator = build(folds, seed).fit(list(train.inputs), train.labels.astype(int))
    return Baseline(name, estimator, time.perf_counter() - started, list(train.classes or []))
