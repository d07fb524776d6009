"""Label specs: names, descriptions with commas, alternatives, files, and matching data classes."""

import numpy as np
import pytest

from headstart.data.dataset import Dataset
from headstart.errors import DataError, HeadstartError
from headstart.zeroshot.labels import (
    dataset_codes,
    label_prompts,
    parse_labels,
    read_labels_file,
)


def test_names_describe_themselves():
    prompts = parse_labels("positive, negative")
    assert prompts.names == ["positive", "negative"]
    assert prompts.descriptions == [["positive"], ["negative"]]


def test_semicolons_let_descriptions_contain_commas():
    prompts = parse_labels("business=business, economy and finance; tech=technology|computers; sport")
    assert prompts.as_dict() == {
        "business": ["business, economy and finance"],
        "tech": ["technology", "computers"],
        "sport": ["sport"],
    }


def test_mapping_and_list_forms():
    assert label_prompts({"pos": "a glowing review", "neg": ["a scathing review", "a pan"]}).descriptions == [
        ["a glowing review"], ["a scathing review", "a pan"]]
    assert label_prompts(["a", "b"]).names == ["a", "b"]


@pytest.mark.parametrize(
    "spec, message",
    [("only", "at least 2 labels"), ("a,a", "'a' is given more than once"), ("a=,b", "empty description"),
     ("=x,b", "empty name")],
)
def test_bad_specs_are_named(spec, message):
    with pytest.raises(HeadstartError, match=message):
        parse_labels(spec)


def test_labels_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("# sentiment\nfresh=a glowing review, full of praise\n\nrotten=a scathing review\n")
    assert read_labels_file(path).as_dict() == {"fresh": ["a glowing review, full of praise"],
                                                "rotten": ["a scathing review"]}
    with pytest.raises(DataError, match="no such labels file"):
        read_labels_file(tmp_path / "missing.txt")


def test_data_classes_are_matched_by_name_not_position():
    data = Dataset(["x", "y", "z"], np.array([0, 1, 1]), ["fresh", "rotten"], "text", name="reviews")
    assert dataset_codes(data, parse_labels("rotten,fresh,mixed")).tolist() == [1, 0, 0]
    with pytest.raises(HeadstartError, match=r"reviews: classes rotten have no label among fresh, positive"):
        dataset_codes(data, parse_labels("fresh,positive"))
