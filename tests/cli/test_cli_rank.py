"""`headstart rank` as a user runs it."""

import json
from functools import partial

from tests.cli import helpers

run = partial(helpers.run, check=False)  # the tests check the exit status themselves


def test_rank_prints_scores_ranks_and_time():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--shots", "8", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Transferability on bbc_news:train:8-shot (40 examples)" in done.stdout
    assert "minilm-l6" in done.stdout and "n/a" in done.stdout and " s in all" in done.stdout


def test_rank_depth_as_json_suggests_an_unfreeze_depth():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--depth", "--shots", "8", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    table = json.loads(done.stdout)
    assert [row["logme_rank"] for row in table["rows"]] == list(range(1, 8))
    assert table["suggested_unfreeze"] == 0 and table["n_examples"] == 40


def test_rank_errors_are_one_line():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--scores", "logme,nope", "--shots", "2")
    assert done.returncode == 2 and done.stderr.strip().startswith("error: unknown transferability score 'nope'")
