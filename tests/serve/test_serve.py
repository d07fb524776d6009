"""The server as a real process on a free loopback port, hit with real HTTP requests."""

from __future__ import annotations

import base64
import io
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import headstart
from headstart.errors import HeadstartError
from headstart.export import OnnxModel, export_onnx
from headstart.serve import ServeSettings, create_app
from headstart.serve.launch import launch

@pytest.fixture(scope="module")
def exported(bbc_train, bbc_test, tmp_path_factory):
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="probe", backbone_options={"max_length": 48})
    path = tmp_path_factory.mktemp("served") / "bbc.onnx"
    export_onnx(model, path, data=bbc_test)
    return path, model


def start(path: Path, *args: str, wait: float = 60.0) -> tuple[subprocess.Popen, str, IO[bytes]]:
    """The server, its URL and the file its standard error goes to."""
    log = tempfile.TemporaryFile()
    try:
        return (*launch(path, *args, log=log, wait=wait), log)
    except RuntimeError as exc:
        log.seek(0)
        raise AssertionError(f"{exc}: {log.read().decode()[-2000:]}") from None


def stop(proc: subprocess.Popen, log: IO[bytes]) -> bool:
    """SIGTERM; whether the server shut down cleanly (uvicorn re-raises the signal once it has
    drained, so the exit status is -SIGTERM) and logged no traceback."""
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    log.seek(0)
    return code in (0, -signal.SIGTERM) and b"Traceback" not in log.read()


@pytest.fixture(scope="module")
def server(exported):
    proc, url, log = start(exported[0])
    yield url, exported[1]
    assert stop(proc, log)


def test_predicts_like_the_artifact(server, bbc_test):
    url, model = server
    texts = list(bbc_test.inputs[:3])
    reply = httpx.post(f"{url}/predict", json={"inputs": texts})
    assert reply.status_code == 200
    rows = reply.json()["predictions"]
    assert [r["label"] for r in rows] == model.predict(texts).labels
    assert abs(sum(rows[0]["scores"].values()) - 1) < 1e-5


def test_errors_are_json_and_the_server_lives(server):
    url, _ = server
    assert httpx.post(f"{url}/predict", content=b"{not json").status_code == 400
    assert httpx.post(f"{url}/predict", json={"texts": ["x"]}).status_code == 422
    oversized = httpx.post(f"{url}/predict", json={"inputs": ["a text"] * 65})
    assert oversized.status_code == 413 and "limit" in oversized.json()["error"]
    assert httpx.post(f"{url}/predict", json={"inputs": ["x" * 20_001]}).status_code == 422
    assert httpx.post(f"{url}/predict", json={"inputs": [3]}).status_code == 400
    upload = httpx.post(f"{url}/predict", files={"file": ("a.png", b"\x89PNG not really")})
    assert upload.status_code == 400 and "text" in upload.json()["error"]
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_concurrent_requests_share_batches(server, bbc_test):
    url, model = server
    texts = list(bbc_test.inputs[:16])
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda t: httpx.post(f"{url}/predict", json={"inputs": [t]}, timeout=30), texts))
    assert all(r.status_code == 200 for r in replies)
    assert [r.json()["predictions"][0]["label"] for r in replies] == model.predict(texts).labels
    metrics = httpx.get(f"{url}/metrics").text
    assert 'headstart_requests_total{status="200"}' in metrics
    count = float(next(l for l in metrics.splitlines() if l.startswith("headstart_batch_size_count")).split()[-1])
    assert count < 16 + 3 + 1  # some of the 16 concurrent requests shared a forward pass
    meta = httpx.get(f"{url}/metadata").json()
    assert meta["classes"] == model.classes and meta["backbone"]["weights_hash"]
    assert "/predict" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_full_queue_answers_503_and_shutdown_is_clean(exported, bbc_test):
    proc, url, log = start(exported[0], "--max-queue", "1", "--max-batch", "1", "--no-batching")
    texts = list(bbc_test.inputs[:32])
    with ThreadPoolExecutor(24) as pool:
        replies = list(pool.map(lambda i: httpx.post(f"{url}/predict", json={"inputs": texts}, timeout=60), range(24)))
    codes = [r.status_code for r in replies]
    assert 503 in codes and 200 in codes and set(codes) <= {200, 503}
    busy = next(r for r in replies if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert httpx.get(f"{url}/health").status_code == 200
    assert stop(proc, log)


def test_shutdown_drains_in_flight_requests(exported, bbc_test):
    proc, url, log = start(exported[0], "--max-batch", "4")
    texts = list(bbc_test.inputs[:32])
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(httpx.post, f"{url}/predict", json={"inputs": texts}, timeout=60) for _ in range(6)]
        time.sleep(0.3)
        assert stop(proc, log)
        assert [f.result().status_code for f in futures] == [200] * 6


def test_image_model_rejects_malformed_image(digits_train, digits_test, tmp_path):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="probe")
    path = tmp_path / "digits.onnx"
    export_onnx(model, path, data=digits_test)
    onnx = OnnxModel(path)
    with TestClient(create_app(ServeSettings(str(path)), onnx)) as client:
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(digits_test.inputs[0]) if isinstance(digits_test.inputs[0], np.ndarray)
                        else np.asarray(Image.open(digits_test.inputs[0]))).save(buffer, "PNG")
        good = base64.b64encode(buffer.getvalue()).decode()
        ok = client.post("/predict", json={"inputs": [good]})
        assert ok.status_code == 200
        assert ok.json()["predictions"][0]["label"] == onnx.predict([digits_test.inputs[0]]).labels[0]
        assert client.post("/predict", json={"inputs": ["bm90IGFuIGltYWdl"]}).status_code == 400
        assert client.post("/predict", files={"f": ("x.png", buffer.getvalue())}).status_code == 200
        assert client.post("/predict", files={"f": ("x.png", b"garbage")}).status_code == 400


def test_torch_runtime_serves_the_artifact(exported, bbc_test, tmp_path):
    _, model = exported
    model.save(tmp_path / "run")
    with TestClient(create_app(ServeSettings(str(tmp_path / "run"), runtime="torch"))) as client:
        texts = list(bbc_test.inputs[:3])
        reply = client.post("/predict", json={"inputs": texts})
        assert reply.status_code == 200
        assert [r["label"] for r in reply.json()["predictions"]] == model.predict(texts).labels
        assert client.get("/metadata").json()["classes"] == model.classes
    with pytest.raises(HeadstartError, match="export"):
        create_app(ServeSettings(str(tmp_path / "run"), runtime="onnx"))
    with TestClient(create_app(ServeSettings(str(tmp_path / "run"), runtime="torch", bf16=True))) as client:
        rows = client.post("/predict", json={"inputs": texts}).json()["predictions"]
        assert [r["label"] for r in rows] == model.predict(texts).labels  # bf16 features, same decisions here


def test_two_workers_answer_on_one_port(exported, bbc_test):
    proc, url, log = start(exported[0], "--workers", "2", wait=240)  # two processes load the model side by side
    texts = list(bbc_test.inputs[:4])
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda t: httpx.post(f"{url}/predict", json={"inputs": [t]}, timeout=60), texts * 2))
    assert [r.json()["predictions"][0]["label"] for r in replies] == exported[1].predict(texts * 2).labels
    assert stop(proc, log)
