"""``headstart demo``: does transfer help on this data? Train four ways on the same few labels,
evaluate on the same held-out examples, and show the numbers side by side.

The four runs: the modality's no-transfer baseline (``headstart.baselines``), ``scratch`` (the
backbone's architecture from random weights), ``probe`` (frozen pre-trained features + a linear
head) and ``finetune`` (the last two layer groups trained too, starting from the probe's head).
The best run is saved as an artifact folder with its HTML report.

>>> result = run_demo("bbc_news", shots=8, quick=True, out="runs/demo")   # doctest: +SKIP
>>> result.best, result.report                                          # doctest: +SKIP
('finetune', PosixPath('runs/demo/report.html'))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich.table import Table

from headstart.errors import HeadstartError
from headstart.report import EVAL_DATA_KEY

if TYPE_CHECKING:
    from headstart.data.dataset import Dataset

DEFAULT_DATASET = "bbc_news"
HELD_OUT = 0.2  # share of the user's own data held out for testing
RUNS = ("scratch", "probe", "finetune")  # in the order they are trained and shown
TRANSFER_RUNS = ("probe", "finetune")
SAVE_PREFERENCE = ("probe", "finetune", "scratch")  # the best run is saved; ties go to the first


@dataclass(frozen=True)
class Budget:
    """How much work the demo does: epochs of the trained runs, optionally a test subset and
    shorter texts (the encoder's cost grows with the number of tokens)."""

    finetune_epochs: int
    scratch_epochs: int
    test_examples: int | None = None  # None: the whole held-out set
    text_max_length: int | None = None  # None: the backbone's own limit

    def recipe(self, method: str, modality: str) -> dict[str, Any]:
        """Recipe options of one run: fine-tune the last 2 layer groups; scratch trains everything."""
        options: dict[str, Any] = {}
        if method == "finetune":
            options = {"unfreeze": 2, "epochs": self.finetune_epochs}
        elif method == "scratch":
            options = {"epochs": self.scratch_epochs}
        from headstart.zoo import input_family

        length_option = input_family(modality).length_option
        if length_option and self.text_max_length:
            options["backbone_options"] = {length_option: self.text_max_length}
        return options


FULL = Budget(finetune_epochs=10, scratch_epochs=3)
QUICK = Budget(finetune_epochs=3, scratch_epochs=1, test_examples=100, text_max_length=128)


@dataclass
class DemoResult:
    """The comparison rows (baseline first), the best run's name and where it was written."""

    rows: list[dict[str, Any]]
    best: str
    artifact: Path
    report: Path
    verdict: str


def run_demo(
    dataset: str = DEFAULT_DATASET,
    *,
    data: str | Path | None = None,
    backbone: str | None = None,
    shots: int = 8,
    seed: int = 0,
    quick: bool = False,
    out: str | Path = "runs/demo",
    text_col: str = "text",
    label_col: str = "label",
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Compare baseline, scratch, probe and finetune on ``shots`` examples per class.

    ``data`` (an image folder or a CSV/TSV/JSONL file) replaces the catalogue ``dataset``; its test
    set is a stratified ``HELD_OUT`` share. ``say`` receives one progress line per run.
    """
    # Imported here, not at the top: they load torch, and `headstart --help` should stay instant.
    import headstart
    from headstart.baselines import fit_baseline
    from headstart.data.splits import sample_shots, stratified_split
    from headstart.report import evaluate_run, write_report
    from headstart.zoo import default_backbone

    budget = QUICK if quick else FULL
    pool, test, test_spec = _split(dataset, data, seed, text_col, label_col)
    if budget.test_examples and len(test) > budget.test_examples:
        test = stratified_split(test, budget.test_examples, seed=seed)[1]
    train = sample_shots(pool, shots, seed=seed)
    backbone = backbone or default_backbone(train.modality)
    if backbone is None:
        raise HeadstartError(f"{train.name}: the demo handles text and images, not {train.modality} data")
    say(f"{train.name}: {len(train)} training examples ({shots} per class), {len(test)} test examples; backbone {backbone}")

    baseline = fit_baseline(train, seed)
    rows = [_row(baseline.name, baseline.evaluate(test), baseline.train_seconds, baseline.trainable_params)]
    say(f"  {baseline.name}: {100 * rows[0]['accuracy']:.1f} %")
    runs = {}
    for method in RUNS:
        fitted = headstart.fit(train, backbone=backbone, method=method, seed=seed, **budget.recipe(method, train.modality))
        evaluation = evaluate_run(fitted, test)
        runs[method] = (fitted, evaluation)
        rows.append(_row(method, evaluation.metrics, fitted.info["train_seconds"], fitted.info["trainable_params"]))
        say(f"  {method}: {100 * rows[-1]['accuracy']:.1f} % ({fitted.info['train_seconds']:.1f} s)")

    best = max(SAVE_PREFERENCE, key=lambda m: _accuracy(rows, m))  # ties go to the cheaper run
    fitted, evaluation = runs[best]
    fitted.info["comparison"] = rows
    if test_spec:
        fitted.info[EVAL_DATA_KEY] = test_spec
    out = Path(out)
    fitted.save(out)
    title = f"{best} on {backbone}: {train.name}, {shots} examples per class"
    report = write_report(fitted, test, out, comparison=rows, title=title, evaluation=evaluation)
    return DemoResult(rows, best, out, report, verdict(rows))


def _split(dataset: str, data: str | Path | None, seed: int, text_col: str, label_col: str) -> tuple[Dataset, Dataset, str | None]:
    """Training pool, test set, and the test set's ``load_data`` spec when one reproduces it."""
    from headstart.data.catalogue import catalogue_names
    from headstart.data.sources import load_data
    from headstart.data.splits import stratified_split

    if data is not None:
        pool, test = stratified_split(load_data(data, text_col=text_col, label_col=label_col), HELD_OUT, seed=seed)
        return pool, test, None
    if dataset not in catalogue_names():
        raise HeadstartError(f"no catalogue dataset {dataset!r}; choose one of {', '.join(catalogue_names())}")
    return load_data(f"{dataset}:train"), load_data(f"{dataset}:test"), f"{dataset}:test"


def _row(method: str, metrics: dict[str, Any], seconds: float, params: int) -> dict[str, Any]:
    return {"method": method, "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "train_seconds": seconds, "trainable_params": params}


def _accuracy(rows: list[dict[str, Any]], method: str) -> float:
    return next(row["accuracy"] for row in rows if row["method"] == method)


def verdict(rows: list[dict[str, Any]]) -> str:
    """One sentence: the best transfer run against the baseline (first row) and scratch, in points."""
    baseline = rows[0]
    best = max(TRANSFER_RUNS, key=lambda m: _accuracy(rows, m))
    accuracy = _accuracy(rows, best)
    over_baseline = 100 * (accuracy - baseline["accuracy"])
    over_scratch = 100 * (accuracy - _accuracy(rows, "scratch"))
    if over_baseline > 0 and over_scratch > 0:
        opening = "Transfer helped"
    elif over_baseline <= 0 and over_scratch <= 0:
        opening = "Transfer did not help"
    elif over_baseline <= 0:
        opening = "Transfer lost to the simple baseline"
    else:
        opening = "Transfer beat the baseline but not training from scratch"
    return (
        f"{opening}: {best} reached {100 * accuracy:.1f} % accuracy, {_points(over_baseline)} the "
        f"{baseline['method']} baseline and {_points(over_scratch)} training from scratch."
    )


def _points(difference: float) -> str:
    if round(difference, 1) == 0:
        return "level with"
    return f"{abs(difference):.1f} points {'above' if difference > 0 else 'below'}"


def comparison_table(rows: list[dict[str, Any]], best: str) -> Table:
    """The rich table the demo prints; the saved (best) run in bold."""
    table = Table(title="Same training examples, same test set")
    for column in ("method", "accuracy", "macro-F1", "training time", "trainable parameters"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for row in rows:
        table.add_row(
            row["method"], f"{100 * row['accuracy']:.1f} %", f"{100 * row['macro_f1']:.1f} %",
            f"{row['train_seconds']:.1f} s", f"{row['trainable_params']:,}", style="bold" if row["method"] == best else None,
        )
    return table
