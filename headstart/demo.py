"""``headstart demo``: does transfer help on this data? Train four ways on the same few labels,
evaluate on the same held-out examples, and show the numbers side by side.

The four runs: the modality's no-transfer baseline (``headstart.baselines``), ``scratch`` (the
backbone family's small architecture from random weights, its own learning rate, early-stopped),
``probe`` (frozen pre-trained features + a linear head) and ``finetune`` (the last two layer groups
trained too, starting from the probe's head). All train on the same K examples per class and
validate on K more from the rest of the pool. The verdict compares the best transfer run with each
control by a paired bootstrap over the test set (``headstart.significance``) and does not count a
control that learnt nothing (one class predicted, or accuracy at the majority-class rate). The
best run is saved as an artifact folder with its HTML report. The backbone's groups that the
fine-tune keeps frozen run once over every example, before the probe (``cache_prefix``).

>>> result = run_demo("bbc_news", shots=8, quick=True, out="runs/demo")   # doctest: +SKIP
>>> result.best, result.report                                          # doctest: +SKIP
('finetune', PosixPath('runs/demo/report.html'))
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich import box
from rich.markup import escape
from rich.table import Table

from headstart.errors import HeadstartError
from headstart.report import EVAL_DATA_KEY
from headstart.significance import Difference, collapse, paired_difference

if TYPE_CHECKING:
    from headstart.data.dataset import Dataset

DEFAULT_DATASET = "bbc_news"
HELD_OUT = 0.2  # share of the user's own data held out for testing
RUNS = ("probe", "scratch", "finetune")  # in the order they are trained
SHOWN = ("scratch", "probe", "finetune")  # in the order they are shown, after the baseline
TRANSFER_RUNS = ("probe", "finetune")
SAVE_PREFERENCE = ("probe", "finetune", "scratch")  # the best run is saved; ties go to the first
DIFFERENCE = "best transfer - this [95 % CI]"  # the rows' key of the paired bootstrap interval
NOTE = "note"  # the rows' key of why a run counts for nothing (collapse)


@dataclass(frozen=True)
class Budget:
    """How much work the demo does: epochs of the trained runs, optionally a test subset and
    shorter texts (the encoder's cost grows with the number of tokens), and the seconds each run
    took on the default dataset (``reference_examples`` training, validation and test examples,
    2 CPU cores), from which the demo announces how long a run should take."""

    finetune_epochs: int
    scratch_epochs: int | None  # None: enough for about 150 optimiser steps, early-stopped
    expected_seconds: dict[str, float]
    reference_examples: int
    test_examples: int | None = None  # None: the whole held-out set
    text_max_length: int | None = None  # None: the backbone's own limit

    def recipe(self, method: str, modality: str) -> dict[str, Any]:
        """Recipe options of one run: fine-tune the last 2 layer groups; scratch trains the small architecture."""
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

    def expected(self, method: str, examples: int) -> float:
        """Seconds ``method`` should take on ``examples`` examples, scaled from the measured reference."""
        return self.expected_seconds[method] * examples / self.reference_examples


# Seconds per run on bbc_news, seed 0, 2 CPU cores, features not yet cached (bench/demo_speed.py: the
# whole full demo 75-89 s; the probe's step includes the frozen-prefix pass over every example).
FULL = Budget(finetune_epochs=6, scratch_epochs=None, reference_examples=80 + 445,
              expected_seconds={"baseline": 5, "probe": 30, "scratch": 12, "finetune": 35})
# --quick: 3 epochs, 128 tokens, 100 test articles (measured as above before the prefix pass: about a minute).
QUICK = Budget(finetune_epochs=3, scratch_epochs=None, reference_examples=80 + 100, test_examples=100, text_max_length=128,
               expected_seconds={"baseline": 5, "probe": 15, "scratch": 15, "finetune": 20})


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
    progress: bool = False,
    say: Callable[[str], None] = print,
    budget: Budget | None = None,
) -> DemoResult:
    """Compare baseline, scratch, probe and finetune on ``shots`` examples per class.

    ``data`` (an image folder or a CSV/TSV/JSONL file) replaces the catalogue ``dataset``; its test
    set is a stratified ``HELD_OUT`` share. ``say`` receives one line per run before it starts (with
    its expected duration) and one with its result; ``progress`` shows bars inside each run.
    ``budget`` replaces the ``FULL`` (or, with ``quick``, ``QUICK``) budget.
    """
    # Imported here, not at the top: they load torch, and `headstart --help` should stay instant.
    import headstart
    from headstart.data.splits import few_shot_split, stratified_split
    from headstart.report import evaluate_run, write_report
    from headstart.select.baseline_model import fit_baseline_model
    from headstart.zoo import default_backbone

    budget = budget or (QUICK if quick else FULL)
    pool, test, test_spec = _split(dataset, data, seed, text_col, label_col)
    if budget.test_examples and len(test) > budget.test_examples:
        test = stratified_split(test, budget.test_examples, seed=seed)[1]
    train, val, _ = few_shot_split(pool, shots, seed=seed)
    backbone = backbone or default_backbone(train.modality)
    if backbone is None:
        raise HeadstartError(f"{train.name}: the demo handles text and images, not {train.modality} data")
    validated = f"validated on {len(val)}" if val is not None else "no validation data"
    say(f"{train.name}: {len(train)} training examples ({shots} per class), {validated}, {len(test)} test examples; backbone {backbone}")
    examples = len(train) + (len(val) if val is not None else 0) + len(test)

    def announce(step: int, method: str) -> float:
        say(f"[{step}/4] {method}: expected about {_duration(budget.expected(method, examples))} …")
        return time.perf_counter()

    def done(row: dict[str, Any], started: float) -> None:
        say(f"      {row['method']}: {100 * row['accuracy']:.1f} % (trained in {row['train_seconds']:.1f} s, "
            f"{_duration(time.perf_counter() - started)} with evaluation)")

    started = announce(1, "baseline")
    baseline = fit_baseline_model(train, seed)
    evaluations = {baseline.name: evaluate_run(baseline, test)}
    rows = [_row(baseline.name, evaluations[baseline.name].metrics, baseline.info["train_seconds"], baseline.info["trainable_params"])]
    done(rows[0], started)
    runs = {}
    for step, method in enumerate(RUNS, 2):
        started = announce(step, method)
        if method == "probe":
            cache_prefix(backbone, budget.recipe("finetune", train.modality), [train, val, test], progress)
        fitted = headstart.fit(train, backbone=backbone, method=method, val=val, seed=seed, progress=progress,
                               **budget.recipe(method, train.modality))
        evaluation = evaluate_run(fitted, test, progress=progress)
        runs[method], evaluations[method] = fitted, evaluation
        rows.append(_row(method, evaluation.metrics, fitted.info["train_seconds"], fitted.info["trainable_params"]))
        done(rows[-1], started)
    rows = [rows[0], *sorted(rows[1:], key=lambda row: SHOWN.index(row["method"]))]

    differences = compare(rows, evaluations, seed)
    best = max(SAVE_PREFERENCE, key=lambda m: _accuracy(rows, m))  # ties go to the cheaper run
    fitted, evaluation = runs[best], evaluations[best]
    fitted.info["comparison"] = rows
    if test_spec:
        fitted.info[EVAL_DATA_KEY] = test_spec
    out = Path(out)
    fitted.save(out)
    sentence = verdict(rows, differences, len(test))
    title = f"{best} on {backbone}: {train.name}, {shots} examples per class"
    report = write_report(fitted, test, out, comparison=rows, title=title, evaluation=evaluation, note=sentence)
    return DemoResult(rows, best, out, report, sentence)


def cache_prefix(backbone: str, finetune: dict[str, Any], datasets: list[Dataset | None], progress: bool) -> None:
    """Run the groups that fine-tuning keeps frozen once over all the demo's examples (cached on
    disk): the probe's features, the fine-tune's epochs and its evaluation then run only the top
    groups on those states (``headstart.features``)."""
    from headstart.features import extract_states
    from headstart.methods import get_method
    from headstart.recipe import Recipe
    from headstart.zoo import load_backbone

    recipe = Recipe.build(method="finetune", backbone=backbone, **finetune)
    net = load_backbone(backbone, **recipe.backbone_options)
    start = get_method("finetune")(recipe).first_trainable(net.num_groups)
    if start > 0:
        extract_states(net, [x for data in datasets if data is not None for x in data.inputs], start - 1, progress=progress)


def compare(rows: list[dict[str, Any]], evaluations: dict[str, Any], seed: int = 0) -> dict[str, Difference]:
    """Mark the rows of collapsed runs (``NOTE``) and, for each control (baseline, scratch), add the
    paired bootstrap interval of the best transfer run's accuracy minus its own (``DIFFERENCE``);
    return those differences by method."""
    best = max(TRANSFER_RUNS, key=lambda m: _accuracy(rows, m))
    correct = {method: evaluation.predicted == evaluation.labels for method, evaluation in evaluations.items()}
    differences = {}
    for row in rows:
        evaluation = evaluations[row["method"]]
        row[NOTE] = collapse(evaluation.predicted, evaluation.labels)
        if row["method"] not in TRANSFER_RUNS:
            difference = paired_difference(correct[best], correct[row["method"]], seed=seed)
            differences[row["method"]] = difference
            row[DIFFERENCE] = f"{100 * difference.value:+.1f} [{100 * difference.low:+.1f}, {100 * difference.high:+.1f}]"
    return differences


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


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def verdict(rows: list[dict[str, Any]], differences: dict[str, Difference], n_test: int) -> str:
    """The best transfer run against each control that learnt something (the baseline, first row,
    and scratch), in points with their 95 % intervals; controls that collapsed are named as such."""
    best = max(TRANSFER_RUNS, key=lambda m: _accuracy(rows, m))
    best_row = next(row for row in rows if row["method"] == best)
    if best_row.get(NOTE):
        return f"Transfer did not learn: {best} is {best_row[NOTE]} on the {n_test} test examples."
    controls = [row for row in rows if row["method"] not in TRANSFER_RUNS]
    valid = [row for row in controls if not row.get(NOTE)]
    parts = [f"{_points(differences[row['method']], _name(row, rows))}" for row in valid]
    won = [row for row in valid if differences[row["method"]].significant and differences[row["method"]].value > 0]
    lost = [row for row in valid if differences[row["method"]].significant and differences[row["method"]].value < 0]
    unsure = [row for row in valid if not differences[row["method"]].significant]
    if not valid:
        opening = "No evidence either way: every control failed to learn"
    elif lost:
        opening = f"Transfer lost to {_names(lost, rows)}"
    elif not unsure:
        opening = "Transfer helped"
    elif won:
        opening = f"Transfer beat {_names(won, rows)}, not clearly {_names(unsure, rows)}"
    else:
        opening = "No significant difference"
    sentence = f"{opening}: {best} reached {100 * best_row['accuracy']:.1f} % accuracy"
    sentence += f", {' and '.join(parts)}" if parts else ""
    if unsure:
        sentence += (f"; with {n_test} test examples the difference from {_names(unsure, rows)} "
                     "is not significant (its interval contains 0)")
    for row in controls:
        if row.get(NOTE):
            sentence += f"; {_name(row, rows)} does not count, it is {row[NOTE]}"
    return sentence + "."


def _points(difference: Difference, against: str) -> str:
    interval = f"(95 % CI {100 * difference.low:+.1f} to {100 * difference.high:+.1f})"
    if round(100 * difference.value, 1) == 0:
        return f"level with {against} {interval}"
    return f"{abs(100 * difference.value):.1f} points {'above' if difference.value > 0 else 'below'} {against} {interval}"


def _name(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    return f"the {row['method']} baseline" if row is rows[0] else "training from scratch"


def _names(chosen: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    return " and ".join(_name(row, rows) for row in chosen)


def comparison_table(rows: list[dict[str, Any]], best: str) -> Table:
    """The rich table the demo prints (the saved, best run in bold); readable at 80 columns."""
    table = Table(title="Same training examples, same test set", box=box.SIMPLE_HEAD)
    columns = {"method": "method", "accuracy": "accuracy", "macro_f1": "macro-F1", DIFFERENCE: "best − this, 95 % CI",
               "train_seconds": "time", "trainable_params": "params"}
    for key, header in columns.items():
        table.add_column(header, justify="left" if key == "method" else "right", overflow="fold", no_wrap=key != "method")
    for row in rows:
        table.add_row(
            escape(row["method"]), f"{100 * row['accuracy']:.1f} %", f"{100 * row['macro_f1']:.1f} %", row.get(DIFFERENCE) or "",
            f"{row['train_seconds']:.1f} s", _millions(row["trainable_params"]), style="bold" if row["method"] == best else None,
        )
    notes = [f"{row['method']}: {row[NOTE]}" for row in rows if row.get(NOTE)]
    if notes:
        table.caption, table.caption_justify = escape("; ".join(notes)), "left"
    return table


def _millions(params: int) -> str:
    return f"{params / 1e6:.2f} M" if params >= 10_000 else f"{params:,}"
