"""Two-process DDP (``devices=2``, gloo on CPU) for every kind of run: a plain fit, an adaptation
and a multi-task run, each on a few short real texts through MiniLM-L6's top layer.

Each run is a script of its own (Lightning's DDP launcher starts the second process by running the
script again); each process writes what it ended with, and the two must agree: DDP keeps the
replicas identical.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import headstart
from tests.cli.helpers import write_reviews_csv

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, sys
import torch.distributed as dist
from headstart.data.splits import sample_shots
from headstart.data.catalogue import load_dataset

kind, out = sys.argv[1], sys.argv[2]
options = dict(backbone="minilm-l6", method="finetune", unfreeze=1, epochs=2, devices=2,
               backbone_options={"max_length": 32})
reviews = sample_shots(load_dataset("rotten_tomatoes", "train"), 8, seed=0)
if kind == "fit":
    from headstart.api import fit
    model = view = fit(reviews, **options)
elif kind == "adapt":
    from headstart.adapt import adapt
    target = sample_shots(load_dataset("rotten_tomatoes", "test"), 6, seed=1)
    options["method"] = "dann"
    model = view = adapt(reviews, target, weights=[1.0], batch_size=8, **options)
else:
    from headstart.multitask import TaskSpec, fit_multitask
    news = sample_shots(load_dataset("bbc_news", "train"), 4, seed=0)
    model = fit_multitask([TaskSpec("sentiment", reviews), TaskSpec("topic", news)], **options)
    view = model.for_task("topic")
texts = ["A joyous, moving triumph.", "Dull, lifeless and far too long."]
rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
    json.dump({"world": world, "outputs": view.outputs(texts).tolist(), "history": model.info["history"],
               "info_world_size": model.info.get("world_size")}, fh)
if kind == "fit" and rank == 0:
    model.save(os.path.join(out, "artifact"))
"""


def run_two_processes(kind: str, tmp_path: Path) -> list[dict]:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), kind, str(tmp_path)], capture_output=True, text=True, timeout=600,
                          env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fit", "adapt", "multitask"])
def test_two_process_ddp_trains_identical_replicas(kind, tmp_path):
    first, second = run_two_processes(kind, tmp_path)
    assert first["world"] == second["world"] == 2
    assert first["outputs"] == second["outputs"]  # gradients are averaged: the replicas never diverge
    assert [row["epoch"] for row in first["history"]] == [0, 1]  # process 0 logs, the others do not
    assert second["history"] == []
    if kind == "fit":
        assert first["info_world_size"] == 2
        loaded = headstart.load(tmp_path / "artifact")
        assert loaded.outputs(["A joyous, moving triumph."]).tolist()[0] == pytest.approx(first["outputs"][0], abs=1e-5)


@pytest.mark.slow
def test_two_process_ddp_run_from_the_command_line(tmp_path):
    """`--devices 2` trains with two CPU processes (DDP over gloo) and writes one artifact."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "headstart", "fit", str(write_reviews_csv(tmp_path)), "--method", "finetune",
           "--unfreeze", "1", "--epochs", "1", "--devices", "2", "--set", 'backbone_options={"max_length": 32}',
           "--no-progress", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    model = headstart.load(out)
    assert model.info["world_size"] == 2 and model.info["n_train"] + model.info["n_val"] == 24
    labels = model.predict(["A joyous, moving triumph.", "Dull and far too long."]).labels
    assert len(labels) == 2 and set(labels) <= {"fresh", "rotten"}
