"""The HTTP server: ``POST /predict`` (a batch of texts, series as lists of numbers, or image and
audio files as base64 strings or multipart uploads), ``GET /health``, ``GET /metadata``, ``GET
/metrics`` (Prometheus) and the OpenAPI schema FastAPI serves at ``/docs`` and ``/openapi.json``;
predictions go through a ``MicroBatcher``."""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image, UnidentifiedImageError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from headstart.data.audio import read_audio_bytes
from headstart.errors import DataError, HeadstartError
from headstart.fitted import FittedModel, Prediction
from headstart.serve.batching import MicroBatcher, QueueFull

CONFIG_ENV = "HEADSTART_SERVE_CONFIG"  # how `headstart serve --workers N` hands its settings to each worker


@dataclass
class ServeSettings:
    """What the server loads and its limits."""

    run: str
    runtime: str = "auto"  # onnx | torch | auto (onnx for a .onnx file)
    task: str | None = None
    max_batch: int = 32  # inputs per forward pass
    max_wait_ms: float = 0.0  # extra wait for others to share a batch (0: whatever queued during the last forward)
    max_queue: int = 128  # waiting requests before 503
    batching: bool = True
    max_items: int = 64  # inputs per request (413 above)
    max_bytes: int = 8 << 20  # request body (413 above)
    max_chars: int = 20_000  # characters per text, values per series (422 above)
    threads: int | None = None
    bf16: bool = False  # torch runtime: backbone under bf16 autocast


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def load_servable(settings: ServeSettings) -> FittedModel:
    """The model to serve: an exported ``.onnx`` through onnxruntime, or an artifact through PyTorch."""
    path = Path(settings.run)
    runtime = settings.runtime if settings.runtime != "auto" else ("onnx" if path.suffix == ".onnx" else "torch")
    if runtime == "onnx":
        if path.suffix != ".onnx":
            raise HeadstartError(f"{path}: --runtime onnx serves an exported .onnx file; run `headstart export` first")
        if settings.bf16:
            raise HeadstartError("--bf16 applies to --runtime torch (an exported graph runs in fp32 or int8)")
        from headstart.export import OnnxModel

        return OnnxModel(path, settings.task, threads=settings.threads)
    if runtime != "torch":
        raise HeadstartError(f"unknown runtime {runtime!r}; choose onnx or torch")
    import headstart

    model = headstart.load(path, task=settings.task)
    if settings.bf16:
        recipe = getattr(getattr(model, "method", None), "recipe", None)
        if recipe is None:
            raise HeadstartError(f"{path}: --bf16 needs a transferred model ({type(model).__name__} has no backbone)")
        model.method.recipe = replace(recipe, bf16=True)
    return model


def decode_image(value: Any, index: int) -> np.ndarray:
    """A base64 string or raw bytes as a ``uint8`` RGB array; ``RequestError(400)`` if it is not an image."""
    try:
        data = base64.b64decode(value, validate=True) if isinstance(value, str) else value
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, TypeError):
        raise RequestError(400, f"input {index}: not a readable image (send base64-encoded image file bytes)") from None


def image_item(value: Any, index: int, settings: ServeSettings) -> np.ndarray:
    return decode_image(value, index)


def text_item(value: Any, index: int, settings: ServeSettings) -> str:
    """A text within the length limit; ``RequestError`` 400 for anything else (e.g. an uploaded file)."""
    if not isinstance(value, str):
        raise RequestError(400, f"input {index}: this model reads text; send strings")
    if len(value) > settings.max_chars:
        raise RequestError(422, f"input {index}: {len(value)} characters; the limit is {settings.max_chars}")
    return value


def audio_item(value: Any, index: int, settings: ServeSettings) -> np.ndarray:
    """A base64 string or raw bytes of an audio file (WAV, FLAC, OGG, MP3) as the waveform audio
    backbones read; ``RequestError(400)`` if it is not audio."""
    try:
        data = base64.b64decode(value, validate=True) if isinstance(value, str) else value
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, bytes):
        raise RequestError(400, f"input {index}: this model reads audio; send base64-encoded audio file bytes")
    try:
        return read_audio_bytes(data, f"input {index}")
    except DataError as exc:
        raise RequestError(400, str(exc)) from None


def series_item(value: Any, index: int, settings: ServeSettings) -> np.ndarray:
    """A list of numbers (one channel) or of equally long lists (channels) as a float series."""
    try:
        series = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        series = None
    if series is None or series.ndim not in (1, 2) or series.size == 0:
        raise RequestError(400, f"input {index}: this model reads series; send a list of numbers "
                                "(or a list of equally long lists, one per channel)")
    if series.size > settings.max_chars:
        raise RequestError(422, f"input {index}: {series.size} values; the limit is {settings.max_chars}")
    return series


WIRE_DECODERS = {"text": text_item, "image": image_item, "audio": audio_item, "series": series_item}
# how each modality's inputs arrive over HTTP


SERVED_TASKS = ("classification", "multilabel", "regression")  # the tasks ``prediction_rows`` answers


def prediction_rows(model: FittedModel, outputs: np.ndarray) -> list[dict[str, Any]]:
    prediction = Prediction.from_outputs(model.task, model.classes, outputs)
    names = model.classes or [f"output_{i}" for i in range(outputs.shape[1])]
    return [{"label": label, "scores": dict(zip(names, map(float, row)))}
            for label, row in zip(prediction.labels, outputs)]


def create_app(settings: ServeSettings, model: FittedModel | None = None) -> FastAPI:
    """The FastAPI app serving ``model`` (loaded from ``settings`` when not given)."""
    model = model or load_servable(settings)
    task = getattr(model, "task", None)
    if task == "multitask":
        raise HeadstartError(f"{settings.run}: a multi-task model; choose the task to serve with --task")
    if task not in SERVED_TASKS:
        raise HeadstartError(f"{settings.run}: serving {task or type(model).__name__} models over HTTP is not "
                             f"supported (served: {', '.join(SERVED_TASKS)} models); use its own `predict`")
    registry = CollectorRegistry()
    requests = Counter("headstart_requests", "Requests to /predict by status", ["status"], registry=registry)
    latency = Histogram("headstart_request_seconds", "Latency of /predict", registry=registry,
                        buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
    batches = Histogram("headstart_batch_size", "Inputs per forward pass", registry=registry,
                        buckets=(1, 2, 4, 8, 16, 32, 64, 128))
    batcher = MicroBatcher(lambda items: model.outputs(items), max_batch=settings.max_batch,
                           max_wait=settings.max_wait_ms / 1000, max_queue=settings.max_queue,
                           enabled=settings.batching, on_batch=batches.observe)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()  # uvicorn stops accepting first; queued requests still get answers

    app = FastAPI(title="headstart model server", version="1", lifespan=lifespan,
                  description="Predictions of one headstart model, micro-batched.")

    async def read_inputs(request: Request) -> list[Any]:
        size = int(request.headers.get("content-length") or 0)
        if size > settings.max_bytes:
            raise RequestError(413, f"request body is {size} bytes; the limit is {settings.max_bytes}")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            uploads = [v for _, v in form.multi_items() if hasattr(v, "read")]
            raw: list[Any] = [await u.read() for u in uploads]
        else:
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise RequestError(400, "body must be JSON {\"inputs\": [...]} or multipart file uploads") from None
            raw = body.get("inputs") if isinstance(body, dict) else None
            if not isinstance(raw, list):
                raise RequestError(422, "JSON body must be {\"inputs\": [...]} (texts, series, or base64 "
                                        "image or audio files)")
        if not raw:
            raise RequestError(422, "no inputs")
        if len(raw) > settings.max_items:
            raise RequestError(413, f"{len(raw)} inputs; the limit per request is {settings.max_items}")
        if model.modality not in WIRE_DECODERS:
            raise RequestError(400, f"serving {model.modality} inputs over HTTP is not supported")
        return [WIRE_DECODERS[model.modality](value, i, settings) for i, value in enumerate(raw)]

    @app.post("/predict", summary="Predict a batch of inputs",
              description="JSON `{\"inputs\": [...]}`: texts, series (lists of numbers), or base64 "
                          "image or audio files; or the files as multipart uploads.")
    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        try:
            items = await read_inputs(request)
            outputs = await batcher.submit(items)
            response: Response = JSONResponse({"predictions": prediction_rows(model, outputs)})
        except RequestError as exc:
            response = JSONResponse({"error": exc.message}, status_code=exc.status)
        except QueueFull:
            response = JSONResponse({"error": "server busy: the request queue is full"}, status_code=503,
                                    headers={"Retry-After": "1"})
        except HeadstartError as exc:  # e.g. an input the model refuses
            response = JSONResponse({"error": str(exc)}, status_code=400)
        requests.labels(str(response.status_code)).inc()
        latency.observe(time.perf_counter() - started)
        return response

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "queued": batcher.queue.qsize() if batcher.queue else 0}

    @app.get("/metadata")
    async def metadata() -> dict[str, Any]:
        describe = model.describe()
        backbone = getattr(model, "meta", {}).get("backbone") or describe.get("backbone")
        info = model.info
        return {"describe": describe, "task": model.task, "classes": model.classes, "modality": model.modality,
                "backbone": backbone, "metrics": info.get("val_metrics") or info.get("test_metrics"),
                "runtime": type(model).__name__, "settings": asdict(settings)}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """The app for one ``uvicorn`` worker process, its settings read from ``HEADSTART_SERVE_CONFIG``."""
    return create_app(ServeSettings(**json.loads(os.environ[CONFIG_ENV])))
