"""Batched, cached extraction on real backbones (MiniLM-L6, EfficientNet-Lite0) and real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.errors import DataError
from headstart.features import (
    cached_states,
    default_cache_root,
    extract_features,
    extract_features_at_depths,
    extract_states,
)
from headstart.zoo import load_backbone
from headstart.zoo.base import Backbone

TEXTS = 24
IMAGES = 8


class ExampleCounter:
    """Counts the examples that enter ``backbone.groups[0]`` (a forward pre-hook).

    With ``crash_after`` set, the batch after that many examples raises, as a crash would.
    """

    def __init__(self, backbone: Backbone) -> None:
        self.examples = 0
        self.crash_after: int | None = None
        self.hook = backbone.groups[0].register_forward_pre_hook(self.count)

    def count(self, module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        if self.crash_after is not None and self.examples >= self.crash_after:
            raise KeyboardInterrupt
        batch = args[0]
        self.examples += len(batch) if isinstance(batch, torch.Tensor) else len(batch["input_ids"])


@pytest.fixture
def counted(request: pytest.FixtureRequest) -> Iterator[ExampleCounter]:
    counter = ExampleCounter(request.getfixturevalue(request.param))
    yield counter
    counter.hook.remove()


@pytest.fixture(scope="module")
def minilm() -> Backbone:
    return load_backbone("minilm-l6")


@pytest.fixture(scope="module")
def lite0() -> Backbone:
    return load_backbone("efficientnet-lite0")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Real review snippets, shuffled so that their lengths are in no particular order."""
    snippets = load_dataset("rotten_tomatoes").inputs[:TEXTS]
    return [snippets[i] for i in np.random.default_rng(0).permutation(TEXTS)]


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("mnist5k").subset(range(IMAGES))


@pytest.fixture(scope="module")
def images(digits: Dataset) -> list[np.ndarray]:
    return list(digits.inputs)


def direct_features(backbone: Backbone, inputs: list[Any], depth: int | None = None) -> np.ndarray:
    """One input at a time (no padding, no batching): the reference the extractor must match."""
    with torch.inference_mode():
        rows = [
            backbone.forward_features(b) if depth is None else backbone.features_at(b, depth)
            for b in (backbone.preprocess([x]) for x in inputs)
        ]
    return torch.cat(rows).numpy()


def test_text_features_match_direct_forward_in_input_order(minilm: Backbone, texts: list[str], tmp_path: Path) -> None:
    lengths = [len(minilm.preprocess([t])["input_ids"][0]) for t in texts]
    assert lengths != sorted(lengths) and len(set(lengths)) > 5  # sorting by length really reorders
    features = extract_features(minilm, texts, batch_size=5, cache_dir=tmp_path, progress=False)
    assert features.shape == (TEXTS, minilm.feature_dim) and features.dtype == np.float32
    np.testing.assert_allclose(features, direct_features(minilm, texts), atol=2e-5)
    (chunk,) = tmp_path.glob("*/[!.]*.npy")  # batches ran longest first, the rows landed in input order
    np.testing.assert_array_equal(np.load(chunk), features)
    assert isinstance(features.base, np.memmap)  # the cache's rows themselves: page cache, not a copy


def test_image_features_from_arrays_paths_and_strings_agree(lite0: Backbone, digits: Dataset, tmp_path: Path) -> None:
    paths = []
    for i, pixels in enumerate(digits.inputs):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(pixels).save(paths[-1])
    reference = direct_features(lite0, list(digits.inputs))
    from_arrays = extract_features(lite0, digits, batch_size=5, cache=False, progress=False)
    from_paths = extract_features(lite0, paths, batch_size=5, cache_dir=tmp_path / "cache", progress=False)
    strings = [str(p) for p in paths]
    from_strings = extract_features(lite0, strings, batch_size=5, cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_allclose(from_arrays, reference, atol=1e-4)
    np.testing.assert_allclose(from_paths, reference, atol=1e-4)
    np.testing.assert_array_equal(from_strings, from_paths)


@pytest.mark.parametrize("counted", ["lite0"], indirect=True)
def test_depth_gives_pooled_output_of_that_group(
    counted: ExampleCounter, lite0: Backbone, images: list[np.ndarray], tmp_path: Path
) -> None:
    inputs = images[:4]
    at_two = extract_features(lite0, inputs, depth=2, cache_dir=tmp_path, progress=False)
    assert at_two.shape == (4, 24)  # Lite0's second MBConv stage has 24 channels
    np.testing.assert_allclose(at_two, direct_features(lite0, inputs, depth=2), atol=1e-4)
    # depth=None and the last group's index are the same features and share one cache entry
    final = extract_features(lite0, inputs, cache_dir=tmp_path, progress=False)
    computed = counted.examples
    last = extract_features(lite0, inputs, depth=lite0.num_groups - 1, cache_dir=tmp_path, progress=False)
    assert counted.examples == computed
    np.testing.assert_array_equal(last, final)


@pytest.mark.parametrize("counted", ["lite0"], indirect=True)
def test_several_depths_come_from_one_pass_and_share_the_cache(
    counted: ExampleCounter, lite0: Backbone, images: list[np.ndarray], tmp_path: Path
) -> None:
    inputs = images[:4]
    by_depth = extract_features_at_depths(lite0, inputs, [1, -1], cache_dir=tmp_path, progress=False)
    assert sorted(by_depth) == [1, lite0.num_groups - 1]
    np.testing.assert_allclose(by_depth[lite0.num_groups - 1], direct_features(lite0, inputs), atol=1e-4)
    np.testing.assert_allclose(by_depth[1], direct_features(lite0, inputs, depth=1), atol=1e-4)
    assert counted.examples == 4 + 2 * 4  # one pass for both depths, then the direct references
    at_one = extract_features(lite0, inputs, depth=1, cache_dir=tmp_path, progress=False)
    assert counted.examples == 4 + 2 * 4
    np.testing.assert_array_equal(at_one, by_depth[1])


@pytest.mark.parametrize("counted", ["minilm"], indirect=True)
def test_second_call_is_served_from_cache(
    counted: ExampleCounter, minilm: Backbone, texts: list[str], tmp_path: Path
) -> None:
    first = extract_features(minilm, texts, cache_dir=tmp_path, progress=False)
    assert counted.examples == TEXTS
    second = extract_features(minilm, texts, cache_dir=tmp_path, progress=False)
    assert counted.examples == TEXTS
    np.testing.assert_array_equal(second, first)


@pytest.mark.parametrize("counted", ["minilm"], indirect=True)
def test_subset_and_superset_reuse_cached_rows(
    counted: ExampleCounter, minilm: Backbone, texts: list[str], tmp_path: Path
) -> None:
    pool = extract_features(minilm, texts[:16], cache_dir=tmp_path, progress=False)
    counted.examples = 0
    few_shot = extract_features(minilm, [texts[i] for i in (9, 2, 14)], cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(few_shot, pool[[9, 2, 14]])
    assert counted.examples == 0
    mixed = texts[12:] + texts[12:14]  # 4 cached, 8 new, 2 repeated
    features = extract_features(minilm, mixed, cache_dir=tmp_path, progress=False)
    assert counted.examples == 8
    np.testing.assert_allclose(features, direct_features(minilm, mixed), atol=2e-5)


@pytest.mark.parametrize("counted", ["lite0"], indirect=True)
def test_cache_key_changes_with_depth_precision_and_preprocessing(
    counted: ExampleCounter, lite0: Backbone, images: list[np.ndarray], tmp_path: Path
) -> None:
    inputs = images[:3]
    extract_features(lite0, inputs, cache_dir=tmp_path, progress=False)
    extract_features(lite0, inputs, depth=-2, cache_dir=tmp_path, progress=False)
    extract_features(lite0, inputs, bf16=True, cache_dir=tmp_path, progress=False)
    assert counted.examples == 9
    stretched = load_backbone("efficientnet-lite0", resize="stretch")
    other = ExampleCounter(stretched)
    extract_features(stretched, inputs, cache_dir=tmp_path, progress=False)
    assert other.examples == 3
    assert len(list(tmp_path.glob("*/key.json"))) == 4


@pytest.mark.parametrize("name,data", [("minilm", "texts"), ("lite0", "images")])
def test_bf16_features_are_close_to_fp32(name: str, data: str, request: pytest.FixtureRequest) -> None:
    backbone, inputs = request.getfixturevalue(name), request.getfixturevalue(data)
    fp32 = extract_features(backbone, inputs, cache=False, progress=False)
    bf16 = extract_features(backbone, inputs, bf16=True, cache=False, progress=False)
    assert bf16.dtype == np.float32
    cosine = (fp32 * bf16).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(bf16, axis=1)
    assert cosine.min() >= 0.99
    assert not np.array_equal(fp32, bf16)


@pytest.mark.parametrize("name,data,depth", [("minilm", "texts", 2), ("lite0", "images", 3)])
@pytest.mark.parametrize("cache", [True, False])
def test_states_continue_to_the_same_features(
    name: str, data: str, depth: int, cache: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backbone, inputs = request.getfixturevalue(name), request.getfixturevalue(data)[:6]
    states = extract_states(backbone, inputs, depth, batch_size=4, cache=cache, cache_dir=tmp_path, progress=False)
    if cache:  # the second call reads the memory-mapped cache
        states = extract_states(backbone, inputs, depth, batch_size=4, cache_dir=tmp_path, progress=False)
    assert len(states) == len(inputs) and all(s.dtype == torch.float32 for s in states)
    with torch.inference_mode():
        features = backbone.pool(backbone.forward_groups(backbone.merge_states(states), depth + 1))
    np.testing.assert_allclose(features.numpy(), direct_features(backbone, inputs), atol=1e-4)


@pytest.mark.parametrize("counted", ["minilm"], indirect=True)
def test_final_features_run_only_the_top_groups_on_cached_states(
    counted: ExampleCounter, minilm: Backbone, texts: list[str], tmp_path: Path
) -> None:
    assert cached_states(minilm, texts, 3, cache_dir=tmp_path) is None  # looking writes nothing
    assert not any(tmp_path.iterdir())
    extract_states(minilm, texts[:16], 3, cache_dir=tmp_path, progress=False)
    assert counted.examples == 16
    assert cached_states(minilm, texts, 3, cache_dir=tmp_path) is None  # 8 of the texts have no states
    features = extract_features(minilm, texts[:16], cache_dir=tmp_path, progress=False)
    assert counted.examples == 16  # groups 4 and up ran on the cached states, the embeddings did not run again
    extract_features(minilm, texts, cache_dir=tmp_path, progress=False)
    assert counted.examples == 16 + 8  # the texts without states ran the whole way
    np.testing.assert_allclose(features, direct_features(minilm, texts[:16]), atol=1e-5)


def test_text_states_are_cut_to_each_text(minilm: Backbone, texts: list[str], tmp_path: Path) -> None:
    states = extract_states(minilm, texts[:6], 0, cache_dir=tmp_path, progress=False)
    assert [len(s) for s in states] == [len(minilm.preprocess([t])["input_ids"][0]) for t in texts[:6]]


@pytest.mark.parametrize("counted", ["lite0"], indirect=True)
def test_crash_mid_extraction_leaves_a_usable_cache(
    counted: ExampleCounter, lite0: Backbone, images: list[np.ndarray], tmp_path: Path
) -> None:
    inputs = images[:6]
    counted.crash_after = 3
    with pytest.raises(KeyboardInterrupt):
        extract_features(lite0, inputs, batch_size=3, cache_dir=tmp_path, progress=False)
    assert [p.name for p in tmp_path.glob("*/*") if p.name != "key.json"] == []  # no chunk, no temp file
    counted.crash_after, counted.examples = None, 0
    features = extract_features(lite0, inputs, batch_size=3, cache_dir=tmp_path, progress=False)
    assert counted.examples == 6
    np.testing.assert_allclose(features, direct_features(lite0, inputs), atol=1e-4)


def test_without_cache_nothing_is_written(
    minilm: Backbone, texts: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    assert default_cache_root() == tmp_path / "features"
    extract_features(minilm, texts[:3], cache=False, progress=False)
    assert not (tmp_path / "features").exists()
    extract_features(minilm, texts[:3], progress=False)
    assert len(list((tmp_path / "features").glob("*/*.npy"))) == 1


def test_modality_mismatch_is_a_data_error(lite0: Backbone, tmp_path: Path) -> None:
    reviews = Dataset(["a fine film"], None, None, "text", name="reviews")
    with pytest.raises(DataError, match="reviews holds text data; text data cannot go through image backbone"):
        extract_features(lite0, reviews, cache_dir=tmp_path)
