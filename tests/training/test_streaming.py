"""A fine-tune reads its rows from the on-disk cache batch by batch (memory-mapped), and trains
exactly as it would from rows held in memory."""

from functools import partial
from pathlib import Path

import torch
from short_texts import TEXT_OPTIONS

from headstart.api import fit
from headstart.features import extract_states
from headstart.training import data as training_data
from headstart.training.data import Rows
from headstart.zoo import load_backbone

RUN = dict(backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, batch_size=4, val_fraction=0.0, seed=5, **TEXT_OPTIONS)


def mapped_files(pointers: list[int]) -> set[str]:
    """The files whose memory maps hold these addresses (``/proc/self/maps``)."""
    spans = []
    with open("/proc/self/maps") as fh:
        for line in fh:
            fields = line.split()
            low, high = (int(x, 16) for x in fields[0].split("-"))
            spans.append((low, high, fields[5] if len(fields) > 5 else ""))
    return {next((name for low, high, name in spans if low <= p < high), "") for p in pointers}


def test_a_fine_tune_streams_its_rows_from_the_cache_and_trains_as_from_memory(reviews, tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    seen: list[Rows] = []
    original = Rows.of
    monkeypatch.setattr(Rows, "of", classmethod(lambda cls, *args, **kwargs: seen.append(original(*args, **kwargs)) or seen[-1]))
    streamed = fit(reviews, **RUN)
    (rows,) = seen
    assert rows.kind == "states" and len(rows) == len(reviews)
    files = mapped_files([state.data_ptr() for state in rows.items])
    assert len(files) == 1 and Path(files.pop()).parent.parent == tmp_path / "features"  # one cache chunk, not a copy

    monkeypatch.setattr(training_data, "extract_states", partial(extract_states, cache=False))  # computed, held in memory
    seen.clear()
    in_memory = fit(reviews, **RUN)
    assert not mapped_files([state.data_ptr() for state in seen[0].items]) & {str(p) for p in tmp_path.rglob("*.npy")}
    trained = [streamed.method.changed_state(streamed.model), in_memory.method.changed_state(in_memory.model)]
    assert trained[0].keys() == trained[1].keys() and any("groups" in k for k in trained[0])
    assert all(torch.equal(trained[0][k], trained[1][k]) for k in trained[0])
    pretrained = load_backbone("minilm-l6", **TEXT_OPTIONS["backbone_options"]).state_dict()
    moved = [k for k in trained[0] if k.startswith("backbone.") and not torch.equal(trained[0][k], pretrained[k.removeprefix("backbone.")])]
    assert moved  # the top group did train


def test_a_random_head_depends_on_the_seed_alone(reviews):
    def head(seed: int) -> dict[str, torch.Tensor]:
        model = fit(reviews, **(RUN | {"seed": seed, "head_init": "random"}))
        return model.model.head.state_dict()

    first, again, other = head(0), head(0), head(1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["weight"], other["weight"])
