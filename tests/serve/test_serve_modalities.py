"""Audio and series models over HTTP (in process): files as base64 or multipart uploads, series as
JSON lists of numbers, malformed inputs answered 400; models the server cannot answer refused."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import soundfile
import soxr
from fastapi.testclient import TestClient

import headstart
from headstart.data import load_dataset, sample_shots
from headstart.errors import HeadstartError
from headstart.forecast.fitted import Forecaster
from headstart.select.baseline_model import fit_baseline_model
from headstart.serve import ServeSettings, create_app
from headstart.zoo import load_backbone


def wav_bytes(waveform: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform, rate, format="WAV")
    return buffer.getvalue()


def test_audio_model_answers_uploaded_recordings():
    ami = load_dataset("ami_speakers")
    model = headstart.fit(sample_shots(ami, 4, seed=0), backbone="ge2e-speaker", method="probe")
    clips = [ami.inputs[i] for i in (0, 30, 60)]
    files = [wav_bytes(soxr.resample(c, 16000, 44100), 44100) for c in clips]  # resampled on the server
    expected = model.predict(clips).labels
    with TestClient(create_app(ServeSettings("ge2e"), model)) as client:
        ok = client.post("/predict", json={"inputs": [base64.b64encode(f).decode() for f in files]})
        assert ok.status_code == 200, ok.text
        assert [p["label"] for p in ok.json()["predictions"]] == expected
        uploaded = client.post("/predict", files=[("f", (f"{i}.wav", f)) for i, f in enumerate(files)])
        assert [p["label"] for p in uploaded.json()["predictions"]] == expected
        garbage = client.post("/predict", files={"f": ("x.wav", b"RIFF not audio")})
        assert garbage.status_code == 400 and "input 0: not a readable audio file" in garbage.json()["error"]
        silent = client.post("/predict", json={"inputs": [base64.b64encode(wav_bytes(np.zeros(8000), 16000)).decode()]})
        assert silent.status_code == 400 and "silent" in silent.json()["error"]
        assert client.post("/predict", json={"inputs": ["some text"]}).status_code == 400
        assert client.get("/health").status_code == 200


def test_series_model_answers_lists_of_numbers():
    train, test = load_dataset("gunpoint", "train"), load_dataset("gunpoint", "test")
    model = fit_baseline_model(train)  # MiniRocket + ridge
    series = list(test.inputs[:5])
    with TestClient(create_app(ServeSettings("gunpoint", max_chars=1000), model)) as client:
        ok = client.post("/predict", json={"inputs": [s.tolist() for s in series]})
        assert ok.status_code == 200, ok.text
        assert [p["label"] for p in ok.json()["predictions"]] == model.predict(series).labels
        assert client.post("/predict", json={"inputs": [["a", "b"]]}).status_code == 400
        assert client.post("/predict", json={"inputs": [[1.0, [2.0]]]}).status_code == 400
        assert client.post("/predict", json={"inputs": [list(range(2000))]}).status_code == 422


def test_a_forecaster_is_refused_in_one_line():
    net = load_backbone("fracast-0")
    forecaster = Forecaster(net, net.forecast_head(12, pretrained=True), 12, "zeroshot")
    with pytest.raises(HeadstartError, match="serving forecast models over HTTP is not supported"):
        create_app(ServeSettings("forecaster"), forecaster)
