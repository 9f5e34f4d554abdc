"""The learned duty/skill extractor: a small MLP over e5 vectors of each candidate unit and its sentence.

Input of one unit: its e5 passage vector (384), its sentence's (384) and the proposal features of
``ingest.extract.units`` (standardized). One hidden layer (ReLU) gives a softmax over ``CLASSES``: no item,
a duty, or a skill of one of the five subtypes. The probability of the likelier item kind is calibrated
(Platt scaling fitted on documents the fit never saw, see ``ingest.extract.train``); decoding keeps the most
confident non-overlapping units whose calibrated probability reaches ``THRESHOLD``, so a span wins over a
longer one that holds it only when the model trusts it more. Weights are numpy arrays in
``data/extractor.npz`` (float16), built by ``make train``; their provenance is in ``data/extractor.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ingest.extract.units import FEATURES, SUBTYPES, Unit
from kb.errors import KBError
from kb.records import Item

WEIGHTS = Path(__file__).resolve().parent / "data" / "extractor.npz"
CLASSES = ("none", "duty", *(f"skill:{subtype}" for subtype in SUBTYPES))
SOURCE = "model:learned"
THRESHOLD = 0.5  # a calibrated probability: an item is kept when it is more likely an item than not
MEMBER_BONUS = 0.02  # at equal confidence the enumeration member (the shorter span) wins


@dataclass(frozen=True)
class Model:
    """MLP weights, feature scaling and calibration."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    platt: tuple[float, float]

    def probabilities(self, unit_vectors: np.ndarray, sentence_vectors: np.ndarray,
                      features: np.ndarray) -> np.ndarray:
        """Class probabilities (units x CLASSES), before calibration."""
        return self.forward(inputs(unit_vectors, sentence_vectors, features, self.mean, self.scale))

    def forward(self, rows: np.ndarray) -> np.ndarray:
        """Class probabilities of prepared input rows (see ``inputs``)."""
        return mlp(rows, self.w1, self.b1, self.w2, self.b2)

    def calibrate(self, probability: np.ndarray) -> np.ndarray:
        """Platt scaling of raw item-kind probabilities."""
        return platt_scale(probability, self.platt)

    def save(self, path: Path) -> None:
        """Write the weights as float16 (the scaling and calibration stay float32)."""
        save_weights(path, self.platt, {"w1": self.w1, "b1": self.b1, "w2": self.w2, "b2": self.b2},
                     mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                     features=np.array(FEATURES), classes=np.array(CLASSES))


def mlp(rows: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Softmax probabilities of a one-hidden-layer ReLU network."""
    return softmax(np.maximum(0.0, rows @ w1 + b1) @ w2 + b2)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Probabilities from logits along ``axis`` (shifted by their maximum first, so large logits stay finite)."""
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def platt_scale(probability: np.ndarray | float, platt: tuple[float, float]) -> np.ndarray:
    """sigmoid(a * logit(p) + b): a raw probability made a calibrated one."""
    a, b = platt
    clipped = np.clip(probability, 1e-4, 1 - 1e-4)
    return 1.0 / (1.0 + np.exp(-(a * np.log(clipped / (1 - clipped)) + b)))


def inputs(unit_vectors: np.ndarray, sentence_vectors: np.ndarray, features: np.ndarray, mean: np.ndarray,
           scale: np.ndarray) -> np.ndarray:
    """The model's input rows: unit vector, sentence vector, standardized features."""
    return np.hstack([unit_vectors, sentence_vectors, (features - mean) / scale]).astype(np.float32)


@lru_cache(maxsize=2)
def load_model(path: Path = WEIGHTS) -> Model:
    """The shipped (or given) weights; refuses a file made for other features or classes."""
    data = read_weights(path, "the extractor's", {"features": FEATURES, "classes": CLASSES})
    return Model(*(data[name].astype(np.float32) for name in ("w1", "b1", "w2", "b2", "mean", "scale")),
                 platt=tuple(float(value) for value in data["platt"]))


def read_weights(path: Path, whose: str, made_for: dict[str, tuple[str, ...]]):
    """A weights file (.npz) whose named arrays must equal ``made_for`` (the code's features, classes or
    tags); a file that cannot be read, or was made for other ones, is refused with how to rebuild it."""
    try:
        data = np.load(path)
    except (OSError, ValueError) as error:
        raise KBError(f"{path}: cannot read {whose} weights ({error.__class__.__name__})",
                      hint="rebuild them with `make train`, or restore the file from the repository") from error
    if any(name not in data or tuple(data[name]) != expected for name, expected in made_for.items()):
        raise KBError(f"{path}: {whose} weights were made for other {' or '.join(made_for)}",
                      hint="rebuild them with `make train`")
    return data


def save_weights(path: Path, platt: tuple[float, float], float16: dict[str, np.ndarray], **kept) -> None:
    """Write weights as float16 (``kept`` arrays as they are, the calibration as float32)."""
    np.savez_compressed(path, **{name: array.astype(np.float16) for name, array in float16.items()}, **kept,
                        platt=np.array(platt, dtype=np.float32))


def scored(model: Model, units: Sequence[Unit], unit_vectors: np.ndarray,
           sentence_vectors: np.ndarray) -> list[tuple[Unit, str, str, float]]:
    """(unit, kind, subtype, calibrated confidence) of every unit."""
    if not units:
        return []
    features = np.array([unit.features for unit in units], dtype=np.float32)
    probabilities = model.probabilities(unit_vectors, sentence_vectors, features)
    duty = probabilities[:, 1]
    skills = probabilities[:, 2:]
    skill = skills.sum(axis=1)
    kinds = np.where(duty >= skill, "duty", "skill")
    confidence = model.calibrate(np.maximum(duty, skill))
    subtypes = [SUBTYPES[index] for index in skills.argmax(axis=1)]
    return [(unit, str(kind), subtype if kind == "skill" else "", float(value))
            for unit, kind, subtype, value in zip(units, kinds, subtypes, confidence)]


def decode(scored_units: list[tuple[Unit, str, str, float]], threshold: float = THRESHOLD) -> list[Item]:
    """The most confident non-overlapping units at or above ``threshold``, as items in text order."""
    member = FEATURES.index("duty_member"), FEATURES.index("skill_member")
    order = sorted(scored_units, key=lambda entry: (
        -(entry[3] + MEMBER_BONUS * max(entry[0].features[member[0]], entry[0].features[member[1]])),
        entry[0].end - entry[0].start))
    kept: list[tuple[Unit, str, str, float]] = []
    for entry in order:
        unit = entry[0]
        if entry[3] < threshold:
            continue
        if all(unit.end <= other.start or unit.start >= other.end for other, *_ in kept):
            kept.append(entry)
    return sorted((_item(*entry) for entry in kept), key=lambda item: item.start)


def _item(unit: Unit, kind: str, subtype: str, confidence: float) -> Item:
    sentence = unit.sentence
    return Item(doc_id=sentence.doc_id, sentence_index=sentence.index, kind=kind, subtype=subtype,
                start=unit.start, end=unit.end, text=unit.text, lang=sentence.lang,
                confidence=round(confidence, 4), source=SOURCE)
