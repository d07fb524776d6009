"""A run killed with SIGKILL mid-training resumes from its folder and ends with the same weights."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

import headstart
from headstart.errors import HeadstartError

SCRIPT = """
import sys, torch
torch.set_num_threads(1)
import headstart
out, resume = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
model = headstart.fit("bbc_news:train", backbone="minilm-l6", method="finetune", unfreeze=1, shots=12, epochs=6,
                      val_fraction=0.0, backbone_options={"max_length": 32}, out=out, resume=resume)
model.save(out)
"""


def _fit(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_after_checkpoints(process: subprocess.Popen, checkpoint: Path, writes: int) -> None:
    """SIGKILL ``process`` once ``checkpoint`` has been written ``writes`` times."""
    seen: set[int] = set()
    while process.poll() is None and len(seen) < writes:
        try:
            seen.add(checkpoint.stat().st_mtime_ns)
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_9_then_resume_from_the_run_folder_ends_with_identical_weights(tmp_path):
    full = _fit(str(tmp_path / "full"))
    killed = _fit(str(tmp_path / "cut"))
    _kill_after_checkpoints(killed, tmp_path / "cut" / "checkpoints" / "last.ckpt", writes=2)
    assert killed.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = _fit(str(tmp_path / "cut"), str(tmp_path / "cut"))
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()[-2000:]
    assert full.wait(timeout=600) == 0, full.stderr.read()[-2000:]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "cut" / "model.safetensors")
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    history = headstart.load(tmp_path / "cut").info["history"]
    assert [h["epoch"] for h in history] == list(range(6))  # the epochs before the kill are still in the log


def test_resume_from_a_folder_without_checkpoints_says_so(bbc_train, tmp_path):
    with pytest.raises(HeadstartError, match="no checkpoint there"):
        headstart.fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, resume=tmp_path,
                      backbone_options={"max_length": 32})


def test_a_checkpoint_that_cannot_be_written_costs_the_checkpoint_not_the_run(bbc_train, tmp_path, monkeypatch, caplog):
    import errno

    from lightning.pytorch.callbacks import ModelCheckpoint

    def full_disk(self, trainer, filepath):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filepath)

    monkeypatch.setattr(ModelCheckpoint, "_save_checkpoint", full_disk)
    model = headstart.fit(bbc_train.subset(range(20)), backbone="minilm-l6", method="finetune", unfreeze=1, epochs=2,
                          out=tmp_path / "run", backbone_options={"max_length": 32})
    assert model.info["epochs"] == 2
    warnings = [r.getMessage() for r in caplog.records if "checkpoint not written" in r.getMessage()]
    assert len(warnings) == 1 and "No space left on device" in warnings[0] and "MB needed" in warnings[0]
    assert headstart.load(model.save(tmp_path / "run")).predict(bbc_train.inputs[:2]).labels == model.predict(bbc_train.inputs[:2]).labels
