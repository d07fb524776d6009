"""Audio in: real decoding of an espeak-ng utterance in every format, resampling, mixdown, loudness,
bad files (fail or skip and report), the folder and table readers, and ``load_data`` / ``read_inputs``."""

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from headstart.data import SAMPLE_RATE, load_audio, load_data, read_audio, read_audio_folder, read_audio_table
from headstart.data.audio import mfcc
from headstart.data.sources import read_inputs
from headstart.data.speech_synth import speak
from headstart.errors import DataError

RMS_20_DBFS = 0.1


@pytest.fixture(scope="module")
def utterance() -> np.ndarray:
    return speak("Turn left at the old church.", "en-gb-x-rp")


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


@pytest.mark.parametrize("suffix, lossless", [(".wav", True), (".flac", True), (".ogg", False), (".mp3", False)])
def test_each_format_decodes_to_the_same_normalised_16k_waveform(tmp_path, utterance, suffix, lossless):
    path = tmp_path / f"clip{suffix}"
    sf.write(path, 0.3 * utterance, SAMPLE_RATE)
    wave = read_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert rms(wave) == pytest.approx(RMS_20_DBFS, rel=0.02) and np.abs(wave).max() <= 0.99
    if lossless:
        assert len(wave) == len(utterance) and corr(wave, utterance) > 0.9999
    else:  # lossy codecs pad and delay a little
        assert abs(len(wave) - len(utterance)) < 0.1 * SAMPLE_RATE


@pytest.mark.parametrize("rate", [8000, 44100])
def test_other_rates_are_resampled_to_16k(tmp_path, utterance, rate):
    path = tmp_path / f"clip{rate}.wav"
    sf.write(path, soxr.resample(utterance, SAMPLE_RATE, rate), rate)
    wave = read_audio(path)
    assert abs(len(wave) - len(utterance)) <= 2
    assert corr(wave, utterance) > (0.8 if rate == 8000 else 0.999)  # 8 kHz loses the band above 4 kHz


def test_stereo_is_averaged_to_mono(tmp_path, utterance):
    sf.write(tmp_path / "stereo.wav", np.stack([utterance, 0.5 * utterance], axis=1), SAMPLE_RATE)
    assert corr(read_audio(tmp_path / "stereo.wav"), utterance) > 0.9999
    sf.write(tmp_path / "cancel.wav", np.stack([0.5 * utterance, -0.5 * utterance], axis=1), SAMPLE_RATE)
    with pytest.raises(DataError, match=r"cancel\.wav: the recording is silent"):
        read_audio(tmp_path / "cancel.wav")


def test_loud_audio_is_scaled_down_without_clipping():
    spiky = np.zeros(SAMPLE_RATE, dtype=np.float32)
    spiky[::1000] = 1.0  # a few full-scale clicks: -20 dBFS RMS would need a gain above 1
    wave = load_audio(spiky * 0.5)
    assert np.abs(wave).max() == pytest.approx(0.99) and rms(wave) < RMS_20_DBFS


@pytest.fixture
def bad_files(tmp_path, utterance) -> dict[str, Path]:
    """One file per way a recording can be unusable."""
    files = {name: tmp_path / name for name in
             ("corrupt.wav", "empty.flac", "header_only.wav", "silent.wav", "short.wav", "low_rate.wav")}
    files["corrupt.wav"].write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    files["empty.flac"].write_bytes(b"")
    sf.write(files["header_only.wav"], np.zeros(0, np.float32), SAMPLE_RATE)
    sf.write(files["silent.wav"], np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    sf.write(files["short.wav"], utterance[SAMPLE_RATE // 4: SAMPLE_RATE // 4 + 800], SAMPLE_RATE)  # 50 ms
    sf.write(files["low_rate.wav"], soxr.resample(utterance, SAMPLE_RATE, 4000), 4000)
    return files


@pytest.mark.parametrize("name, reason", [
    ("corrupt.wav", "not a readable audio file"),
    ("empty.flac", "not a readable audio file"),
    ("header_only.wav", "no audio samples"),
    ("silent.wav", "the recording is silent"),
    ("short.wav", r"too short \(0\.050 s"),
    ("low_rate.wav", "sample rate 4000 Hz is below 8000 Hz"),
])
def test_bad_files_raise_one_line_naming_the_file(bad_files, name, reason):
    with pytest.raises(DataError, match=f"{bad_files[name]}: {reason}") as caught:
        read_audio(bad_files[name])
    assert "\n" not in str(caught.value)


def test_no_speech_left_after_trimming_is_an_error(tmp_path, utterance):
    sf.write(tmp_path / "noise.wav", np.random.default_rng(0).normal(0, 0.01, SAMPLE_RATE), SAMPLE_RATE)
    with pytest.raises(DataError, match=r"noise\.wav: no speech found"):
        read_audio(tmp_path / "noise.wav", trim=True)
    assert len(read_audio(tmp_path / "noise.wav")) == SAMPLE_RATE  # kept without trimming


@pytest.fixture
def recordings(tmp_path, utterance, bad_files) -> Path:
    """us: 2 clips (one nested); gb: 1 clip, plus a corrupt and a silent file; files to ignore."""
    root = tmp_path / "recordings"
    for sub in ("us/nested", "gb", ".cache", "__MACOSX"):
        (root / sub).mkdir(parents=True)
    sf.write(root / "us" / "a.wav", utterance, SAMPLE_RATE)
    sf.write(root / "us" / "nested" / "b.FLAC", utterance[::-1], SAMPLE_RATE)
    sf.write(root / "gb" / "c.ogg", utterance, SAMPLE_RATE)
    (root / "gb" / "z_corrupt.wav").write_bytes(bad_files["corrupt.wav"].read_bytes())
    (root / "gb" / "z_silent.wav").write_bytes(bad_files["silent.wav"].read_bytes())
    (root / "us" / "notes.txt").write_text("not audio")
    (root / "us" / "._a.wav").write_bytes(b"macOS resource fork")
    sf.write(root / ".cache" / "x.wav", utterance, SAMPLE_RATE)
    return root


def test_folder_classes_are_sub_folders_and_inputs_waveforms(recordings):
    with pytest.raises(DataError, match=r"z_corrupt\.wav: not a readable audio file"):
        read_audio_folder(recordings)


def test_folder_skip_drops_and_reports_bad_files(recordings, caplog):
    with caplog.at_level(logging.WARNING):
        ds = read_audio_folder(recordings, on_error="skip")
    assert ds.modality == "audio" and ds.classes == ["gb", "us"] and ds.labels.tolist() == [0, 1, 1]
    assert ds.meta["skipped"] == [recordings / "gb" / "z_corrupt.wav", recordings / "gb" / "z_silent.wav"]
    assert all(x.dtype == np.float32 and x.ndim == 1 for x in ds.inputs)
    assert "z_silent.wav: the recording is silent" in caplog.text
    assert load_data(recordings, on_error="skip").classes == ["gb", "us"]


def test_table_of_paths_relative_to_the_table(recordings, tmp_path, utterance):
    table = tmp_path / "clips.csv"
    table.write_text("path,label\nrecordings/us/a.wav,us\nrecordings/gb/c.ogg,gb\nrecordings/gb/z_silent.wav,gb\n")
    ds = load_data(table, on_error="skip")
    assert ds.modality == "audio" and ds.classes == ["gb", "us"] and ds.labels.tolist() == [1, 0]
    assert corr(ds.inputs[0], utterance) > 0.9999 and ds.meta["skipped"] == [recordings / "gb" / "z_silent.wav"]
    with pytest.raises(DataError, match="no audio path column 'file'"):
        read_audio_table(table, path_col="file")
    assert read_audio_table(table, label_col=None, on_error="skip").labels is None


def test_a_folder_of_audio_and_images_is_refused(recordings):
    from PIL import Image
    Image.new("RGB", (4, 4)).save(recordings / "gb" / "photo.png")
    with pytest.raises(DataError, match="holds both audio files .* and images"):
        load_data(recordings)


def test_read_inputs_takes_audio_files_and_folders(recordings):
    named = read_inputs([str(recordings / "us"), str(recordings / "gb" / "c.ogg")], "audio")
    assert named.names == [str(recordings / "us" / "a.wav"), str(recordings / "us" / "nested" / "b.FLAC"),
                           str(recordings / "gb" / "c.ogg")]
    assert all(isinstance(p, Path) for p in named.items)
    with pytest.raises(DataError, match="no such audio file"):
        read_inputs([str(recordings / "missing.wav")], "audio")


def test_mfcc_frames_are_10ms(utterance):
    coefficients = mfcc(utterance)
    assert coefficients.shape == (1 + len(utterance) // 160, 13) and coefficients.dtype == np.float32
    assert np.isfinite(coefficients).all() and coefficients[:, 0].std() > 1
