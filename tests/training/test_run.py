"""The shared training path: determinism, and resume mid-schedule ending like an uninterrupted
run for a plain fit, an adaptation and a multi-task run."""

import numpy as np
import torch
from short_texts import TEXT_OPTIONS

from headstart.adapt import adapt
from headstart.api import fit
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.multitask import TaskSpec, fit_multitask

GRADUAL = dict(method="finetune", unfreeze=3, gradual=1, epochs=3, lr=1e-4, **TEXT_OPTIONS)


def test_same_seed_gives_identical_metrics(bbc_train, bbc_test):
    runs = [fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=2, seed=3, **TEXT_OPTIONS) for _ in range(2)]
    first, second = (r.outputs(bbc_test) for r in runs)
    assert np.array_equal(first, second)
    untimed = lambda run: [{k: v for k, v in row.items() if not k.startswith("train_") or k == "train_loss"} for row in run.info["history"]]  # noqa: E731
    assert untimed(runs[0]) == untimed(runs[1])
    assert all(row["train_seconds"] > 0 and row["train_batches"] >= 1 for row in runs[0].info["history"])


def test_resume_mid_schedule_ends_like_an_uninterrupted_run(bbc_train, bbc_test, tmp_path, interrupted):
    full = fit(bbc_train, backbone="minilm-l6", out=tmp_path / "full", **GRADUAL)
    with interrupted():
        fit(bbc_train, backbone="minilm-l6", out=tmp_path / "cut", **GRADUAL)
    checkpoint = tmp_path / "cut" / "checkpoints" / "last.ckpt"
    assert checkpoint.exists()
    resumed = fit(bbc_train, backbone="minilm-l6", out=tmp_path / "cut", resume=checkpoint, **GRADUAL)

    assert resumed.info["epochs"] == full.info["epochs"] == 3
    assert np.array_equal(resumed.outputs(bbc_test), full.outputs(bbc_test))
    trained = lambda m: sorted(k for k in m.method.changed_state(m.model) if "groups" in k)  # noqa: E731
    assert trained(resumed) == trained(full)


def test_an_adaptation_resumes_like_an_uninterrupted_run(reviews, tmp_path, interrupted):
    """DANN through the top encoder layer: the discriminator, the reversal warm-up, the paired
    batches and the kept epoch all continue where the checkpoint left them."""
    target = sample_shots(load_dataset("rotten_tomatoes", "test"), 6, seed=1)
    options = dict(backbone="minilm-l6", method="dann", weights=[1.0], unfreeze=1, epochs=3, batch_size=8, **TEXT_OPTIONS)
    full = adapt(reviews, target, out=tmp_path / "full", **options)
    with interrupted():
        adapt(reviews, target, out=tmp_path / "cut", **options)
    assert (tmp_path / "cut" / "dann-w1" / "checkpoints" / "last.ckpt").exists()
    resumed = adapt(reviews, target, out=tmp_path / "cut", resume=True, **options)

    assert [c["epochs_run"] for c in resumed.info["adaptation"]["candidates"]] == [3]
    assert resumed.info["adaptation"]["selection"] == full.info["adaptation"]["selection"]
    state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(state[k], resumed_state[k]) for k in state)


def test_a_multitask_run_resumes_like_an_uninterrupted_run(reviews, bbc_train, bbc_test, tmp_path, interrupted):
    specs = [TaskSpec("sentiment", reviews), TaskSpec("topic", bbc_train)]
    options = dict(method="finetune", unfreeze=2, gradual=1, epochs=3, weighting="uncertainty", **TEXT_OPTIONS)
    full = fit_multitask(specs, out=tmp_path / "full", **options)
    with interrupted():
        fit_multitask(specs, out=tmp_path / "cut", **options)
    checkpoint = tmp_path / "cut" / "checkpoints" / "last.ckpt"
    resumed = fit_multitask(specs, out=tmp_path / "cut", resume=checkpoint, **options)

    assert resumed.info["epochs"] == full.info["epochs"] == 3
    texts = bbc_test.inputs[:6]
    for task in ("sentiment", "topic"):
        assert np.array_equal(resumed.for_task(task).outputs(texts), full.for_task(task).outputs(texts))
    assert resumed.task_weights() == full.task_weights()
