"""scikit-learn estimators: headstart inside ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``.

>>> from sklearn.model_selection import cross_val_score
>>> texts, labels = ["great film", "dull plot", "loved it", "boring"] * 5, [1, 0, 1, 0] * 5
>>> cross_val_score(HeadstartClassifier(backbone="minilm-l6"), texts, labels, cv=2).mean() > 0.9
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from headstart.data.dataset import Dataset
from headstart.errors import BackboneError
from headstart.fitted import as_batch


class _HeadstartEstimator(BaseEstimator):
    """Shared parameters; ``options`` passes any other ``Recipe`` field (e.g. ``{"l2sp": 0.01}``)."""

    task = "classification"

    def __init__(
        self,
        backbone: str = "minilm-l6",
        method: str = "probe",
        epochs: int | None = None,
        lr: float | None = None,
        unfreeze: int | str | None = None,
        seed: int = 0,
        bf16: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.backbone = backbone
        self.method = method
        self.epochs = epochs
        self.lr = lr
        self.unfreeze = unfreeze
        self.seed = seed
        self.bf16 = bf16
        self.options = options

    def _modality(self) -> str:
        from headstart.zoo import get_entry

        try:
            return get_entry(self.backbone).modality
        except BackboneError:
            return "text"  # a local Hugging Face encoder directory

    def _inputs(self, X: Sequence[Any]) -> list[Any]:
        """The rows of ``X`` (always a batch) as the model's inputs (``headstart.fitted.as_batch``)."""
        return as_batch(list(X), self._modality())

    def _fit(self, X: Sequence[Any], labels: np.ndarray, classes: list[str] | None) -> None:
        import headstart

        data = Dataset(self._inputs(X), labels, classes, self._modality(), self.task, name="estimator")
        self.model_ = headstart.fit(
            data, backbone=self.backbone, method=self.method, epochs=self.epochs, lr=self.lr,
            **({} if self.unfreeze is None else {"unfreeze": self.unfreeze}), seed=self.seed, bf16=self.bf16, **(self.options or {}),
        )

    def _outputs(self, X: Sequence[Any]) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.outputs(self._inputs(X))


class HeadstartClassifier(ClassifierMixin, _HeadstartEstimator):
    """A transferred classifier; labels may be any hashable values (``classes_`` keeps them)."""

    def fit(self, X: Sequence[Any], y: Sequence[Any]) -> HeadstartClassifier:
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self._fit(X, codes, [str(c) for c in self.classes_])
        return self

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        return self._outputs(X)

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]


class HeadstartRegressor(RegressorMixin, _HeadstartEstimator):
    """A transferred regressor (one or several targets)."""

    task = "regression"

    def fit(self, X: Sequence[Any], y: Sequence[Any]) -> HeadstartRegressor:
        self._fit(X, np.asarray(y, dtype=np.float32), None)
        return self

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        out = self._outputs(X)
        return out[:, 0] if out.shape[1] == 1 else out
