"""The shared training engine: determinism, resume mid-schedule, multi-process DDP."""

import os
import subprocess
import sys

import numpy as np

import headstart
from headstart.api import fit
from headstart.data.catalogue import load_dataset

from short_text import TEXT_OPTIONS

GRADUAL = dict(method="finetune", unfreeze=3, gradual=1, epochs=3, lr=1e-4, **TEXT_OPTIONS)


def test_same_seed_gives_identical_metrics(bbc_train, bbc_test):
    runs = [fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=2, seed=3, **TEXT_OPTIONS) for _ in range(2)]
    first, second = (r.outputs(bbc_test) for r in runs)
    assert np.array_equal(first, second)
    assert runs[0].info["history"] == [{**row} for row in runs[1].info["history"]]


def test_resume_mid_schedule_ends_like_an_uninterrupted_run(bbc_train, bbc_test, tmp_path):
    full = fit(bbc_train, backbone="minilm-l6", out=tmp_path / "full", **GRADUAL)

    from headstart import engine

    original = engine.L.Trainer.__init__

    def stop_after_two_epochs(self, *args, **kwargs):  # an interruption after epoch 2 of 3
        kwargs["max_epochs"] = 2
        original(self, *args, **kwargs)

    engine.L.Trainer.__init__ = stop_after_two_epochs
    try:
        fit(bbc_train, backbone="minilm-l6", out=tmp_path / "cut", **GRADUAL)
    finally:
        engine.L.Trainer.__init__ = original
    checkpoint = tmp_path / "cut" / "checkpoints" / "last.ckpt"
    assert checkpoint.exists()
    resumed = fit(bbc_train, backbone="minilm-l6", out=tmp_path / "cut", resume=checkpoint, **GRADUAL)

    assert resumed.info["epochs"] == full.info["epochs"] == 3
    assert np.array_equal(resumed.outputs(bbc_test), full.outputs(bbc_test))
    trained = lambda m: sorted(k for k in m.method.changed_state(m.model) if "groups" in k)  # noqa: E731
    assert trained(resumed) == trained(full)


def test_two_process_ddp_run(tmp_path):
    """`--devices 2` trains with two CPU processes (DDP over gloo) and writes one artifact."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "headstart", "fit", "digits", "--backbone", "efficientnet-lite0", "--method", "finetune",
           "--unfreeze", "1", "--epochs", "1", "--shots", "4", "--devices", "2", "--no-progress", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    model = headstart.load(out)
    assert model.info["world_size"] == 2
    assert len(model.predict(load_dataset("digits", "test").inputs[:5]).labels) == 5
