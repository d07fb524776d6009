"""Saving is atomic even when the process is killed mid-save or the disk is full: the folder holds the
old artifact or the new one, never a mix, and the run's other files stay."""

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import headstart
from headstart.errors import HeadstartError

SCRIPT = """
import os, pathlib, signal, sys
import headstart, headstart.artifacts as artifacts
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots

run, point = pathlib.Path(sys.argv[1]), sys.argv[2]
data = sample_shots(load_dataset("bbc_news", "train"), 3, seed=0)
options = dict(backbone="minilm-l6", method="probe", backbone_options={"max_length": 32})
texts = list(data.inputs[:6])
first = headstart.fit(data, **options)
first.save(run)
(run / "logs").mkdir()
(run / "logs" / "metrics.csv").write_text("epoch\\n0\\n")
flipped = data.__class__(**{**data.__dict__, "labels": (data.labels + 1) % data.num_classes})
second = headstart.fit(flipped, **options)
import json
for name, model in (("old", first), ("new", second)):
    (run.parent / f"{name}.json").write_text(json.dumps({"texts": texts, "outputs": model.outputs(texts).tolist()}))
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if point == "staged":  # every file of the new artifact written, nothing renamed yet
    artifacts._as_created = die
elif point == "retired":  # the old artifact moved aside, the new one not yet in its place
    rename = pathlib.Path.rename
    def rename_then_die(self, target):
        if self.name.startswith(f".{run.name}.") and ".old." not in self.name:
            die()
        return rename(self, target)
    pathlib.Path.rename = rename_then_die
elif point == "moving":  # the new artifact in place, the run's logs not yet moved over
    artifacts._finish_replace = die
second.save(run)
"""


@pytest.mark.parametrize("point, new", [("staged", False), ("retired", False), ("moving", True)])
def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_artifact_and_the_logs(point, new, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(run), point], capture_output=True, text=True, timeout=600)
    assert done.returncode == -9, done.stderr[-2000:]
    model = headstart.load(run)  # finishes the interrupted replace
    old, new_ = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("old", "new"))
    outputs = model.outputs(old["texts"])
    expected = new_ if new else old
    other = old if new else new_
    assert np.allclose(outputs, expected["outputs"], atol=1e-6) and not np.allclose(outputs, other["outputs"], atol=1e-3)
    assert (run / "logs" / "metrics.csv").read_text() == "epoch\n0\n"
    assert not list(tmp_path.glob(".run.*"))


def test_too_little_free_space_is_refused_before_writing_and_keeps_the_old_artifact(fitted_kinds, tmp_path, monkeypatch):
    import shutil

    model, test = fitted_kinds["text_probe"]
    run = model.save(tmp_path / "run")
    before = headstart.load(run).outputs(test)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(HeadstartError, match=r"MB needed to save the model, 0.0 MB free"):
        model.save(run)
    monkeypatch.undo()
    assert np.array_equal(headstart.load(run).outputs(test), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_full_disk_while_writing_is_one_line_and_keeps_the_old_artifact(fitted_kinds, tmp_path, monkeypatch):
    import headstart.artifacts as artifacts

    model, test = fitted_kinds["text_probe"]
    run = model.save(tmp_path / "run")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(artifacts, "save_file", full)
    with pytest.raises(HeadstartError, match="could not be saved \\(No space left on device\\)") as caught:
        model.save(run)
    assert "\n" not in str(caught.value)
    monkeypatch.undo()
    assert np.array_equal(headstart.load(run).outputs(test), model.outputs(test))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
