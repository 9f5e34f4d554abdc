"""The embedding signal: classify candidate spans against labelled prototype examples.

Prototypes live in ``ingest/lang/prototypes.json`` (multilingual, one list per class).
A candidate's score for a class is the mean cosine of its ``k`` nearest prototypes of
that class; scores of the multilingual-e5 model are compressed (right ~0.87, wrong
~0.79), so probabilities come from the margin over the ``none`` class, scaled by a
temperature calibrated on the development set (``python -m eval.extraction --calibrate``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.embed import Embedder
from kb.records import SKILL_SUBTYPES

PROTOTYPES = Path(__file__).resolve().parent / "lang" / "prototypes.json"
CLASSES = ("duty",) + SKILL_SUBTYPES + ("none",)


@dataclass(frozen=True)
class Calibration:
    """How class scores become confidences and which confidences are kept."""

    k: int = 3
    temperature: float = 0.01
    bias: float = 0.005
    rule_weight: float = 0.7
    threshold: float = 0.5
    model_threshold: float = 0.9


@dataclass(frozen=True)
class Verdict:
    """The classifier's view of one candidate span."""

    scores: dict[str, float]

    @property
    def skill_subtype(self) -> str:
        """The most likely skill subtype."""
        return max(SKILL_SUBTYPES, key=lambda subtype: self.scores[subtype])

    def margin(self, kind: str) -> float:
        """How much more the span looks like ``kind`` (duty or skill) than like a non-item."""
        best = self.scores["duty"] if kind == "duty" else self.scores[self.skill_subtype]
        return best - self.scores["none"]

    @property
    def kind(self) -> str:
        """duty or skill, whichever the span looks more like."""
        return "duty" if self.scores["duty"] >= self.scores[self.skill_subtype] else "skill"


def load_prototypes(path: Path = PROTOTYPES) -> tuple[dict[str, list[str]], Calibration]:
    """The labelled examples per class and the stored calibration."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["classes"], Calibration(**data.get("calibration", {}))


class PrototypeClassifier:
    """k-nearest-prototype classifier over one embedder; prototype vectors are computed once."""

    def __init__(self, embedder: Embedder, calibration: Calibration | None = None) -> None:
        examples, stored = load_prototypes()
        self.calibration = calibration or stored
        self.labels = [label for label in CLASSES for _ in examples[label]]
        self.vectors = embedder.embed_passages([text for label in CLASSES for text in examples[label]])
        self.embedder = embedder

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        """One verdict per text, from a single batched embedding call."""
        if not texts:
            return []
        unique = list(dict.fromkeys(texts))
        rows = {text: row for text, row in zip(unique, self.embedder.embed_passages(unique) @ self.vectors.T)}
        similarity = [rows[text] for text in texts]
        labels = np.array(self.labels)
        verdicts = []
        for row in similarity:
            scores = {}
            for label in CLASSES:
                column = np.sort(row[labels == label])[::-1][: self.calibration.k]
                scores[label] = float(column.mean())
            verdicts.append(Verdict(scores))
        return verdicts

    def probability(self, verdict: Verdict, kind: str) -> float:
        """Probability-like confidence that the span is an item of ``kind``."""
        z = (verdict.margin(kind) - self.calibration.bias) / self.calibration.temperature
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


_CACHE: dict[int, PrototypeClassifier] = {}


def classifier_for(embedder: Embedder) -> PrototypeClassifier:
    """The cached classifier of an embedder (prototypes are embedded once per embedder)."""
    key = id(embedder)
    if key not in _CACHE or _CACHE[key].embedder is not embedder:
        _CACHE[key] = PrototypeClassifier(embedder)
    return _CACHE[key]
