"""The no-transfer baseline as a model that predicts, evaluates, saves and loads like ``Transferred``.

A fitted ``headstart.baselines`` pipeline is turned into fixed features and a linear map:

    text    x -> TF-IDF vector v(x)                  (the fitted vocabulary and idf weights)
    images  x -> pixels p(x) in [0, 1]               (resized to ``PIXEL_SIDE`` squared, RGB)
    logits  z = W x + b,  probabilities = softmax(z)

The standardisation of the pixel pipeline is folded into the map (``W' = W / s``,
``b' = b - W' mu``); a binary logistic regression's single logit ``t`` becomes ``(0, t)``; classes
absent from the training data get ``b = -inf`` (probability 0). The artifact folder holds
``config.json`` (format, classes, the TF-IDF settings and vocabulary or the pixel size) and
``model.safetensors`` (``weight``, ``bias`` and, for text, ``idf``): no pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from headstart import baselines, tasks
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.fitted import Prediction

FORMAT = "headstart-baseline/1"
CONFIG, WEIGHTS = "config.json", "model.safetensors"


@dataclass
class BaselineModel:
    """A linear classifier over TF-IDF vectors (``vectorizer`` set) or raw pixels (``pixel_side`` set)."""

    name: str
    modality: str
    classes: list[str]
    weight: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)
    vectorizer: TfidfVectorizer | None = None
    pixel_side: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    task = "classification"

    @classmethod
    def from_fitted(cls, fitted: baselines.Baseline, info: dict[str, Any] | None = None) -> BaselineModel:
        """The linear form of a fitted ``headstart.baselines`` pipeline (its best cross-validated fit)."""
        steps = [step for _, step in fitted.estimator.best_estimator_.steps]
        classifier, featurizer = steps[-1], steps[:-1]
        weight, bias = _class_logits(classifier, len(fitted.classes))
        modality, vectorizer, side = "image", None, None
        if len(featurizer) == 1 and isinstance(featurizer[0], TfidfVectorizer):
            modality, vectorizer = "text", featurizer[0]
        elif len(featurizer) == 2 and _is_pixels(featurizer[0]) and isinstance(featurizer[1], StandardScaler):
            scaler = featurizer[1]
            weight = weight / scaler.scale_
            bias = bias - weight @ scaler.mean_  # absent classes: -inf - 0 stays -inf
            side = baselines.PIXEL_SIDE
        else:
            raise HeadstartError(f"{fitted.name}: cannot express this baseline pipeline as a linear model")
        return cls(fitted.name, modality, list(fitted.classes), weight, bias, vectorizer, side, dict(info or {}))

    def features(self, inputs: Sequence[Any]) -> Any:
        """TF-IDF rows (sparse) or pixel rows of ``inputs``."""
        if self.vectorizer is not None:
            return self.vectorizer.transform([str(x) for x in inputs])
        return baselines.pixels(list(inputs)).astype(np.float64)

    def outputs(self, inputs: Dataset | Sequence[Any], *, progress: bool = False) -> np.ndarray:
        """Class probabilities ``(n, classes)``; ``progress`` is accepted for parity with ``Transferred``."""
        items = inputs.inputs if isinstance(inputs, Dataset) else inputs
        logits = np.asarray(self.features(items) @ self.weight.T) + self.bias
        return softmax(logits, axis=1)

    def predict(self, inputs: Dataset | Sequence[Any], *, progress: bool = False) -> Prediction:
        out = self.outputs(inputs)
        return Prediction([self.classes[i] for i in out.argmax(1)], out)

    def evaluate(self, data: Dataset | str | Path, *, progress: bool = False) -> dict[str, Any]:
        """Accuracy, macro-F1 and a per-class report, as ``Transferred.evaluate`` gives them."""
        dataset = data if isinstance(data, Dataset) else load_data(data)
        require_labels(dataset, min_classes=1)
        if dataset.classes != self.classes:
            raise HeadstartError(f"{dataset.name}: its classes {dataset.classes} differ from the model's {self.classes}")
        return tasks.evaluate("classification", self.outputs(dataset), dataset.labels, self.classes)

    def save(self, path: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into the folder ``path``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"weight": self.weight, "bias": self.bias}
        config: dict[str, Any] = {"format": FORMAT, "name": self.name, "modality": self.modality, "classes": self.classes}
        if self.vectorizer is not None:
            tensors["idf"] = self.vectorizer.idf_
            config["tfidf"] = {"settings": _tfidf_settings(self.vectorizer),
                               "vocabulary": self.vectorizer.get_feature_names_out().tolist()}
        else:
            config["pixel_side"] = self.pixel_side
        config["info"] = self.info
        save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tensors.items()}, str(folder / WEIGHTS))
        (folder / CONFIG).write_text(json.dumps(config, indent=2, default=_builtin))
        return folder


def fit_baseline_model(train: Dataset, seed: int = 0) -> BaselineModel:
    """Fit the modality's baseline (``headstart.baselines.fit_baseline``) and return its linear form,
    with the run facts ``headstart.fit`` records in ``info``.

    BLAS gets one thread: the fit is many small solves, which extra threads slow down many times
    over on a busy machine (measured: BBC News 8-shot TF-IDF 75 s on two threads, 4.4 s on one).
    """
    with threadpool_limits(1):
        fitted = baselines.fit_baseline(train, seed)
    return BaselineModel.from_fitted(fitted, {
        "n_train": len(train), "n_val": 0, "history": [], "train_seconds": fitted.train_seconds,
        "trainable_params": fitted.trainable_params, "class_counts": train.class_counts(),
    })


def is_baseline_artifact(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by ``BaselineModel.save``."""
    config = Path(path) / CONFIG
    return config.is_file() and json.loads(config.read_text()).get("format") == FORMAT


def load_baseline(path: str | Path) -> BaselineModel:
    """Load a folder written by ``BaselineModel.save``."""
    folder = Path(path)
    if not is_baseline_artifact(folder) or not (folder / WEIGHTS).is_file():
        raise HeadstartError(f"{folder}: not a headstart baseline artifact (expected {CONFIG} with format {FORMAT} and {WEIGHTS})")
    config = json.loads((folder / CONFIG).read_text())
    tensors = load_file(str(folder / WEIGHTS))
    vectorizer, side = None, config.get("pixel_side")
    if "tfidf" in config:
        settings = dict(config["tfidf"]["settings"], ngram_range=tuple(config["tfidf"]["settings"]["ngram_range"]))
        vectorizer = TfidfVectorizer(**settings, vocabulary=config["tfidf"]["vocabulary"])
        vectorizer.idf_ = tensors["idf"]
    elif side != baselines.PIXEL_SIDE:
        raise HeadstartError(f"{folder / CONFIG}: pixel_side {side} differs from this version's {baselines.PIXEL_SIDE}")
    return BaselineModel(config["name"], config["modality"], config["classes"], tensors["weight"], tensors["bias"],
                         vectorizer, side, config.get("info", {}))


def _class_logits(classifier: LogisticRegression, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(n_classes, d)`` and biases giving the classifier's logits for every class code."""
    coef, intercept = classifier.coef_, classifier.intercept_
    if len(classifier.classes_) == 2:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    weight, bias = np.zeros((n_classes, coef.shape[1])), np.full(n_classes, -np.inf)
    present = classifier.classes_.astype(int)
    weight[present], bias[present] = coef, intercept
    return weight, bias


def _is_pixels(step: Any) -> bool:
    return isinstance(step, FunctionTransformer) and step.func is baselines.pixels


def _tfidf_settings(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    """The vectorizer's settings as JSON values (the vocabulary and dtype are stored apart)."""
    settings = {k: v for k, v in vectorizer.get_params().items() if k not in ("vocabulary", "dtype")}
    custom = [k for k, v in settings.items() if callable(v)]
    if custom:
        raise HeadstartError(f"cannot save a TF-IDF baseline with a custom {custom[0]} (only built-in settings are stored)")
    return settings


def _builtin(value: Any) -> Any:
    """JSON fallback for numpy scalars and tuples inside ``info``."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in config.json")
