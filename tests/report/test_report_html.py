"""The HTML report of a real small run: every section, inline figures, PNGs, nothing external."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from headstart.errors import HeadstartError
from headstart.report import evaluate_run, write_report

SECTIONS = (
    "Recipe", "Data", "Learning curves", "Confusion matrix", "Per-class precision, recall and F1",
    "Calibration", "Comparison", "Feature map", "Most confidently wrong",
)
FIGURES = ("learning_curves", "confusion_matrix", "per_class", "reliability", "projection")


def inline_images(page: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(data))) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_report_has_every_section_in_order(written_report):
    page = written_report.path.read_text(encoding="utf-8")
    positions = [page.index(f"<h2>{name}</h2>") for name in SECTIONS]
    assert positions == sorted(positions)
    assert "<title>Digits report</title>" in page


def test_figures_are_inline_and_written_as_png_next_to_the_html(written_report):
    page = written_report.path.read_text(encoding="utf-8")
    for name in FIGURES:
        png = written_report.path.parent / f"{name}.png"
        assert Image.open(png).size[0] > 300
        assert base64.b64encode(png.read_bytes()).decode() in page  # the same figure, inline
    images = inline_images(page)
    thumbnails = [im for im in images if max(im.size) <= 96]
    assert len(images) == len(FIGURES) + len(thumbnails)
    assert 1 <= len(thumbnails) <= 8  # the confidently wrong digits, enlarged from 8x8


def test_report_is_self_contained(written_report):
    page = written_report.path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no network fetches
    assert not re.search(r'src="(?!data:)', page)  # no files needed beside the HTML


def test_numbers_in_the_report_match_an_independent_evaluation(written_report):
    fitted, data = written_report.fitted, written_report.eval_data
    metrics = fitted.evaluate(data)
    page = written_report.path.read_text(encoding="utf-8")
    assert f"Accuracy <b>{100 * metrics['accuracy']:.1f} %</b>" in page
    assert f"macro-F1 <b>{100 * metrics['macro_f1']:.1f} %</b>" in page
    assert f"{len(data):,} examples" in page
    gap = fitted.outputs(data).max(1).mean() - metrics["accuracy"]
    side = ("over", "above") if gap > 0 else ("under", "below")
    assert f"({side[0]}-confident: mean confidence {100 * abs(gap):.1f} points {side[1]} accuracy)" in page
    recall_of_0 = metrics["per_class"]["0"]["recall"]
    assert f"<td>0</td><td>{metrics['per_class']['0']['precision']:.3f}</td><td>{recall_of_0:.3f}</td>" in page


def test_data_section_shows_shots_and_class_counts(written_report):
    page = written_report.path.read_text(encoding="utf-8")
    assert "Trained on 40 examples (4 per class)" in page
    assert page.count('<td class="num">4</td><td class="num">6</td>') == 10  # 4 training, 6 test per digit


def test_comparison_highlights_this_run_and_formats_numbers(written_report):
    page = written_report.path.read_text(encoding="utf-8")
    row = re.search(r'<tr class="this-run">(.*?)</tr>', page).group(1)
    assert "<td>finetune</td>" in row and "55.0 %" in row and "9.0 s" in row and "423,050" in row
    assert "<td>pixels + logistic regression</td>" in page and "91.0 %" in page


def test_projection_shows_domains_when_a_source_is_given(written_report):
    projection = Image.open(written_report.path.parent / "projection.png")
    assert projection.width > 1.6 * projection.height  # two panels: by class and by domain


def test_evaluation_can_be_reused_and_a_probe_report_says_it_has_no_curves(digits_run, tmp_path):
    import headstart

    _, eval_data, _ = digits_run
    probe = headstart.fit("digits:train", backbone="efficientnet-lite0", method="probe", shots=4)
    evaluation = evaluate_run(probe, eval_data)
    assert evaluation.probabilities.shape == (60, 10)
    assert np.allclose(evaluation.probabilities.sum(1), 1, atol=1e-5)
    page = write_report(probe, eval_data, tmp_path, evaluation=evaluation).read_text(encoding="utf-8")
    assert "closed-form fit on cached features: there are no epochs to plot" in page
    assert "No other runs were given to compare with" in page
    assert not (tmp_path / "learning_curves.png").exists()
    projection = Image.open(tmp_path / "projection.png")
    assert projection.width < 1.6 * projection.height  # one panel: no domains


def test_data_with_other_classes_is_refused(digits_run, tmp_path):
    from headstart.data.sources import load_data

    fitted, _, _ = digits_run
    with pytest.raises(HeadstartError, match="differ from the model's"):
        write_report(fitted, load_data("bbc_news:test").subset(range(5)), tmp_path)
