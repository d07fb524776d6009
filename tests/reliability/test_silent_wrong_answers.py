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
