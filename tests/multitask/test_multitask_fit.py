"""Multi-task runs on the real MiniLM-L6 with real reviews (sentiment) and news articles (topics)."""

import numpy as np
import pytest

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.multitask import TaskSpec, fit_multitask, load_multitask

SHORT = {"backbone_options": {"max_length": 64}}  # short token windows keep these tests fast


@pytest.fixture(scope="module")
def reviews():
    return sample_shots(load_dataset("rotten_tomatoes", "train"), 8, seed=0)


@pytest.fixture(scope="module")
def news():
    return sample_shots(load_dataset("bbc_news", "train"), 4, seed=0)


@pytest.fixture(scope="module")
def news_test():
    return sample_shots(load_dataset("bbc_news", "test"), 6, seed=0)


@pytest.fixture(scope="module")
def finetuned(reviews, news):
    """The top encoder layer fine-tuned on both tasks, with uncertainty weighting."""
    return fit_multitask([TaskSpec("sentiment", reviews), TaskSpec("topic", news)], method="finetune",
                         unfreeze=1, epochs=2, weighting="uncertainty", **SHORT)


def test_two_tasks_with_different_inputs_train_together(finetuned, news_test):
    assert finetuned.info["n_train"] == {"sentiment": 16, "topic": 20}
    assert finetuned.info["epochs"] == 2 and finetuned.info["prefix_cached"]
    logged = {key for row in finetuned.info["history"] for key in row}
    assert {"train_loss_sentiment", "train_loss_topic"} <= logged
    topics = finetuned.predict(news_test.inputs[:5], task="topic")
    assert set(topics.labels) <= set(news_test.classes) and topics.probabilities.shape == (5, 5)
    sentiment = finetuned.predict(["A joyous, moving triumph.", "Dull, lifeless and far too long."], task="sentiment")
    assert set(sentiment.labels) <= {"fresh", "rotten"} and sentiment.probabilities.shape == (2, 2)
    assert finetuned.evaluate(news_test, task="topic")["accuracy"] > 0.6  # chance is 0.2
    with pytest.raises(HeadstartError, match="no task 'genre'; the tasks are: sentiment, topic"):
        finetuned.predict(["x"], task="genre")


def test_save_and_load_round_trip_exactly(finetuned, news_test, tmp_path):
    folder = finetuned.save(tmp_path / "mt")
    loaded = load_multitask(folder)
    assert loaded.task_names == ["sentiment", "topic"]
    assert loaded.task_weights() == finetuned.task_weights()
    for task in ("sentiment", "topic"):
        texts = news_test.inputs[:4]
        assert np.array_equal(loaded.for_task(task).outputs(texts), finetuned.for_task(task).outputs(texts))
    single = headstart.fit(news_test, method="probe").save(tmp_path / "single")
    with pytest.raises(HeadstartError, match="is not headstart-multitask/1"):
        load_multitask(single)


def test_uncertainty_weighting_learns_to_favour_the_task_it_fits_better(reviews, news):
    """Frozen features and a shared hidden layer: the task left with the larger loss ends lighter."""
    model = fit_multitask([TaskSpec("sentiment", reviews), TaskSpec("topic", news)], method="probe", hidden=64,
                          weighting="uncertainty", epochs=10, head_lr=1e-2, **SHORT)
    weights, last = model.task_weights(), model.info["history"][-1]
    harder, easier = sorted(["sentiment", "topic"], key=lambda t: -last[f"train_loss_{t}"])
    assert weights[easier] > 1.3 * weights[harder]
    assert max(abs(w - 1) for w in weights.values()) > 0.3  # moved well away from the start (1, 1)


def test_a_frozen_backbone_without_a_shared_layer_is_one_probe_per_task(reviews, news, news_test):
    joint = fit_multitask([TaskSpec("sentiment", reviews), TaskSpec("topic", news)], method="probe", **SHORT)
    alone = headstart.fit(news, method="probe", **SHORT)
    texts = news_test.inputs[:6]
    assert np.allclose(joint.for_task("topic").outputs(texts), alone.outputs(texts), atol=1e-6)
    assert joint.info["history"] == [] and joint.task_weights() == {"sentiment": 1.0, "topic": 1.0}


def test_shared_inputs_with_a_class_and_a_regression_column(tmp_path, reviews):
    """One CSV, two label columns: sentiment (classes) and the snippet's length in words (regression)."""
    rows = ["text,label,words"] + [
        f'"{t.replace(chr(34), "")}",{reviews.classes[y]},{len(t.split())}' for t, y in zip(reviews.inputs, reviews.labels)]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    model = fit_multitask([TaskSpec("sentiment", path), TaskSpec("length", path, task="regression", label_col="words")],
                          method="probe", hidden=32, epochs=3, **SHORT)
    values = model.predict(["Short.", "A much, much longer review that goes on and on about the film."], task="length")
    assert len(values.labels) == 2 and all(isinstance(v, float) for v in values.labels)
    assert model.tasks[1].kind == "regression" and model.tasks[1].classes is None


def test_bad_runs_are_explained(reviews):
    with pytest.raises(HeadstartError, match="used more than once"):
        fit_multitask([TaskSpec("a", reviews), TaskSpec("a", reviews)])
    with pytest.raises(HeadstartError, match="must be a non-empty identifier"):
        TaskSpec("two words", reviews)
    with pytest.raises(HeadstartError, match="weighting must be one of fixed, uncertainty"):
        fit_multitask([TaskSpec("a", reviews)], weighting="equal")
    with pytest.raises(HeadstartError, match="image data cannot go through text backbone"):
        fit_multitask([TaskSpec("digits", sample_shots(load_dataset("digits"), 2))])
