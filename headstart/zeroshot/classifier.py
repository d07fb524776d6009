r"""Zero-shot classification: compare an input's embedding with embeddings of label descriptions.

Label descriptions are embedded by the backbone's text tower (``Backbone.text_tower``): a text
backbone embeds them itself, an image-text backbone (a local CLIP folder) with its text side.
Label ``c`` with descriptions :math:`D_c`, rendered through templates :math:`T` ("This review is
{}.", ...; the tower's own prompts, e.g. CLIP's "a photo of a {}.", when it has them), is embedded
as the normalised mean of the normalised prompt embeddings

.. math:: e_c = \mathrm{normalize}\Big(\sum_{t \in T,\, d \in D_c} \mathrm{normalize}(g(t(d)))\Big),

and an input ``x`` scores the cosine :math:`s_c(x) = \cos(f(x), e_c)`. Scores become probabilities
:math:`p = \mathrm{softmax}(s / \tau)`. The default :math:`\tau` is the inverse of the logit scale
that the tower's contrastive training multiplied cosines by: CLIP's own, or for text encoders
0.05, the scale (20) with which sentence-transformers trains them (all-MiniLM-L6-v2 among them);
on BBC News topics and Rotten Tomatoes sentiment the likelihood-optimal temperatures (about 0.03
and 0.09) lie on either side of it. Given a few dozen labelled examples, ``fit_temperature``
picks :math:`\tau` by maximum likelihood instead.

The classifier is a linear head :math:`W = E / \tau`, :math:`b = 0` on the backbone's features, so
a zero-shot model is an ordinary probe artifact (``save``, ``headstart.load``, ``predict``) and the
starting point of the few-shot bridge (``headstart.zeroshot.fewshot``). For a backbone that does
not L2-normalise its features, :math:`E` is divided by the mean norm ``m`` of the prompts' raw
embeddings, so that :math:`x \cdot e_c / m \approx \cos(x, e_c)` for inputs of typical norm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from torch import nn

from headstart.data.dataset import Dataset
from headstart.data.readers import require_labels
from headstart.errors import DataError, HeadstartError
from headstart.features import extract_features
from headstart.fitted import Inputs, Prediction, Transferred
from headstart.methods import get_method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.zeroshot.labels import LabelPrompts, Labels, dataset_codes, label_prompts
from headstart.zoo import Backbone, backbone_family, load_backbone

DEFAULT_TEMPLATES = ("{}", "This text is {}.", "A {} text.", "This review is {}.", "This article is about {}.")
DEFAULT_TEMPERATURE = 0.05
TEMPERATURE_RANGE = (1e-3, 1.0)  # bounds of the maximum-likelihood search


def label_embeddings(backbone: Backbone, prompts: LabelPrompts, templates: Sequence[str] | None = None) -> np.ndarray:
    """``(classes, dim)``: the unit vectors :math:`e_c`, divided by the prompts' mean feature norm."""
    tower = backbone.text_tower()
    templates = checked_templates(templates or tower.templates)
    texts = [t.replace("{}", d) for descriptions in prompts.descriptions for d in descriptions for t in templates]
    raw = extract_features(tower.backbone, texts, progress=False).astype(np.float64)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    unit = raw / np.maximum(norms, 1e-12)
    counts = [len(d) * len(templates) for d in prompts.descriptions]
    sums = np.add.reduceat(unit, np.cumsum([0, *counts[:-1]]), axis=0)
    return sums / np.linalg.norm(sums, axis=1, keepdims=True) / norms.mean()


def fit_temperature(similarities: np.ndarray, codes: np.ndarray) -> float:
    r"""The :math:`\tau` maximising :math:`\sum_i \log \mathrm{softmax}(s_i / \tau)_{y_i}` (1-D, bounded).

    One parameter, so a few dozen examples suffice; with a handful it can run to a bound (a
    perfectly separated sample wants :math:`\tau \to 0`), so keep the default there.
    """
    if len(codes) == 0:
        raise HeadstartError("fitting the temperature needs labelled examples")
    rows = np.arange(len(codes))

    def nll(log_tau: float) -> float:
        return -float(log_softmax(similarities / np.exp(log_tau), axis=1)[rows, codes].mean())

    low, high = np.log(TEMPERATURE_RANGE)
    return float(np.exp(minimize_scalar(nll, bounds=(low, high), method="bounded").x))


def zeroshot_model(
    labels: Labels | LabelPrompts,
    backbone: str | Backbone = "minilm-l6",
    templates: Sequence[str] | None = None,
    *,
    temperature: float | None = None,
    calibration: Dataset | None = None,
) -> Transferred:
    """A zero-shot classifier as a probe-format ``Transferred`` (``predict``, ``save``, ``headstart.load``).

    ``backbone`` is a text backbone or an image-text one (a local CLIP folder) for images.
    ``temperature`` defaults to the inverse of the backbone's logit scale (``DEFAULT_TEMPERATURE``
    for text encoders), or to ``fit_temperature`` on the labelled ``calibration`` examples when
    given (their class names must be among the labels).
    """
    prompts, net = label_prompts(labels), resolve_backbone(backbone)
    tower = net.text_tower()
    templates = checked_templates(templates or tower.templates)
    embeddings = label_embeddings(net, prompts, templates)
    if temperature is None and calibration is not None:
        require_labels(calibration, min_classes=1)
        codes = dataset_codes(calibration, prompts)
        temperature = fit_temperature(extract_features(net, calibration, progress=False) @ embeddings.T, codes)
    if temperature is None:
        temperature = DEFAULT_TEMPERATURE if tower.logit_scale is None else 1 / tower.logit_scale
    if temperature <= 0:
        raise HeadstartError(f"the temperature must be positive, got {temperature}")
    head = nn.Linear(net.feature_dim, len(prompts.names))
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(embeddings / temperature))
        head.bias.zero_()
    info = {
        "n_train": 0 if calibration is None else len(calibration),
        "zeroshot": {
            "labels": prompts.as_dict(),
            "templates": templates,
            "temperature": temperature,
        },
    }
    return probe_model(net, head, prompts.names, info)


def zeroshot_classify(
    texts_or_dataset: Inputs,
    labels: Labels | LabelPrompts,
    backbone: str | Backbone = "minilm-l6",
    templates: Sequence[str] | None = None,
    *,
    temperature: float | None = None,
    calibration: Dataset | None = None,
) -> Prediction:
    """Label names and calibrated probabilities ``(n, labels)`` for texts (or, with an image-text
    backbone, images), without training examples.

    >>> zeroshot_classify(["The striker scored twice"], ["sport", "politics"]).labels
    ['sport']
    """
    model = zeroshot_model(labels, backbone, templates, temperature=temperature, calibration=calibration)
    return model.predict(texts_or_dataset)


def zeroshot_evaluate(model: Transferred, dataset: Dataset) -> dict[str, Any]:
    """Accuracy, macro-F1 and a per-class report, matching the data's classes to the labels by name."""
    from headstart import tasks

    require_labels(dataset, min_classes=1)
    codes = dataset_codes(dataset, label_prompts(model.classes or []))
    return tasks.evaluate("classification", model.outputs(dataset), codes, model.classes)


def require_embeddable(data: Dataset, backbone: str | Path | Backbone) -> None:
    """Refuse, before any label is embedded, data of another input kind than ``backbone``'s."""
    modality = backbone.modality if isinstance(backbone, Backbone) else backbone_family(backbone).modality
    try:
        data.require_modality(modality)
    except DataError:
        name = backbone.name if isinstance(backbone, Backbone) else backbone
        raise DataError(
            f"{data.name} holds {data.modality} data, but {name} embeds {modality} inputs only; zero-shot needs a "
            f"backbone that embeds {data.modality} data and label texts in one space: for images an image-text model "
            "(a local CLIP folder, --backbone PATH), for texts a text encoder (e.g. --backbone minilm-l6)"
        ) from None


def resolve_backbone(backbone: str | Path | Backbone) -> Backbone:
    return backbone if isinstance(backbone, Backbone) else load_backbone(backbone)


def probe_model(net: Backbone, head: nn.Linear, classes: list[str], info: dict[str, Any]) -> Transferred:
    """Wrap a linear head on the frozen ``net`` as a ``probe`` model, saved in the probe's artifact format."""
    model = TransferModel(net, head)
    model.set_trainable(net.num_groups)
    recipe = Recipe.build(backbone=net.name, method="probe", task="classification")
    return Transferred(model.eval(), get_method("probe")(recipe), classes, info)


def checked_templates(templates: Sequence[str] | None) -> list[str]:
    """The templates (default ``DEFAULT_TEMPLATES``), each with exactly one ``{}`` for the label."""
    templates = templates or DEFAULT_TEMPLATES
    if isinstance(templates, str):
        templates = [templates]
    for template in templates:
        if template.count("{}") != 1:
            raise HeadstartError(f"template {template!r} must contain '{{}}' exactly once (where the label goes)")
    return list(templates)
