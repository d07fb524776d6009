"""Benchmark the kept baseline's ONNX export (``headstart.export.baseline``).

(a) Tokenisation: every rotten_tomatoes and bbc_news text (15,033) split into words by scikit-learn's
    TF-IDF analyzer and by onnxruntime's ``Tokenizer`` op, with headstart's token expression (on
    ``str.lower`` text) and with the one skl2onnx writes by default; texts whose words differ.
(b) skl2onnx's own conversion of the same TF-IDF (its locale set to ``C.UTF-8`` so that it loads on a
    machine without ``en_US``): max |Δprob| against the baseline on the rotten_tomatoes test split.
(c) ``headstart export`` of the kept baseline (``fit_baseline_model``) on four datasets: parity on the
    whole test split (max |Δprob|, label agreement, accuracy) and milliseconds per input of the
    baseline's own ``outputs`` and of the ONNX graph (batches of 32, best of 3).

Runs with OMP_NUM_THREADS=1 and onnxruntime on 1 thread. Writes ``bench/results/export_baseline.json``.

    OMP_NUM_THREADS=1 .venv/bin/python -P bench/export_baseline.py
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from sklearn.feature_extraction.text import TfidfVectorizer

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.export import OnnxModel, export_onnx
from headstart.export.baseline import TOKEN_EXPRESSION
from headstart.select.baseline_model import fit_baseline_model

ROOT = Path(__file__).resolve().parents[1]
SKL2ONNX_DEFAULT = "[a-zA-Z0-9_]+"  # what skl2onnx 1.20 writes for scikit-learn's default token_pattern
RUNS = [("rotten_tomatoes", 200), ("bbc_news", 40), ("digits", 20), ("fsdd", 10)]  # dataset, shots per class


def session(model) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def tokenisation() -> dict:
    analyzer = TfidfVectorizer().build_analyzer()
    texts = [str(t) for name in ("rotten_tomatoes", "bbc_news") for t in load_dataset(name, "all").inputs]
    result = {"texts": len(texts)}
    for label, expression in (("headstart", TOKEN_EXPRESSION), ("skl2onnx_default", SKL2ONNX_DEFAULT)):
        node = helper.make_node("Tokenizer", ["text"], ["tokens"], domain="com.microsoft", mark=0, mincharnum=1,
                                pad_value="#", tokenexp=expression)
        graph = helper.make_graph([node], "tokens", [helper.make_tensor_value_info("text", TensorProto.STRING, [None])],
                                  [helper.make_tensor_value_info("tokens", TensorProto.STRING, None)])
        run = session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                              helper.make_opsetid("com.microsoft", 1)]))
        differ = sum(analyzer(t) != [w for w in run.run(None, {"text": np.array([t.lower()], dtype=object)})[0].ravel()
                                     if w != "#"] for t in texts if t.strip())
        result[label] = {"token_expression": expression, "texts_tokenised_differently": int(differ)}
    return result


def skl2onnx_default(model, test) -> dict:
    """skl2onnx's conversion of the fitted TF-IDF, then the baseline's linear map in numpy."""
    from scipy.special import softmax
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    converted = convert_sklearn(model.vectorizer, initial_types=[("text", StringTensorType([None, 1]))], target_opset=17,
                                options={id(model.vectorizer): {"locale": "C.UTF-8"}})
    run = session(converted)
    texts = [str(t) for t in test.inputs]
    features = np.concatenate([run.run(None, {"text": np.array(texts[i:i + 32], dtype=object).reshape(-1, 1)})[0]
                               for i in range(0, len(texts), 32)])
    probabilities = softmax(features.astype(np.float64) @ model.weight.T + model.bias, axis=1)
    reference = model.outputs(texts)
    return {"examples": len(texts), "max_abs_diff": float(np.abs(probabilities - reference).max()),
            "label_agreement": float((probabilities.argmax(1) == reference.argmax(1)).mean())}


def ms_per_input(outputs, items: list, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(0, len(items), 32):
            outputs(items[i:i + 32])
        times.append(time.perf_counter() - started)
    return 1000 * min(times) / len(items)


def main() -> None:
    results: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.machine(),
                     "tokenisation": tokenisation(), "exports": []}
    print(json.dumps(results["tokenisation"]))
    with tempfile.TemporaryDirectory() as folder:
        for name, shots in RUNS:
            train, test = sample_shots(load_dataset(name, "train"), shots, seed=0), load_dataset(name, "test")
            model = fit_baseline_model(train)
            path = Path(folder) / f"{name}.onnx"
            report = export_onnx(model, path, data=test)
            onnx = OnnxModel(path, threads=1)
            items = list(test.inputs)
            row = {"dataset": name, "shots": shots, "baseline": model.name, "features": model.describe()["features"],
                   **{k: report[k] for k in ("examples", "max_abs_diff", "label_agreement", "accuracy")},
                   "baseline_ms_per_input": ms_per_input(model.outputs, items),
                   "onnx_ms_per_input": ms_per_input(onnx.outputs, items)}
            if name == "rotten_tomatoes":
                row["skl2onnx_default"] = skl2onnx_default(model, test)
            print(json.dumps(row))
            results["exports"].append(row)
    out = ROOT / "bench" / "results" / "export_baseline.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
