"""``OnnxModel``: an exported model run by ``onnxruntime``, with the ``FittedModel`` calls that need
no PyTorch (``predict``, ``outputs``, ``evaluate``, ``describe``); ``OnnxForecaster`` and
``OnnxPolicy`` over it for exported forecasters and RL policies; ``open_exported`` picks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from headstart.data.dataset import Dataset
from headstart.errors import DataError, HeadstartError
from headstart.export.preprocess import preprocessor
from headstart.export.quantize import saturating_int8_cpu
from headstart.fitted import Inputs, Prediction, as_batch, evaluate_model
from headstart.forecast.fitted import SeriesForecasts

BATCH = 32  # inputs per onnxruntime call when predicting many


def metadata_path(onnx_path: Path) -> Path:
    """Where the metadata (preprocessing spec, outputs, recipe) of ``model.onnx`` lives: ``model.json``."""
    return onnx_path.with_suffix(".json")


def check_shapes(session: Any, feeds: dict[str, np.ndarray]) -> None:
    """Refuse, in one line, inputs whose fixed dimensions differ from the graph's (e.g. a series
    with other channels than the exported model was traced on)."""
    for graph_input in session.get_inputs():
        got = feeds[graph_input.name].shape
        for axis, wanted in enumerate(graph_input.shape):
            if isinstance(wanted, int) and got[axis] != wanted:
                raise DataError(f"input {graph_input.name!r} has {got[axis]} along axis {axis}; the exported "
                                f"graph takes {wanted} (shape {list(graph_input.shape)})")


class OnnxModel:
    """An exported graph and its preprocessing spec; ``task`` picks one output of a multi-output graph."""

    def __init__(self, path: str | Path, task: str | None = None, *, threads: int | None = None,
                 _session: Any = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        meta_file = metadata_path(self.path)
        if not self.path.is_file() or not meta_file.is_file():
            raise HeadstartError(f"{self.path}: needs the ONNX file and its metadata {meta_file.name} beside it "
                                 "(written by `headstart export`)")
        self.meta: dict[str, Any] = json.loads(meta_file.read_text())
        self.int8_kernels = None if self.meta.get("quantisation") != "static" else (
            "reference" if saturating_int8_cpu() else "fused")
        if _session is None:
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            if self.int8_kernels == "reference":  # no QDQ fusion: dequantise, then float kernels (right, not fast)
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            _session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.session = _session
        self.prepare = preprocessor(self.meta["preprocessing"], self.path.parent)
        self.all_outputs: list[dict[str, Any]] = self.meta["outputs"]
        self.output = self.pick(task)
        self.info: dict[str, Any] = self.meta.get("info", {})
        self.modality: str = self.meta["modality"]

    def pick(self, task: str | None) -> dict[str, Any] | None:
        """The output ``task`` names; the only one when ``task`` is None; ``None`` for several."""
        names = [o["name"] for o in self.all_outputs]
        if task is None:
            return self.all_outputs[0] if len(names) == 1 else None
        if task not in names:
            raise HeadstartError(f"no task {task!r}; the tasks are: {', '.join(names)}")
        return self.all_outputs[names.index(task)]

    def for_task(self, task: str) -> OnnxModel:
        """The single-output view of one task (sharing the session)."""
        return OnnxModel(self.path, task, _session=self.session)

    @property
    def task(self) -> str:
        return self.output["task"] if self.output else "multitask"

    @property
    def classes(self) -> list[str] | None:
        return self.output["classes"] if self.output else None

    def describe(self) -> dict[str, Any]:
        described = self.meta["describe"] | {"runtime": "onnxruntime", "file": self.path.name}
        return described | ({"int8_kernels": self.int8_kernels} if self.int8_kernels else {})

    def features(self, inputs: Inputs, *, progress: bool = False) -> Any:
        raise HeadstartError("an exported model gives its outputs only; use the artifact for features")

    def outputs_from(self, features: Any) -> np.ndarray:
        raise HeadstartError("an exported model gives its outputs only; use the artifact for features")

    def run(self, items: list[Any]) -> dict[str, np.ndarray]:
        """Every output for one batch of raw inputs (already coerced)."""
        names = [o["name"] for o in self.all_outputs]
        feeds = self.prepare(items)
        check_shapes(self.session, feeds)
        return dict(zip(names, self.session.run(names, feeds)))

    def all_outputs_of(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Every output for any number of inputs, ``BATCH`` at a time."""
        items = as_batch(inputs, self.modality)
        parts = [self.run(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def outputs(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        if self.output is None:
            raise HeadstartError(f"this model has {len(self.all_outputs)} tasks: choose one with task=")
        return self.all_outputs_of(inputs)[self.output["name"]]

    def predict(self, inputs: Inputs, *, progress: bool = False) -> Prediction:
        return Prediction.from_outputs(self.task, self.classes, self.outputs(inputs))

    def evaluate(self, data: Dataset | str | Path, *, text_col: str | None = None, label_col: str | None = None,
                 progress: bool = False) -> dict[str, Any]:
        return evaluate_model(self, data, text_col=text_col, label_col=label_col)

    def save(self, path: str | Path) -> Path:
        raise HeadstartError("an exported model is already saved: copy its .onnx, .json and preprocessing files")


class OnnxForecaster(SeriesForecasts):
    """An exported forecaster: ``predict`` (the forecast table) and ``evaluate`` of series collections."""

    task, modality, classes = "forecast", "series", None

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        self.model = OnnxModel(path, threads=threads)
        self.horizon: int = self.model.output["horizon"]
        self.info = self.model.info

    def quantiles(self, contexts: list[np.ndarray]) -> np.ndarray:
        return self.model.outputs(contexts)

    def describe(self) -> dict[str, Any]:
        return self.model.describe()


class OnnxPolicy:
    """An exported RL policy: ``predict(observations)``, the deterministic actions."""

    task, modality = "policy", "observations"

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        self.model = OnnxModel(path, threads=threads)
        self.info, self.env = self.model.info, self.model.meta["env"]
        self.discrete: bool = self.model.output["discrete"]

    def predict(self, observations: np.ndarray) -> np.ndarray:
        """Actions for a batch ``(B, *obs_shape)`` (or one observation)."""
        observations = np.asarray(observations, dtype=np.float32)
        shape = tuple(self.model.meta["preprocessing"]["shape"])
        single = observations.shape == shape
        actions = self.model.run(list(observations.reshape(-1, *shape) if single else observations))["actions"]
        return actions[0] if single else actions

    def describe(self) -> dict[str, Any]:
        return self.model.describe()


def open_exported(path: str | Path, task: str | None = None) -> OnnxModel | OnnxForecaster | OnnxPolicy:
    """The runner for ``path``'s kind of export."""
    model = OnnxModel(path, task)
    kind = {"forecast": OnnxForecaster, "policy": OnnxPolicy}.get(model.task)
    return kind(path) if kind else model


def read_observations(path: str | Path) -> np.ndarray:
    """Observations ``(B, ...)`` float32 from a ``.npy`` file or a CSV of numbers (one row each, a header optional)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False).astype(np.float32)
    frame = pd.read_csv(path, header=None)
    if pd.to_numeric(frame.iloc[0], errors="coerce").isna().any():  # a header row
        frame = frame.iloc[1:]
    try:
        return frame.to_numpy(dtype=np.float32)
    except ValueError:
        raise DataError(f"{path}: expected rows of numbers (one observation a row)") from None
