r"""The kept baseline (``BaselineModel``) as one ONNX graph with the neural exports' contract: one
output ``probabilities`` (float32, ``(batch, classes)``), metadata ``OnnxModel`` reads.

    text             text (B, 1) strings -> TF-IDF (skl2onnx) -> softmax(v W^T + b)
    pixels, MFCC     features (B, d) float32 rows -> softmax(x W^T + b)

The TF-IDF part is skl2onnx's term counting (``Tokenizer`` + ``TfIdfVectorizer`` ops) of the stored
vocabulary, then the weighting as scikit-learn computes it. Three departures from skl2onnx's own
conversion make it match scikit-learn (``bench/export_baseline.py``: identical words on all 15,033
rotten_tomatoes and bbc_news texts, where skl2onnx's differ on 11,161; its whole conversion is off
by up to 0.087 in probability): the token expression is the RE2 spelling of scikit-learn's default
``(?u)\b\w\w+\b`` (Unicode word runs of two or more characters; skl2onnx writes ASCII runs of one
or more, which keeps one-letter words and so changes the word pairs); sublinear tf is
``1 + log(tf)`` (skl2onnx: ``log(1 + tf)``); lowercasing is left to the ``text`` preprocessing spec
(Python's ``str.lower``, as scikit-learn does; skl2onnx's ``StringNormalizer`` needs an ``en_US``
locale to load). The fixed features are computed by the ``pixels`` / ``mfcc-stats`` specs with the
functions the baseline itself uses (``headstart.select.baseline_model.FIXED_FEATURES``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.feature_extraction.text import TfidfVectorizer

from headstart.errors import HeadstartError
from headstart.export.graph import OPSET, Output
from headstart.select.baseline_model import BaselineModel

TOKEN_EXPRESSION = r"[\pL\pN_][\pL\pN_]+"  # RE2 for scikit-learn's default (?u)\b\w\w+\b
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
OUTPUT = "probabilities"


def export_baseline(model: BaselineModel, path: Path) -> dict[str, Any]:
    """Write ``model``'s graph to ``path``; return its metadata entries (preprocessing spec,
    outputs, inputs; no backbone)."""
    if model.vectorizer is not None:
        graph_model, spec = tfidf_graph(model.vectorizer), {"kind": "text", "lowercase": bool(model.vectorizer.lowercase)}
    else:
        graph_model, spec = features_graph(model.weight.shape[1]), {"kind": model.fixed}
        if model.fixed == "pixels":
            spec["size"] = model.pixel_side
    graph = graph_model.graph
    graph.initializer.extend([numpy_helper.from_array(model.weight.T.astype(np.float32), "weight"),
                              numpy_helper.from_array(model.bias.astype(np.float32), "bias")])
    graph.node.extend([helper.make_node("MatMul", [graph.output[0].name, "weight"], ["logits_unbiased"]),
                       helper.make_node("Add", ["logits_unbiased", "bias"], ["logits"]),
                       helper.make_node("Softmax", ["logits"], [OUTPUT], axis=1)])
    set_output(graph, OUTPUT, len(model.classes))
    graph.name = model.name
    onnx.checker.check_model(graph_model, full_check=True)
    onnx.save(graph_model, str(path))
    return {"backbone": None, "preprocessing": spec, "outputs": [Output(OUTPUT, model.task, model.classes).__dict__],
            "inputs": [i.name for i in graph.input]}


def tfidf_graph(vectorizer: TfidfVectorizer) -> onnx.ModelProto:
    """``text`` (lowercased outside) -> TF-IDF rows: skl2onnx's term counts, tokenised like
    scikit-learn, then the weighting as scikit-learn computes it (``1 + log(tf)`` for present
    terms, idf, row norm). Refuses settings whose tokenisation was not checked."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    settings = vectorizer.get_params()
    checked = {"analyzer": "word", "token_pattern": SKLEARN_TOKEN_PATTERN, "strip_accents": None, "stop_words": None}
    differing = [f"{k}={settings[k]!r}" for k, v in checked.items() if settings[k] != v]
    if differing:
        raise HeadstartError(f"cannot export a TF-IDF baseline with {', '.join(differing)} to ONNX: only scikit-learn's "
                             "default word tokenisation is reproduced exactly; serve it with `--runtime torch`")
    counter = copy.copy(vectorizer).set_params(lowercase=False, sublinear_tf=False, use_idf=False, norm=None)
    converted = convert_sklearn(counter, initial_types=[("text", StringTensorType([None, 1]))], target_opset=OPSET)
    graph, tf = converted.graph, converted.graph.output[0].name
    # the token expression is set on the node: skl2onnx's tokenexp option walks every vocabulary entry (11 s on BBC News)
    (tokenizer,) = [node for node in graph.node if node.op_type == "Tokenizer"]
    for attribute in [a for a in tokenizer.attribute if a.name in ("tokenexp", "separators")]:
        tokenizer.attribute.remove(attribute)
    tokenizer.attribute.append(helper.make_attribute("tokenexp", TOKEN_EXPRESSION))
    if vectorizer.sublinear_tf:  # log(max(tf, 1)) + sign(tf): 1 + log(tf) where tf > 0, else 0
        graph.initializer.append(numpy_helper.from_array(np.ones(1, np.float32), "one"))
        graph.node.extend([helper.make_node("Max", [tf, "one"], ["tf_at_least_1"]),
                           helper.make_node("Log", ["tf_at_least_1"], ["log_tf"]),
                           helper.make_node("Sign", [tf], ["present"]),
                           helper.make_node("Add", ["log_tf", "present"], ["sublinear_tf"])])
        tf = "sublinear_tf"
    if vectorizer.use_idf:
        graph.initializer.append(numpy_helper.from_array(vectorizer.idf_.astype(np.float32), "idf"))
        graph.node.append(helper.make_node("Mul", [tf, "idf"], ["tfidf"]))
        tf = "tfidf"
    if vectorizer.norm is not None:
        graph.node.append(helper.make_node("Normalizer", [tf], ["normalised"], domain="ai.onnx.ml",
                                           norm=vectorizer.norm.upper()))
        if "ai.onnx.ml" not in {o.domain for o in converted.opset_import}:
            converted.opset_import.append(helper.make_opsetid("ai.onnx.ml", 1))
        tf = "normalised"
    set_output(graph, tf, len(vectorizer.idf_))
    return converted


def features_graph(width: int) -> onnx.ModelProto:
    """A graph whose input ``features`` (float32 rows of ``width`` values) is its output."""
    features = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", width])
    return helper.make_model(helper.make_graph([], "baseline", [features], [features]),
                             opset_imports=[helper.make_opsetid("", OPSET)])


def set_output(graph: onnx.GraphProto, name: str, width: int) -> None:
    """Make ``name`` (float32, ``(batch, width)``) the graph's only output."""
    graph.output.pop()
    graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", width]))
