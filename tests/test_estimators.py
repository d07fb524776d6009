import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from headstart.estimators import HeadstartClassifier, HeadstartRegressor
from headstart.zoo import load_backbone
from tests.methods.short_text import TEXT_OPTIONS


def test_classifier_in_cross_val_score(bbc_train):
    texts, labels = list(bbc_train.inputs), np.array(bbc_train.classes)[bbc_train.labels]
    scores = cross_val_score(HeadstartClassifier(backbone="minilm-l6"), texts, labels, cv=2)
    assert scores.mean() > 0.6


def test_classifier_in_pipeline_and_grid_search(bbc_train):
    texts, labels = list(bbc_train.inputs), bbc_train.labels
    pipe = Pipeline([("strip", FunctionTransformer(lambda xs: [x.strip() for x in xs])), ("clf", HeadstartClassifier(epochs=2, options=TEXT_OPTIONS))])
    search = GridSearchCV(pipe, {"clf__method": ["probe", "scratch"]}, cv=2).fit(texts, labels)
    assert search.best_params_["clf__method"] == "probe"  # pre-trained features beat random weights
    probe, scratch = search.cv_results_["mean_test_score"]
    assert probe > scratch + 0.2  # measured 0.80 vs 0.35
    proba = search.predict_proba(texts[:3])
    assert proba.shape == (3, 5) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert set(search.predict(texts)) <= set(labels)
    params = HeadstartClassifier(method="finetune", unfreeze=1).get_params()
    assert params["method"] == "finetune" and params["unfreeze"] == 1


def test_regressor_scores_r2(bbc_train):
    texts = list(bbc_train.inputs)
    y = np.array([len(t.split()) for t in texts], dtype=float)  # article length is visible in the text
    model = HeadstartRegressor().fit(texts, y)
    assert model.predict(texts).shape == (len(texts),)
    assert model.score(texts, y) > 0.3  # measured R^2 0.52


@pytest.mark.parametrize(
    "method, trainable, min_accuracy",
    [("finetune", (1e6, 1e7), 0.6), ("lora", (1e3, 1e6), 0.6), ("scratch", (3e6, 5e6), None)],
)
def test_every_trainable_method_fits_as_an_estimator(bbc_train, bbc_test, method, trainable, min_accuracy):
    """Fine-tuning (1 group) and LoRA start from the probe, so 2 epochs keep them well above chance
    (20 %); scratch trains the small random encoder (128-wide token embeddings, 4 M parameters) for 2
    epochs only, so the test checks that it is that architecture, not MiniLM's pre-trained weights."""
    texts, labels = list(bbc_train.inputs), np.array(bbc_train.classes)[bbc_train.labels]
    clf = HeadstartClassifier(method=method, epochs=2, unfreeze=1 if method == "finetune" else None, options=TEXT_OPTIONS).fit(texts, labels)
    assert trainable[0] < clf.model_.info["trainable_params"] < trainable[1]
    proba = clf.predict_proba(list(bbc_test.inputs))
    assert proba.shape == (len(bbc_test), 5) and np.allclose(proba.sum(1), 1, atol=1e-5)
    if min_accuracy is None:  # not the pre-trained encoder: the small one, from random weights
        pretrained = load_backbone("minilm-l6", **TEXT_OPTIONS.get("backbone_options", {}))
        trained = clf.model_.model.backbone
        assert trained.num_groups == 1 and trained.feature_dim == 128 < pretrained.feature_dim
        assert not torch.allclose(trained.groups[0].embeddings.word_embeddings.weight[:, :128],
                                  pretrained.groups[0].embeddings.word_embeddings.weight[:, :128])
    else:
        assert clf.score(list(bbc_test.inputs), np.array(bbc_test.classes)[bbc_test.labels]) >= min_accuracy
