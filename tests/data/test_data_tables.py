"""read_table: CSV, TSV and JSONL, every task, and a one-line error for every bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

from headstart.data import read_table
from headstart.errors import DataError


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_quoted_commas_and_newlines(tmp_path):
    path = write(tmp_path / "reviews.csv", 'text,label\n"Great, really great",pos\n"Dull\nand long",neg\nFine,pos\n')
    ds = read_table(path)
    assert ds.inputs == ["Great, really great", "Dull\nand long", "Fine"]
    assert ds.classes == ["neg", "pos"] and ds.labels.tolist() == [1, 0, 1]
    assert (ds.modality, ds.task, ds.name) == ("text", "classification", "reviews")


def test_tsv_jsonl_and_semicolon_csv_give_the_same_dataset(tmp_path):
    rows = [("a, b", "x"), ("c", "y"), ("d; e", "x")]
    tsv = write(tmp_path / "t.tsv", "text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows))
    jsonl = write(tmp_path / "t.jsonl", "".join(json.dumps({"text": t, "label": l}) + "\n\n" for t, l in rows))
    semicolon = write(tmp_path / "t.csv", 'text;label\n"a, b";x\nc;y\n"d; e";x\n')
    for path in (tsv, jsonl, semicolon):
        ds = read_table(path)
        assert ds.inputs == ["a, b", "c", "d; e"] and ds.labels.tolist() == [0, 1, 0], path.name


def test_byte_order_mark_and_custom_columns(tmp_path):
    path = write(tmp_path / "bom.csv", "\ufeffbody,topic\nhello,7\nworld,10\nagain,2\n".encode("utf-8"))
    ds = read_table(path, text_col="body", label_col="topic")
    assert ds.classes == ["2", "7", "10"]  # integer class names sort as numbers
    assert ds.labels.tolist() == [1, 2, 0]


def test_regression_targets_are_floats(tmp_path):
    ds = read_table(write(tmp_path / "r.csv", "text,label\na,1.5\nb,-2\nc,3e2\n"), task="regression")
    assert ds.labels.dtype == np.float64 and ds.labels.tolist() == [1.5, -2.0, 300.0]
    assert ds.classes is None and ds.task == "regression"


def test_multilabel_is_multi_hot(tmp_path):
    csv_ds = read_table(write(tmp_path / "m.csv", "text,label\na,sport|news\nb,news\nc, tech | sport \n"), task="multilabel")
    assert csv_ds.classes == ["news", "sport", "tech"]
    assert csv_ds.labels.tolist() == [[1, 1, 0], [1, 0, 0], [0, 1, 1]]
    lines = [{"text": "a", "tags": ["x", "y"]}, {"text": "b", "tags": []}, {"text": "c", "tags": "y;x"}]
    jsonl = write(tmp_path / "m.jsonl", "\n".join(map(json.dumps, lines)))
    ds = read_table(jsonl, label_col="tags", task="multilabel", label_sep=";")
    assert ds.labels.tolist() == [[1, 1], [0, 0], [1, 1]]


def test_unlabelled_tables(tmp_path):
    path = write(tmp_path / "u.csv", "text\nfirst\nsecond\n")
    assert read_table(path, label_col=None).labels is None
    assert read_table(path, allow_unlabelled=True).labels is None
    with pytest.raises(DataError, match=r"no label column 'label'; columns are: text \(name the label column with --label-col"):
        read_table(path)


@pytest.mark.parametrize(
    "name, content, options, message",
    [
        ("none.csv", None, {}, r"none\.csv: no such file"),
        ("empty.csv", "", {}, r"empty\.csv: the file is empty"),
        ("blank.jsonl", "\n \n", {}, r"blank\.jsonl: the file is empty"),
        ("header.csv", "text,label\n", {}, r"header\.csv: no rows"),
        ("cols.csv", "body,label\nx,y\n", {}, r"cols\.csv: no text column 'text'; columns are: body, label \(name the text column with --text-col"),
        ("latin1.csv", "text,label\nok,a\ncaf\xe9,b\n".encode("latin-1"), {}, r"latin1\.csv: line 3 is not valid UTF-8 \(byte 0xe9\)"),
        ("notext.csv", "text,label\nok,a\n  ,b\n", {}, r"notext\.csv: row 2 \(line 3\) has an empty text in column 'text'"),
        ("short.csv", "text,label\nok,a\nonly text\n", {}, r"short\.csv: row 2 \(line 3\) has no label in column 'label'"),
        ("null.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": null}\n', {}, r"row 2 \(line 2\) has no label"),
        ("bad.jsonl", '{"text": "a", "label": "x"}\n{"text": \n', {}, r"bad\.jsonl: line 2 is not valid JSON"),
        ("list.jsonl", '["a", "x"]\n', {}, r"list\.jsonl: line 1 is not a JSON object"),
        ("reg.csv", "text,label\na,1\nb,high\n", {"task": "regression"},
         r"reg\.csv: row 2 \(line 3\) has a regression target that is not a finite number: 'high'"),
        ("nan.csv", "text,label\na,nan\n", {"task": "regression"}, r"row 1 \(line 2\) has a regression target that is not a finite number"),
    ],
)
def test_bad_tables_raise_one_line_errors(tmp_path, name, content, options, message):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    with pytest.raises(DataError, match=message) as caught:
        read_table(path, **options)
    assert "\n" not in str(caught.value)
