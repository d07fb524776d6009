"""`headstart fit`, `evaluate` and `predict` in turn, on texts given as arguments and in a file."""

from tests.cli.helpers import run


def test_fit_evaluate_predict_round_trip(reviews, tmp_path):
    out = tmp_path / "run"
    fitted = run("fit", str(reviews), "--backbone", "minilm-l6", "--method", "probe", "--out", str(out), "--no-progress")
    assert "artifact" in fitted.stdout and (out / "config.json").exists()
    evaluated = run("evaluate", str(out), str(reviews), "--json")
    assert '"accuracy"' in evaluated.stdout
    predicted = run("predict", str(out), "A triumph of acting and writing.", "Tedious and painfully long.")
    lines = predicted.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.split("\t")[0] in ("fresh", "rotten") for line in lines)
    from_file = run("predict", str(out), str(reviews))
    assert len(from_file.stdout.strip().splitlines()) == 24
