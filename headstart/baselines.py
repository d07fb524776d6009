"""No-transfer baselines: what a plain scikit-learn pipeline reaches on the same examples.

Text: TF-IDF (words and word pairs, sublinear term frequency) + logistic regression.
Series: MiniRocket features (aeon; multivariate MiniRocket for ``(C, T)`` inputs) + ridge
classification with its penalty chosen by leave-one-out (``RidgeClassifierCV``, the standard pairing),
and 1-nearest-neighbour on z-normalised series (Euclidean). Both need equal lengths: series of
unequal length are linearly resampled to the longest length (``series_panel``).
Audio: the mean and standard deviation of each MFCC over the utterance (13 MFCCs from
``librosa`` for recordings, the packaged ones for frame data) + logistic regression.
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
from sklearn.linear_model import LogisticRegression, RidgeClassifierCV
from sklearn.neighbors import KNeighborsClassifier
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


def series_panel(items: Sequence[Any]) -> np.ndarray:
    """Series ``(T,)`` or ``(C, T)`` as one float64 array ``(n, C, T)``; shorter series linearly
    resampled to the longest length, missing points (NaN) linearly interpolated."""
    rows = [np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in items]
    length = max(r.shape[1] for r in rows)
    out = np.empty((len(rows), rows[0].shape[0], length))
    for i, row in enumerate(rows):
        for c, channel in enumerate(row):
            t = np.arange(len(channel))
            ok = np.isfinite(channel)
            filled = np.interp(t, t[ok], channel[ok]) if ok.any() else np.zeros(len(channel))
            out[i, c] = np.interp(np.linspace(0, len(channel) - 1, length), t, filled)
    return out


def znormalised(items: Sequence[Any]) -> np.ndarray:
    """``series_panel`` rows, each channel z-normalised (a constant channel becomes 0), flattened."""
    panel = series_panel(items)
    std = panel.std(axis=2, keepdims=True)
    return ((panel - panel.mean(axis=2, keepdims=True)) / np.where(std > 0, std, 1.0)).reshape(len(panel), -1)


def minirocket_baseline(folds: int, seed: int = 0) -> Pipeline:
    """MiniRocket (10,000 features) + standardisation + ``RidgeClassifierCV`` (alphas 1e-3 … 1e3)."""
    from aeon.transformations.collection.convolution_based import MiniRocket

    return make_pipeline(FunctionTransformer(series_panel), MiniRocket(random_state=seed),
                         StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))


def nn1_baseline(folds: int, seed: int = 0) -> Pipeline:
    """1-nearest neighbour, Euclidean, on z-normalised series (nothing to tune)."""
    return make_pipeline(FunctionTransformer(znormalised), KNeighborsClassifier(n_neighbors=1))


def mfcc_statistics(items: Sequence[Any]) -> np.ndarray:
    """Per utterance: mean and standard deviation over time of each MFCC (``(T, D)`` frames as
    given; a waveform or audio file through ``headstart.data.audio.mfcc``)."""
    from headstart.zoo.audio import frames_of

    rows = []
    for item in items:
        frames = frames_of(item).astype(np.float64)
        rows.append(np.r_[frames.mean(axis=0), frames.std(axis=0)])
    return np.stack(rows)


def mfcc_baseline(folds: int, seed: int = 0) -> GridSearchCV:
    """MFCC statistics (standardised) + logistic regression, ``C`` by cross-validation."""
    pipeline = make_pipeline(FunctionTransformer(mfcc_statistics), StandardScaler(), LogisticRegression(max_iter=2000))
    return _tuned(pipeline, folds, seed)


# Baseline builders by name; a backbone family names its own (``Backbone.baseline``).
BASELINES = {
    "tfidf": ("TF-IDF + logistic regression", text_baseline),
    "pixels": ("pixels + logistic regression", pixel_baseline),
    "minirocket": ("MiniRocket + ridge", minirocket_baseline),
    "nn1": ("1-NN on z-normalised series", nn1_baseline),
    "mfcc-stats": ("MFCC statistics + logistic regression", mfcc_baseline),
}


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
        pipeline = getattr(self.estimator, "best_estimator_", self.estimator)
        classifier = pipeline.steps[-1][1]
        if not hasattr(classifier, "coef_"):  # nearest neighbour: nothing is trained
            return 0
        return int(classifier.coef_.size + classifier.intercept_.size)

    def evaluate(self, data: Dataset) -> dict[str, Any]:
        """The same metrics as ``Transferred.evaluate`` (``headstart.tasks.evaluate``)."""
        fitted_codes = self.estimator.classes_.astype(int)
        probabilities = np.zeros((len(data), len(self.classes)))
        if hasattr(self.estimator, "predict_proba"):
            probabilities[:, fitted_codes] = self.estimator.predict_proba(list(data.inputs))
        else:  # ridge: the predicted class gets probability 1
            predicted = self.estimator.predict(list(data.inputs)).astype(int)
            probabilities[np.arange(len(data)), predicted] = 1.0
        return tasks.evaluate("classification", probabilities, data.labels, self.classes)


def fit_baseline(train: Dataset, seed: int = 0, kind: str | None = None) -> Baseline:
    """Fit the baseline ``kind`` (default: the one the family of ``train``'s inputs names) on
    labelled ``train`` data (classification)."""
    kind = kind or input_family(train.modality).baseline
    if kind not in BASELINES:
        raise HeadstartError(f"{train.name}: no baseline for {train.modality} data (text, images, series and audio have one)")
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
