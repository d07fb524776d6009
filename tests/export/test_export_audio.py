"""Export of audio and series runs on real weights and real data: parity with PyTorch on clips and
series of different lengths, the onnxruntime runner, int8, ``headstart predict model.onnx clip.wav``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile
import soxr
from typer.testing import CliRunner

import headstart
from headstart.cli.app import app
from headstart.data import load_dataset, sample_shots
from headstart.errors import BackboneError, DataError
from headstart.export import OnnxModel, export_onnx
from headstart.pretrain import pretrain
from headstart.pretrain_speech import pretrain_speech
from headstart.zoo import load_backbone
from tests.zoo.series_data import aeon_series


def speaker_clips(data, seconds: list[float]) -> list[np.ndarray]:
    """Clips of ``seconds`` each, cut from one speaker's windows joined end to end (AMI windows are 1.5 s)."""
    joined = {c: np.concatenate([w for w, y in zip(data.inputs, data.labels) if y == c]) for c in range(len(data.classes))}
    return [joined[i % len(joined)][: int(s * 16000)] for i, s in enumerate(seconds)]


@pytest.fixture(scope="module")
def ami():
    return load_dataset("ami_speakers")


@pytest.fixture(scope="module")
def ge2e_probe(ami):
    return headstart.fit(sample_shots(ami, 4, seed=0), backbone="ge2e-speaker", method="probe")


def test_ge2e_export_parity_on_clips_of_every_length(ge2e_probe, ami, tmp_path):
    clips = speaker_clips(ami, [0.4, 1.0, 1.9, 2.6, 3.3, 4.5])
    partials = load_backbone("ge2e-speaker").input_lengths(clips)
    assert len(set(partials.tolist())) >= 3  # one, two, three … partial utterances averaged per clip
    with pytest.raises(BackboneError, match="ge2e-speaker has no int8 export: quantising its LSTMs"):
        export_onnx(ge2e_probe, tmp_path / "ge2e.onnx", data=clips, int8=True)
    assert not (tmp_path / "ge2e.onnx").exists()  # refused before any work
    report = export_onnx(ge2e_probe, tmp_path / "ge2e.onnx", data=clips)
    assert report["max_abs_diff"] <= 1e-4 and report["label_agreement"] == 1.0
    onnx = OnnxModel(tmp_path / "ge2e.onnx")
    longer = speaker_clips(ami, [6.0, 0.7])  # longer than any clip the graph was traced on
    np.testing.assert_allclose(onnx.outputs(longer), ge2e_probe.outputs(longer), atol=1e-4)
    assert onnx.predict(clips + longer).labels == ge2e_probe.predict(clips + longer).labels
    with pytest.raises(DataError, match="audio 0: ge2e-speaker reads waveforms, not feature frames"):
        onnx.predict([np.zeros((20, 13), np.float32)])


def test_cli_predicts_wav_files_folders_and_tables_through_onnxruntime(ge2e_probe, ami, tmp_path):
    export_onnx(ge2e_probe, tmp_path / "model.onnx", data=speaker_clips(ami, [1.0, 3.0]))
    clips = tmp_path / "clips"
    clips.mkdir()
    for i, clip in enumerate(speaker_clips(ami, [1.2, 2.4, 3.6])):  # 44.1 kHz stereo: resampled and mixed down
        stereo = soxr.resample(clip, 16000, 44100)
        soundfile.write(clips / f"clip{i}.wav", np.stack([stereo, 0.5 * stereo], 1), 44100)
    files = sorted(clips.glob("*.wav"))
    expected = ge2e_probe.predict(files).labels
    runner = CliRunner()
    one = runner.invoke(app, ["predict", str(tmp_path / "model.onnx"), str(files[0])])
    assert one.exit_code == 0, one.output
    assert next(line for line in one.output.splitlines() if line.startswith(str(files[0]))).split(",")[1] == expected[0]
    table = clips / "clips.csv"
    with open(table, "w", newline="") as fh:
        csv.writer(fh).writerows([["path"], *[[f.name] for f in files]])
    for given in (clips, table):
        done = runner.invoke(app, ["predict", str(tmp_path / "model.onnx"), str(given), "--json"])
        assert done.exit_code == 0, done.output
        assert [row["label"] for row in json.loads(done.output)] == expected


def test_hs_speech_export_on_mfcc_frames_and_recordings(tmp_path):
    source = sample_shots(load_dataset("fsdd", "-s3"), 4, seed=0)
    pretrain_speech(source, tmp_path / "enc", widths=(16, 32), epochs=1, seed=0)
    speaker = load_dataset("fsdd", "s3")
    model = headstart.fit(sample_shots(speaker, 3, seed=0), backbone=str(tmp_path / "enc"), method="probe")
    frames = list(speaker.inputs[100:130])
    assert len({len(f) for f in frames}) > 10  # MFCC frames of many lengths, padded and masked per batch
    report = export_onnx(model, tmp_path / "speech.onnx", data=frames, int8=True)
    assert report["max_abs_diff"] <= 1e-4 and report["label_agreement"] == 1.0
    assert report["int8"]["quantisation"] == "static" and report["int8"]["label_agreement"] >= 0.8
    onnx = OnnxModel(tmp_path / "speech.onnx")
    wave = 0.3 * np.sin(np.linspace(0, 3000, 11000)).astype(np.float32)  # a recording: MFCCs by the same code
    mixed = [frames[0], wave, frames[5][:7]]
    np.testing.assert_allclose(onnx.outputs(mixed), model.outputs(mixed), atol=1e-4)
    assert onnx.predict(frames).labels == model.predict(frames).labels


def test_hs_tcn_series_export_parity_and_channels_refused(tmp_path):
    pretrain([aeon_series("Airline"), aeon_series("Lynx")], tmp_path / "tcn", epochs=1, steps_per_epoch=5,
             batch_size=8, seed=0, context=160, horizon=12, width=16, blocks=4)
    train, test = load_dataset("gunpoint", "train"), load_dataset("gunpoint", "test")
    model = headstart.fit(sample_shots(train, 5, seed=0), backbone=str(tmp_path / "tcn"), method="probe")
    series = list(test.inputs[:20]) + [test.inputs[20][:60], test.inputs[21][:100]]  # shorter: left-padded
    report = export_onnx(model, tmp_path / "gunpoint.onnx", data=series)
    assert report["max_abs_diff"] <= 1e-3 and report["label_agreement"] == 1.0
    onnx = OnnxModel(tmp_path / "gunpoint.onnx")
    assert onnx.predict(series).labels == model.predict(series).labels
    with pytest.raises(DataError, match="'values' has 2 along axis 1; the exported graph takes 1"):
        onnx.predict([np.stack([test.inputs[0], test.inputs[1]])])

