"""``headstart zeroshot DATA --labels ...``: classify without training examples."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import TEXT_COL, print_metrics, print_predictions
from headstart.errors import HeadstartError


def zeroshot(
    data: str = typer.Argument(..., help="CSV/TSV/JSONL file of texts (labelled or not), a .txt file "
                               "(one text a line), a folder of images (one sub-folder per class) or a catalogue name."),
    labels: Optional[str] = typer.Option(
        None, help="Labels, 'a,b' or with descriptions 'a=a glowing review,b=a scathing review' "
        "('|' between alternative descriptions; ';' between items lets descriptions hold commas); "
        "default: the data's class names."
    ),
    labels_file: Optional[Path] = typer.Option(None, help="A file with one label a line: name or name=description."),
    backbone: str = typer.Option("minilm-l6", help="Text backbone (see `headstart backbones`) or a local model folder; "
                                 "for images a local CLIP folder."),
    template: list[str] = typer.Option([], help="Prompt template with {} for the description (repeatable); "
                                       "default: a built-in set, averaged."),
    temperature: Optional[float] = typer.Option(None, help="Softmax temperature of the cosine scores (default 0.05)."),
    text_col: str = TEXT_COL,
    label_col: str = typer.Option("label", help="Label column; when the file has it, accuracy and macro-F1 are printed."),
    json_out: bool = typer.Option(False, "--json", help="Unlabelled data: print the predictions as JSON instead of CSV."),
) -> None:
    """Classify texts by their similarity to label descriptions; no training examples needed.

    Prints accuracy, macro-F1 and a per-class report when DATA has labels (the label names must
    be the data's class names), and otherwise one prediction per input as CSV (input, label,
    probability), as `headstart predict` writes them.

    Example: headstart zeroshot bbc_news:test --labels "business=business and finance,entertainment,politics,sports,tech"
    """
    from headstart.data.sources import load_data
    from headstart.zeroshot.classifier import (
        require_embeddable,
        zeroshot_evaluate,
        zeroshot_model,
    )
    from headstart.zeroshot.labels import (
        dataset_codes,
        label_prompts,
        parse_labels,
        read_labels_file,
    )

    if labels is not None and labels_file is not None:
        raise HeadstartError("give the labels with --labels or with --labels-file, not both")
    dataset = load_data(data, text_col=text_col, label_col=label_col, allow_unlabelled=True)
    require_embeddable(dataset, backbone)
    if labels is not None:
        prompts = parse_labels(labels)
    elif labels_file is not None:
        prompts = read_labels_file(labels_file)
    elif dataset.is_labelled:
        prompts = label_prompts(dataset.classes or [], source=str(data))
    else:
        raise HeadstartError(f"{data}: the data has no labels to take names from; give --labels or --labels-file")
    if dataset.is_labelled:
        dataset_codes(dataset, prompts)  # fail on unmatched class names before embedding anything
    model = zeroshot_model(prompts, backbone, template or None, temperature=temperature)
    if dataset.is_labelled:
        print_metrics(zeroshot_evaluate(model, dataset), f"{data} (zero-shot)")
        return
    print_predictions([str(x) for x in dataset.inputs], model.predict(dataset), model.task, json_out)
