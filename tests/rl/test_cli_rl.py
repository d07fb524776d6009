"""``headstart rl pretrain | transfer | evaluate`` on CartPole with tiny budgets, as a user runs them."""

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import headstart
from headstart.cli import app, main


def test_pretrain_transfer_evaluate(tmp_path):
    sim, real = str(tmp_path / "sim"), str(tmp_path / "real")
    done = CliRunner().invoke(app, ["rl", "pretrain", "--env", "CartPole-v1", "--randomize", "pole_length=0.3:0.7",
                                    "--steps", "1024", "--episodes", "3", "--out", sim, "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "trained 1024 steps" in done.output and "pole_length~U(0.3, 0.7)" in done.output
    done = CliRunner().invoke(app, ["rl", "transfer", sim, "--env", "CartPole-v1", "--set", "pole_length=1.2",
                                    "--steps", "1024", "--episodes", "2", "--method", "finetune", "--out", real,
                                    "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "finetune" in done.output and "scratch" in done.output and "after 1024 target steps" in done.output
    config = json.loads((tmp_path / "real" / "config.json").read_text())
    assert config["info"]["method"] == "finetune" and config["dynamics"]["set"] == {"pole_length": 1.2}
    assert config["info"]["source"]["dynamics"]["randomize"] == {"pole_length": [0.3, 0.7]}
    assert [s for s, _ in config["info"]["curve"]] == [s for s, _ in config["info"]["guard"]["scratch_curve"]]
    page = (tmp_path / "real" / "report.html").read_text()
    assert "finetune" in page and "scratch" in page and "pole_length" in page and "U(0.3, 0.7)" in page
    assert "data:image/png;base64," in page and ("negative transfer" in page or "no negative transfer" in page)
    (tmp_path / "real" / "report.html").unlink()
    done = CliRunner().invoke(app, ["rl", "report", real])
    assert done.exit_code == 0 and (tmp_path / "real" / "report.html").exists(), done.output
    done = CliRunner().invoke(app, ["rl", "evaluate", real, "--episodes", "4", "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["episodes"] == 4 and 8 <= result["min"] <= result["mean"] <= result["max"] <= 500
    assert result["dynamics"] == "CartPole-v1 (pole_length=1.2)"
    assert headstart.load(real).predict(np.zeros((1, 4), "float32")).shape == (1,)


@pytest.mark.parametrize("args, message", [
    (["pretrain", "--env", "CartPole-v1", "--set", "pole_lenght=1.2"], "has no parameter 'pole_lenght' (did you mean 'pole_length'?)"),
    (["pretrain", "--env", "Pendulm-v1"], "unknown environment 'Pendulm-v1' (did you mean 'Pendulum-v1'?)"),
    (["evaluate", "."], "not a headstart artifact"),
])
def test_bad_names_are_one_line_and_exit_status_2(args, message, tmp_path, monkeypatch, capsys):
    out = ["--out", str(tmp_path / "run")] if args[0] == "pretrain" else []
    monkeypatch.setattr(sys, "argv", ["headstart", "rl", *args, *out])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and message in error and len(error.splitlines()) == 1


def test_every_method_over_seeds_in_one_report(tmp_path):
    sim, real = str(tmp_path / "sim"), str(tmp_path / "real")
    done = CliRunner().invoke(app, ["rl", "pretrain", "--env", "CartPole-v1", "--steps", "512", "--episodes", "2",
                                    "--out", sim, "--no-progress"])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(app, ["rl", "transfer", sim, "--set", "pole_length=1.2", "--steps", "512", "--episodes", "2",
                                    "--method", "finetune", "--compare", "zeroshot", "--seeds", "2", "--out", real,
                                    "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "mean of 2 seeds" in " ".join(done.output.split()) and "zeroshot" in done.output
    info = json.loads((tmp_path / "real" / "config.json").read_text())["info"]
    runs = info["seed_curves"]["runs"]
    assert info["seed_curves"]["seeds"] == [0, 1] and sorted(runs) == ["finetune", "scratch", "zeroshot"]
    assert all(len(curves) == 2 for curves in runs.values()) and len(runs["zeroshot"][0]) == 1
    first = [np.mean([c[i][1] for c in runs["finetune"]]) for i in range(len(info["curve"]))]
    np.testing.assert_allclose([r for _, r in info["curve"]], first)  # the saved curve is the mean over seeds
    page = (tmp_path / "real" / "report.html").read_text()
    assert "<td>zeroshot</td>" in page and "<td>scratch</td>" in page and "<td>finetune</td>" in page
    bad = CliRunner().invoke(app, ["rl", "transfer", sim, "--compare", "finetun", "--out", str(tmp_path / "x")])
    assert "did you mean 'finetune'" in str(bad.exception)  # main() prints it in one line, exit code 2
