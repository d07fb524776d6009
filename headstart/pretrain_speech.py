"""Source pre-training for speech: an ``hs-speech`` frame encoder trained on labelled source speakers.

``pretrain_speech(data, out)`` trains a ``FrameCNN`` from random weights on a labelled audio set
(e.g. the digits of five speakers, ``"fsdd:-s3"``) through the one training path (``transfer``
with method ``scratch``: Lightning, keep-best on a held-out split, the epoch budget sized to the
data), then saves its encoder, without the source head, as a backbone folder that
``load_backbone(out)`` opens. The folder records what it learnt from, how long it took and how
well it did on the held-out part.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from headstart.data import Dataset, load_data
from headstart.data.readers import require_labels
from headstart.errors import DataError
from headstart.transfer import transfer
from headstart.zoo.audio import input_kind
from headstart.zoo.frames import FrameCNN, FrameCNNConfig, save_frame_cnn


def pretrain_speech(data: Dataset | str | Path, out: str | Path, *, widths: tuple[int, ...] = FrameCNNConfig.widths,
                    progress: bool = False, **options: Any) -> FrameCNN:
    """Train an ``hs-speech`` encoder on labelled ``data`` (audio: frames or recordings) and save it
    to ``out``; ``options`` are ``Recipe`` fields of the scratch run (``epochs``, ``lr``, ``seed`` …)."""
    source = data if isinstance(data, Dataset) else load_data(data)
    if not FrameCNN.reads(source):
        raise DataError(f"{source.name}: speech pre-training reads audio, not {source.modality} data")
    require_labels(source)
    first = source.inputs[0]
    coefficients = first.shape[1] if input_kind(first) == "frames" else FrameCNNConfig.coefficients
    with tempfile.TemporaryDirectory(prefix="hs-speech-") as staging:
        start = save_frame_cnn(FrameCNN(FrameCNNConfig(coefficients, tuple(widths))), Path(staging) / "init", {})
        fitted = transfer(source, str(start), "scratch", progress=progress, **options)
    net: FrameCNN = fitted.model.backbone
    net.name = Path(out).name
    trained = {
        "data": source.name, "examples": fitted.info["n_train"], "classes": list(source.classes or []),
        "speakers": sorted(set(map(str, source.meta.get("speakers", [])))),
        "epochs": fitted.info.get("epochs"), "seconds": round(fitted.info["train_seconds"], 1),
        "val_accuracy": (fitted.info.get("val_metrics") or {}).get("accuracy"),
    }
    save_frame_cnn(net, out, trained)
    net.trained, net.source_folder = trained, Path(out).expanduser().resolve()  # not the deleted staging folder
    return net.eval()
