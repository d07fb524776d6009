"""The Python API: ``fit`` a transfer method on data, then predict, evaluate and save.

>>> import headstart
>>> model = headstart.fit("bbc_news:train", backbone="minilm-l6", method="probe", shots=8)
>>> model.evaluate("bbc_news:test")["accuracy"] > 0.8
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headstart.artifacts import check_writable
from headstart.data.dataset import Dataset
from headstart.data.sources import training_spec
from headstart.fitted import (  # noqa: F401  (re-exported)
    COLUMNS_KEY,
    FittedModel,
    Inputs,
    Prediction,
    Transferred,
)
from headstart.errors import HeadstartError, did_you_mean
from headstart.methods import list_methods
from headstart.select.auto import fit_auto
from headstart.transfer import transfer


def fit(
    data: Dataset | str | Path,
    backbone: str | None = None,
    method: str = "probe",
    *,
    val: Dataset | str | Path | None = None,
    shots: int | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    **options: Any,
) -> FittedModel:
    """Transfer ``backbone`` to ``data`` with ``method`` and return the trained model.

    ``data`` is a ``Dataset``, an image folder, a CSV/TSV/JSONL file or a catalogue name;
    ``backbone`` defaults to ``minilm-l6`` for text and ``efficientnet-lite0`` for images;
    ``shots=K`` keeps K examples per class; ``options`` are ``Recipe`` fields (``unfreeze=2``,
    ``epochs=10``, ``lr=5e-5``, ``l2sp=0.01`` …). With ``out`` the run writes checkpoints and logs
    there (and ``resume`` continues from a checkpoint); the artifact is written by ``save``.
    ``method="auto"`` chooses backbone, method and depth itself and may return the no-transfer
    baseline instead, when transfer does not beat it (``headstart.select.auto.fit_auto``); a named
    ``backbone`` is then its only candidate. A bare catalogue name (``"digits"``) means its
    training split (``"digits:train"``): its test split stays held out. ``task="forecast"`` (with
    ``horizon=H``) trains a forecaster of a series collection (``headstart.forecast.api.fit_forecast``).

    >>> fit("digits", backbone="efficientnet-lite0", method="probe", shots=4).info["n_train"]
    40
    """
    if options.get("task") == "forecast":
        from headstart.data.series import load_series
        from headstart.forecast.api import fit_forecast
        from headstart.forecast.auto import fit_auto_forecast

        options.pop("task")
        series = data if hasattr(data, "ids") and hasattr(data, "values") else load_series(data)
        if method == "auto":
            return fit_auto_forecast(series, backbone, progress=progress, **options)
        return fit_forecast(series, backbone, method, progress=progress, **options)
    check_method(method)
    if shots is not None and shots < 1:
        raise HeadstartError(f"shots must be at least 1 example per class, not {shots}")
    if out is not None:
        check_writable(out)  # before any work, not after training
    data = training_spec(data)
    if method == "auto":
        candidates = [backbone] if backbone else None
        model = fit_auto(data, candidates=candidates, val=val, shots=shots, out=out, progress=progress,
                         text_col=text_col, label_col=label_col, **options)
    else:
        model = transfer(data, backbone, method, val=val, shots=shots, out=out, resume=resume, progress=progress,
                         text_col=text_col, label_col=label_col, **options)
    model.info[COLUMNS_KEY] = {"text_col": text_col, "label_col": label_col}  # evaluate/predict/report default to them
    return model


def check_method(method: str) -> None:
    """Refuse, in one line, a method ``fit`` does not know: ``auto`` or a registered one."""
    known = ["auto", *list_methods()]
    if method not in known:
        raise HeadstartError(f"unknown method {method!r}{did_you_mean(method, known)}; available: {', '.join(known)}")
