"""from_arrays, load_data's dispatch and require_labels."""

import numpy as np
import pytest
from PIL import Image

from headstart.data import from_arrays, load_data, require_labels
from headstart.errors import DataError


def test_uint8_batches_are_images_and_string_labels_are_encoded():
    ds = from_arrays(np.zeros((4, 8, 8), np.uint8), ["dog", "cat", "dog", "bird"])
    assert ds.modality == "image" and ds.classes == ["bird", "cat", "dog"]
    assert ds.labels.tolist() == [2, 1, 2, 0]
    assert from_arrays(np.zeros((2, 5, 5, 3), np.uint8)).labels is None


def test_float_rows_are_features_and_integer_labels_are_codes_when_classes_given():
    ds = from_arrays(np.random.default_rng(0).normal(size=(3, 4)), np.array([2, 0, 1]), classes=["a", "b", "c"])
    assert ds.modality == "array" and ds.classes == ["a", "b", "c"] and ds.labels.tolist() == [2, 0, 1]
    numbers = from_arrays(np.ones((3, 2)), np.array([10, 2, 10]))
    assert numbers.classes == ["2", "10"] and numbers.labels.tolist() == [1, 0, 1]


def test_regression_and_multilabel_arrays():
    assert from_arrays(np.ones((2, 3)), [0.5, 1.25], task="regression").labels.tolist() == [0.5, 1.25]
    multi = from_arrays(np.ones((2, 3)), np.array([[1, 0], [1, 1]]), task="multilabel")
    assert multi.classes == ["0", "1"] and multi.labels.dtype == np.uint8


@pytest.mark.parametrize(
    "X, y, options, message",
    [
        (np.ones((2, 3)), np.array([0, 3]), {"classes": ["a", "b"]}, r"codes in 0\.\.1 for 2 classes"),
        (np.ones((2, 3)), np.array([0.5, 1.0]), {}, "pass task='regression'"),
        (np.ones((2, 3)), ["a", "z"], {"classes": ["a", "b"]}, "labels z are not among the classes a, b"),
        (np.ones((2, 4, 4)), None, {"modality": "image"}, r"image arrays must be uint8"),
        (np.ones((2, 4, 4, 4)), None, {}, "cannot tell the modality"),
        (np.ones((2, 2)), np.array([[2, 0], [0, 1]]), {"task": "multilabel"}, "0/1 matrix"),
    ],
)
def test_bad_arrays(X, y, options, message):
    with pytest.raises(DataError, match=message):
        from_arrays(X, y, **options)


def test_load_data_dispatches_on_what_the_spec_names(tmp_path):
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    (tmp_path / "imgs" / "b").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "imgs" / "a" / "1.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "imgs" / "b" / "2.png")
    (tmp_path / "t.jsonl").write_text('{"body": "hi", "y": 2.5}\n')
    (tmp_path / "notes.txt").write_text("text,label\n")

    assert load_data(tmp_path / "imgs").classes == ["a", "b"]
    table = load_data(str(tmp_path / "t.jsonl"), text_col="body", label_col="y", task="regression")
    assert table.labels.tolist() == [2.5]
    assert len(load_data("digits")) == 1797 and len(load_data("digits:test")) == 360
    with pytest.raises(DataError, match=r"no such file, folder or catalogue dataset: nope; catalogue: digits, mnist5k"):
        load_data("nope")
    with pytest.raises(DataError, match=r"notes\.txt: unsupported file type"):
        load_data(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="digits: no split 'val'"):
        load_data("digits:val")


def test_require_labels():
    require_labels(from_arrays(np.ones((2, 2)), ["a", "b"]))
    with pytest.raises(DataError, match="has no labels"):
        require_labels(from_arrays(np.ones((2, 2))))
    with pytest.raises(DataError, match=r"only 1 class present \(cat\); need at least 2"):
        require_labels(from_arrays(np.ones((2, 2)), ["cat", "cat"]))
    with pytest.raises(DataError, match=r"only 2 class present"):
        require_labels(from_arrays(np.ones((2, 2)), ["cat", "dog"]), min_classes=3)
