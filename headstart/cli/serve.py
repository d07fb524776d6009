"""``headstart serve RUN [--port 8000] [--workers N] [--runtime onnx|torch]``: an HTTP model server."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import TASK


def serve(
    run: Path = typer.Argument(..., help="Artifact folder, or a .onnx file written by `headstart export`."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="Server processes, each with its own copy of the model."),
    runtime: str = typer.Option("auto", "--runtime", help="onnx | torch (default: onnx for a .onnx file)."),
    batching: bool = typer.Option(True, "--batching/--no-batching", help="Dynamic micro-batching of concurrent requests."),
    max_batch: int = typer.Option(32, "--max-batch", help="Inputs per forward pass."),
    max_wait_ms: float = typer.Option(0.0, "--max-wait-ms", help="Extra wait for more requests to batch with. 0 (default): a batch is "
                                     "whatever queued while the previous forward pass ran, so a lone client never waits."),
    max_queue: int = typer.Option(128, "--max-queue", help="Waiting requests before answering 503."),
    threads: Optional[int] = typer.Option(None, "--threads", help="onnxruntime threads per worker."),
    bf16: bool = typer.Option(False, "--bf16", help="--runtime torch: the backbone under bf16 autocast (about 2x faster "
                              "on CPUs with avx512_bf16 or AMX; features keep a cosine >= 0.999 to fp32)."),
    task: Optional[str] = TASK,
) -> None:
    """Serve a model: POST /predict, GET /health, /metadata, /metrics, /docs.

    POST /predict takes {"inputs": [...]}: texts, series (lists of numbers), base64 image or audio files.

    Example: headstart serve exported/bbc.onnx --port 8000
    """
    import uvicorn

    from headstart.serve.app import CONFIG_ENV, ServeSettings, create_app

    settings = ServeSettings(str(run), runtime, task, max_batch, max_wait_ms, max_queue, batching, threads=threads, bf16=bf16)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)
        return
    os.environ[CONFIG_ENV] = json.dumps(asdict(settings))
    uvicorn.run("headstart.serve.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", timeout_graceful_shutdown=30)
