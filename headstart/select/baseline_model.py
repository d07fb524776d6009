"""The no-transfer baseline as a model that predicts, evaluates, saves and loads like ``Transferred``.

A fitted ``headstart.baselines`` pipeline is turned into fixed features and a linear map:

    text    x -> TF-IDF vector v(x)                  (the fitted vocabulary and idf weights)
    images  x -> pixels p(x) in [0, 1]               (resized to ``PIXEL_SIDE`` squared, RGB)
    audio   x -> MFCC statistics m(x)                (mean and std of each coefficient)
    logits  z = W x + b,  probabilities = softmax(z)

The standardisation of the pixel and MFCC pipelines is folded into the map (``W' = W / s``,
``b' = b - W' mu``); a binary logistic regression's single logit ``t`` becomes ``(0, t)``; classes
absent from the training data get ``b = -inf`` (probability 0). The artifact folder holds
``config.json`` (format, classes, the TF-IDF settings and vocabulary, or the fixed features' name) and
``model.safetensors`` (``weight``, ``bias`` and, for text, ``idf``), written by
``headstart.artifacts.write_artifact``: no pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from headstart import baselines
from headstart.artifacts import (
    Artifact,
    expect_format,
    read_artifact,
    register_format,
    write_artifact,
)
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.fitted import Inputs, PredictsFromFeatures, as_batch
from headstart.select.series_baseline import KINDS as SERIES_KINDS
from headstart.select.series_baseline import SeriesBaselineModel, series_baseline_model
from headstart.zoo.registry import input_family

FORMAT = "headstart-baseline/1"
FIXED_FEATURES = {"pixels": baselines.pixels, "mfcc-stats": baselines.mfcc_statistics}  # name -> items -> rows


@dataclass
class BaselineModel(PredictsFromFeatures):
    """A linear classifier over TF-IDF vectors (``vectorizer`` set) or fixed features (``fixed``:
    a name of ``FIXED_FEATURES``; pixels at ``pixel_side``)."""

    name: str
    modality: str
    classes: list[str]
    weight: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)
    vectorizer: TfidfVectorizer | None = None
    pixel_side: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    fixed: str | None = None
    task = "classification"

    @classmethod
    def from_fitted(cls, fitted: baselines.Baseline, modality: str, info: dict[str, Any] | None = None) -> BaselineModel:
        """The linear form of a fitted ``headstart.baselines`` pipeline (its best cross-validated fit)
        on ``modality`` inputs."""
        steps = [step for _, step in fitted.estimator.best_estimator_.steps]
        classifier, featurizer = steps[-1], steps[:-1]
        weight, bias = _class_logits(classifier, len(fitted.classes))
        vectorizer, side, fixed = None, None, None
        if len(featurizer) == 1 and isinstance(featurizer[0], TfidfVectorizer):
            vectorizer = featurizer[0]
        elif len(featurizer) == 2 and _fixed_name(featurizer[0]) and isinstance(featurizer[1], StandardScaler):
            scaler = featurizer[1]
            weight = weight / scaler.scale_
            bias = bias - weight @ scaler.mean_  # absent classes: -inf - 0 stays -inf
            fixed = _fixed_name(featurizer[0])
            side = baselines.PIXEL_SIDE if fixed == "pixels" else None
        else:
            raise HeadstartError(f"{fitted.name}: cannot express this baseline pipeline as a linear model")
        return cls(fitted.name, modality, list(fitted.classes), weight, bias, vectorizer, side, dict(info or {}), fixed)

    def describe(self) -> dict[str, Any]:
        features = (f"TF-IDF, {len(self.vectorizer.vocabulary_):,} terms" if self.vectorizer is not None
                    else f"pixels, {self.pixel_side}x{self.pixel_side} RGB" if self.fixed == "pixels"
                    else f"{self.fixed}, {self.weight.shape[1]} values")
        return {"method": self.name, "backbone": None, "features": features, "task": self.task}

    def features(self, inputs: Inputs, *, progress: bool = False) -> Any:
        """TF-IDF rows (sparse) or fixed-feature rows of ``inputs``; ``progress`` is accepted for parity."""
        items = as_batch(inputs, self.modality)
        if self.vectorizer is not None:
            return self.vectorizer.transform([str(x) for x in items])
        return FIXED_FEATURES[self.fixed or "pixels"](items).astype(np.float64)

    def outputs_from(self, features: Any) -> np.ndarray:
        return softmax(np.asarray(features @ self.weight.T) + self.bias, axis=1)

    def save(self, path: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into the folder ``path``."""
        tensors = {"weight": self.weight, "bias": self.bias}
        config: dict[str, Any] = {"name": self.name, "modality": self.modality, "classes": self.classes}
        if self.vectorizer is not None:
            tensors["idf"] = self.vectorizer.idf_
            config["tfidf"] = {"settings": _tfidf_settings(self.vectorizer),
                               "vocabulary": self.vectorizer.get_feature_names_out().tolist()}
        else:
            config.update(fixed=self.fixed, pixel_side=self.pixel_side)
        config["info"] = self.info
        return write_artifact(path, FORMAT, config, {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()})


def fit_baseline_model(train: Dataset, seed: int = 0) -> BaselineModel | SeriesBaselineModel:
    """Fit the modality's baseline (``headstart.baselines.fit_baseline``) and return it as a model
    (its linear form; a series baseline refits from its stored training panel), with the run facts
    ``headstart.fit`` records in ``info``.

    BLAS gets one thread: the fit is many small solves, which extra threads slow down many times
    over on a busy machine (measured: BBC News 8-shot TF-IDF 75 s on two threads, 4.4 s on one).
    """
    with threadpool_limits(1):
        fitted = baselines.fit_baseline(train, seed)
    info = {"n_train": len(train), "n_val": 0, "history": [], "train_seconds": fitted.train_seconds,
            "trainable_params": fitted.trainable_params, "class_counts": train.class_counts()}
    kind = input_family(train.modality).baseline
    if kind in SERIES_KINDS:
        return series_baseline_model(fitted, train, seed, kind, info)
    return BaselineModel.from_fitted(fitted, train.modality, info)


def load_baseline(source: str | Path | Artifact) -> BaselineModel:
    """A ``BaselineModel`` from an artifact folder written by ``BaselineModel.save``."""
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    config = artifact.config
    tensors = {k: v.numpy() for k, v in artifact.tensors.items()}
    vectorizer, side, fixed = None, config.get("pixel_side"), config.get("fixed")
    if "tfidf" in config:
        settings = dict(config["tfidf"]["settings"], ngram_range=tuple(config["tfidf"]["settings"]["ngram_range"]))
        vectorizer = TfidfVectorizer(**settings, vocabulary=config["tfidf"]["vocabulary"])
        vectorizer.idf_ = tensors["idf"]
    else:
        fixed = fixed or "pixels"  # artifacts of earlier versions name no fixed features: pixels
        if fixed not in FIXED_FEATURES:
            raise HeadstartError(f"{artifact.folder}: unknown baseline features {fixed!r}")
        if fixed == "pixels" and side != baselines.PIXEL_SIDE:
            raise HeadstartError(f"{artifact.folder}: pixel_side {side} differs from this version's {baselines.PIXEL_SIDE}")
    return BaselineModel(config["name"], config["modality"], config["classes"], tensors["weight"], tensors["bias"],
                         vectorizer, side, config.get("info", {}), fixed)


register_format(FORMAT, load_baseline)


def _class_logits(classifier: LogisticRegression, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(n_classes, d)`` and biases giving the classifier's logits for every class code."""
    coef, intercept = classifier.coef_, classifier.intercept_
    if len(classifier.classes_) == 2:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    weight, bias = np.zeros((n_classes, coef.shape[1])), np.full(n_classes, -np.inf)
    present = classifier.classes_.astype(int)
    weight[present], bias[present] = coef, intercept
    return weight, bias


def _fixed_name(step: Any) -> str | None:
    """The ``FIXED_FEATURES`` name of a pipeline step computing them, else ``None``."""
    if isinstance(step, FunctionTransformer):
        return next((name for name, fn in FIXED_FEATURES.items() if step.func is fn), None)
    return None


def _tfidf_settings(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    """The vectorizer's settings as JSON values (the vocabulary and dtype are stored apart)."""
    settings = {k: v for k, v in vectorizer.get_params().items() if k not in ("vocabulary", "dtype")}
    custom = [k for k, v in settings.items() if callable(v)]
    if custom:
        raise HeadstartError(f"cannot save a TF-IDF baseline with a custom {custom[0]} (only built-in settings are stored)")
    return settings
