"""Audio from the command line, as a user runs it: a folder of recordings (real espeak-ng speech,
two accents) through ``fit`` on ge2e-speaker, ``predict`` on a .wav, ``evaluate`` on held-out voices."""

import shutil

import numpy as np
import pytest
import soundfile

from tests.cli.helpers import invoke, run


@pytest.fixture(scope="module")
def accents(tmp_path_factory):
    """``source/<accent>/*.wav`` (two voices) and ``target/<accent>/*.wav`` (a third voice)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from headstart.data.speech_synth import load_accents

    data = load_accents(accents=("en-us", "en-gb-scotland"), n_voices=3, n_utterances=6)
    root = tmp_path_factory.mktemp("accents")
    held_out = data.meta["voices"][-1]
    for i, (wave, label) in enumerate(zip(data.inputs, data.labels)):
        part = "target" if data.meta["voices"][i] == held_out else "source"
        path = root / part / data.classes[label] / f"clip{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, np.asarray(wave), 16000)
    return root


def test_fit_predict_evaluate_a_folder_of_recordings(accents, tmp_path):
    fitted = run("fit", str(accents / "source"), "--backbone", "ge2e-speaker", "--method", "probe",
                 "--out", str(tmp_path / "run"), "--no-progress")
    assert "trained on 24 examples" in fitted.stdout
    clip = sorted((accents / "target" / "en-gb-scotland").glob("*.wav"))[0]
    predicted = invoke("predict", str(tmp_path / "run"), str(clip))
    row = next(line for line in predicted.stdout.splitlines() if line.startswith(str(clip)))
    assert row.split(",")[1] in ("en-us", "en-gb-scotland")
    scored = invoke("evaluate", str(tmp_path / "run"), str(accents / "target"), "--json")
    assert '"accuracy"' in scored.stdout
    report = (tmp_path / "run" / "report.html").read_text()
    assert "Confusion matrix" in report
    assert report.count('class="thumb"') == report.count('class="mistake"')  # every mistake drawn as a spectrogram
