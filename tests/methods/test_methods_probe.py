import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import headstart
from headstart.methods.probe import fit_linear_head


def test_probe_on_real_text_beats_chance_by_far(bbc_train, bbc_test):
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="probe")
    metrics = model.evaluate(bbc_test)
    assert metrics["accuracy"] > 0.75  # 5 topics: chance is 0.2
    assert set(metrics) >= {"accuracy", "macro_f1", "per_class"}
    assert model.info["trainable_params"] == 384 * 5 + 5  # only the head


def test_probe_head_reproduces_logistic_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)) * [1, 10, 0.1, 1, 1] + 3
    y = (x[:, 0] + x[:, 1] / 10 > 3.5).astype(int)
    head = fit_linear_head(x, y, "classification", out_dim=2)
    with torch.no_grad():
        probs = head(torch.tensor(x, dtype=torch.float32)).softmax(-1).numpy()
    assert (probs.argmax(1) == y).mean() > 0.9
    # the binary fit's single logit is the difference of the two rows
    centred = (x - x.mean(0)) / np.sqrt(((x - x.mean(0)) ** 2).mean())
    assert np.allclose(probs.sum(1), 1)
    reference = LogisticRegression(C=100).fit(centred, y)
    assert (reference.predict(centred) == probs.argmax(1)).mean() > 0.95


def test_probe_fewer_rows_than_features_is_exact_in_the_row_space():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 200))
    y = np.repeat([0, 1, 2], 4)
    head = fit_linear_head(x, y, "classification", out_dim=4)  # class 3 absent from the data
    with torch.no_grad():
        logits = head(torch.tensor(x, dtype=torch.float32))
    assert (logits.argmax(1).numpy() == y).all()
    assert (logits[:, 3] < logits[:, :3].min(1).values).all()


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_probe_other_tasks(task):
    from headstart.data.dataset import Dataset

    rng = np.random.default_rng(0)
    texts = [f"item number {i} " + " ".join(rng.choice(["red", "blue", "green", "big", "small"], 3)) for i in range(40)]
    if task == "regression":
        labels = np.array([t.count("red") + 2 * t.count("big") for t in texts], dtype=np.float32)
        classes = None
    else:
        labels = np.array([[("red" in t), ("big" in t)] for t in texts], dtype=int)
        classes = ["red", "big"]
    data = Dataset(texts, labels, classes, "text", task)
    model = headstart.fit(data, backbone="minilm-l6", method="probe")
    metrics = model.evaluate(data)
    if task == "regression":
        assert metrics["r2"] > 0.5
    else:
        assert metrics["macro_f1"] > 0.7
        assert all(isinstance(label, list) for label in model.predict(texts[:3]).labels)
