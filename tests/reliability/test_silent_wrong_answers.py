"""Settings and inputs that used to give a silently wrong answer: refused in one line, or handled and said."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import headstart
from headstart.data.readers import read_table
from headstart.errors import HeadstartError


def test_unfreezing_more_groups_than_the_backbone_has_is_refused_before_any_work(digits):
    with pytest.raises(HeadstartError, match=r"unfreeze 99 asks for more layer groups than efficientnet-lite0 has \(\d+\)"):
        headstart.fit(digits[0], backbone="efficientnet-lite0", method="finetune", unfreeze=99)


def test_csv_cells_longer_than_128_kb_are_read(tmp_path):
    path = tmp_path / "long.csv"
    document = "word " * 60_000  # 300 KB
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["text", "label"], [document, "long"], ["short", "short"]])
    data = read_table(path, "text", "label")
    assert data.inputs[0] == document and data.classes == ["long", "short"]


def test_a_test_set_without_one_of_the_classes_is_evaluated_on_those_present(fitted_kinds):
    model, test = fitted_kinds["text_probe"]
    keep = np.flatnonzero(test.labels == 0)
    partial = test.subset(keep)
    from dataclasses import replace

    partial = replace(partial, labels=np.zeros(len(keep), dtype=np.int64), classes=[test.classes[0]])
    metrics = model.evaluate(partial)
    expected = float(np.mean(model.predict(partial).labels == np.array(test.classes[0])))
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["absent_classes"] == test.classes[1:]
    assert metrics["n"] == len(keep)


def test_a_text_model_refuses_an_image_path_and_reads_a_text_file_path(fitted_kinds, tmp_path):
    model = fitted_kinds["text_probe"][0]
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), "red").save(photo)
    with pytest.raises(HeadstartError, match="photo.png is a binary file"):
        model.predict(str(photo))
    with pytest.raises(HeadstartError, match="binary file"):
        model.predict([Path(photo), "A joyous triumph."])
    review = tmp_path / "review.txt"
    review.write_text("A joyous, moving triumph.", encoding="utf-8")
    assert np.array_equal(model.outputs([review]), model.outputs(["A joyous, moving triumph."]))


def test_shots_zero_is_refused(digits):
    with pytest.raises(HeadstartError, match="shots must be at least 1"):
        headstart.fit(digits[0], backbone="efficientnet-lite0", shots=0)


def test_an_unwritable_out_folder_is_refused_before_any_work(digits, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HeadstartError, match="--out .*cannot write there"):
        headstart.fit(digits[0], backbone="efficientnet-lite0", method="finetune", out=blocker / "run")


def test_validation_data_with_other_classes_is_refused_and_a_subset_is_encoded_like_training(bbc_train, bbc_test):
    from dataclasses import replace

    renamed = replace(bbc_test, classes=[f"x-{c}" for c in bbc_test.classes])
    with pytest.raises(HeadstartError, match="are not among the model's"):
        headstart.fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, val=renamed)
    two = bbc_test.subset(np.flatnonzero(bbc_test.labels >= 3))  # the last two classes only, coded 0 and 1 here
    two = replace(two, labels=two.labels - 3, classes=bbc_test.classes[3:])
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, val=two,
                          backbone_options={"max_length": 32})
    assert model.info["val_metrics"]["accuracy"] == pytest.approx(model.evaluate(two)["accuracy"])
    assert model.info["val_metrics"]["accuracy"] > 0.5  # wrongly coded labels (0, 1 for classes 3, 4) would score ~0
