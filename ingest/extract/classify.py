"""The embedding signal: classify candidate spans against labelled prototype examples.

Prototypes live in ``ingest/extract/data/prototypes.json`` (multilingual, one list per class).
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

from kb.embedding.embedders import Embedder
from kb.records import SKILL_SUBTYPES

PROTOTYPES = Path(__file__).resolve().parent / "data" / "prototypes.json"
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
    def kind_lead(self) -> float:
        """How much more the span looks like a duty than like its likeliest skill subtype (negative: a skill)."""
        return self.scores["duty"] - self.scores[self.skill_subtype]

    @property
    def kind(self) -> str:
        """duty or skill, whichever the span looks more like."""
        return "duty" if self.kind_lead >= 0 else "skill"


HEADING_KINDS = ("duty", "skill", "none", "general")  # "general" introduces the job as a whole: no kind
# A line the language data does not know as a heading is compared with example headings of
# several languages (mean of the best HEADING_K per kind) and with the item prototypes. A line
# without a colon is a heading when it is closer to the headings than to any item class by
# HEADING_ADVANTAGE; a heading's kind is the nearest one when it leads the next by
# HEADING_MARGIN, else its lines are items of the kind each looks like ("list"). Measured on 30 headings and
# 28 list items in languages missing from the examples (ro, tr, da, cs, hu, ru, fi): headings lead
# the item classes by 0.012-0.104 (27 of 30 by 0.017 or more); list items lead by at most 0.018,
# and the three above 0.012 are benefits ("Stravenky", "Flexibilní pracovní doba"), which yield
# nothing either way.
HEADING_K = 2
HEADING_MARGIN = 0.005
HEADING_NONE_MARGIN = 0.01  # a "none" section drops its lines: a wrong one costs more than a missed one
HEADING_ADVANTAGE = 0.017
HEADING_BLOCK_ADVANTAGE = 0.005  # after a blank line, with no bullet, a line is likely a heading anyway
# A heading whose words leave its kind unclear, or that looks like an offer ("none"), is judged by the
# lines under it as well: they are items when, on average, they are nearer an item class than the
# example benefit lines. Measured on 22 list items and 30 benefits in nine languages missing from the
# examples (fi, uk, ja, hu, el, cs, ro, tr, id): items lead by +0.017 on average (18 of 22 above 0),
# benefits trail by -0.020 (29 of 30 below +0.001), so a section of two or more lines is told apart
# by the sign of its mean.
CONTENT_MIN_LINES = 2
CONTENT_MAX_LINES = 8
CONTENT_ITEM_MARGIN = 0.0
# How much more a span must look like a duty than a skill (or the reverse) for its kind to be sure: on the
# 695 dev-set gold items the kind is right for 72% of those below 0.01 and 96% of the rest.
KIND_SURE_LEAD = 0.01
CONTENT_KIND_SHARE = 0.75  # the lines' majority kind names the section when it holds this share, else "list"
# A heading whose kind leads by less than HEADING_CLOSE_MARGIN ("Majukumu", Swahili "duties", is nearer
# the skill headings by 0.008) takes the other item kind when every line under it is surely of that kind.
HEADING_CLOSE_MARGIN = 0.015
CONTENT_SURE = 0.9  # the mean probability of that kind the lines need for it


def top_k_means(row: np.ndarray, labels: np.ndarray, classes: Sequence[str], k: int) -> dict[str, float]:
    """Per class, the mean of the ``k`` highest similarities in ``row`` among that class's examples."""
    return {label: float(np.sort(row[labels == label])[::-1][:k].mean()) for label in classes}


def load_prototypes(path: Path = PROTOTYPES) -> tuple[dict[str, list[str]], Calibration]:
    """The labelled examples per class and the stored calibration."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["classes"], Calibration(**data.get("calibration", {}))


def load_headings(path: Path = PROTOTYPES) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Example section headings per kind (duty, skill, none, general) in several languages, example
    benefit lines ("Meal vouchers", which resembles "We offer") and other list lines that are no headings."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("headings", {}), data.get("benefit_lines", []), data.get("heading_negatives", [])


class PrototypeClassifier:
    """k-nearest-prototype classifier over one embedder; prototype vectors are computed once."""

    def __init__(self, embedder: Embedder, calibration: Calibration | None = None) -> None:
        examples, stored = load_prototypes()
        self.calibration = calibration or stored
        self.labels = [label for label in CLASSES for _ in examples[label]]
        self.vectors = embedder.embed_passages([text for label in CLASSES for text in examples[label]])
        self.embedder = embedder
        self._labels = np.array(self.labels)
        self._headings: tuple[np.ndarray, np.ndarray] | None = None  # embedded on first use

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        """One verdict per text, from a single batched embedding call."""
        if not texts:
            return []
        unique = list(dict.fromkeys(texts))
        rows = {text: row for text, row in zip(unique, self.embedder.embed_passages(unique) @ self.vectors.T)}
        return [Verdict(top_k_means(rows[text], self._labels, CLASSES, self.calibration.k)) for text in texts]

    def heading_kind(self, text: str, shape: str, lines: Sequence[str] = ()) -> str | None:
        """The section kind of a heading the language data does not know: "duty", "skill", "none",
        "list" for a heading between duty and skill (its lines are items, of the kind each looks
        like), "" for a heading of no clear kind or one that introduces the job as a whole, None for
        no heading. ``shape`` is the evidence of layout: "colon" (it ends in a colon: a heading for
        sure, only its kind is in question), "block" (a line of its own after a blank line) or
        "line" (a short line). ``lines``, the list lines under the heading, decide a heading whose
        words are unclear or look like an offer (see ``lines_kind``), make a heading about the job as a
        whole a list (or an offer), turn a heading of a close kind to the kind its lines surely are
        (``sure_lines_kind``), and make a lone benefit-like line over benefits an offer heading."""
        if self._headings is None:
            examples, benefits, negatives = load_headings()
            labels = ([kind for kind in HEADING_KINDS for _ in examples.get(kind, [])] + ["benefit"] * len(benefits)
                      + ["line"] * len(negatives))
            texts = [text for kind in HEADING_KINDS for text in examples.get(kind, [])] + benefits + negatives
            self._headings = (np.array(labels), self.embedder.embed_passages(texts))
        labels, vectors = self._headings
        kinds = [kind for kind in HEADING_KINDS if (labels == kind).any()]
        if not kinds:
            return "" if shape == "colon" else None
        vector = self.embedder.embed_passages([text])[0]
        row = vector @ vectors.T
        scores = sorted(((value, kind) for kind, value in top_k_means(row, labels, kinds, HEADING_K).items()),
                        reverse=True)
        (best, kind), (runner_up, second) = scores[0], (scores[1] if len(scores) > 1 else (-1.0, ""))
        if shape != "colon":
            # no heading unless nearer the headings than any item class or example list line
            others = top_k_means(vector @ self.vectors.T, self._labels, CLASSES, self.calibration.k)
            others.update(top_k_means(row, labels, [label for label in ("benefit", "line") if (labels == label).any()],
                                      HEADING_K))
            if best - max(others.values()) < (HEADING_ADVANTAGE if shape == "line" else HEADING_BLOCK_ADVANTAGE):
                # a line alone that reads like a benefit, over a list of benefits, heads the offer ("복리후생")
                if shape == "block" and max(others, key=others.get) == "benefit" and self.lines_kind(lines) == "none":
                    return "none"
                return None
        if kind == "general":
            # "Job description:" introduces the job; a list under it is still a list of items (or an offer)
            content = self.lines_kind(lines)
            return content if content is not None else ""
        if kind != "none" and best - runner_up >= HEADING_MARGIN:
            if kind in ("duty", "skill") and best - runner_up < HEADING_CLOSE_MARGIN:
                return self.sure_lines_kind(lines) or kind
            return kind
        content = self.lines_kind(lines)
        if content is not None:
            return content
        if best - runner_up >= (HEADING_NONE_MARGIN if kind == "none" else HEADING_MARGIN):
            return kind
        # duty or skill, unsure which: the lines are items all the same; unsure whether items at all: none
        return "list" if {kind, second} == {"duty", "skill"} else ""

    def lines_kind(self, lines: Sequence[str]) -> str | None:
        """What the list lines under a heading are: items ("duty", "skill", or "list" when neither kind
        holds CONTENT_KIND_SHARE of them), "none" when they are nearer the example benefit lines than
        the item classes, None when there are too few to tell."""
        lines = list(lines)[:CONTENT_MAX_LINES]
        if len(lines) < CONTENT_MIN_LINES:
            return None
        labels, vectors = self._headings
        if not (labels == "benefit").any():
            return None
        embedded = self.embedder.embed_passages(lines)
        verdicts = [Verdict(top_k_means(row, self._labels, CLASSES, self.calibration.k))
                    for row in embedded @ self.vectors.T]
        benefit = [top_k_means(row, labels, ("benefit",), HEADING_K)["benefit"] for row in embedded @ vectors.T]
        lead = [max(value for label, value in verdict.scores.items() if label != "none") - near
                for verdict, near in zip(verdicts, benefit)]
        if sum(lead) / len(lead) < CONTENT_ITEM_MARGIN:
            return "none"
        # a line whose kind leads by less than KIND_SURE_LEAD does not vote, unless no line is sure:
        # "Shahada ya uhasibu" (a degree) is a duty by a hair, the lines beside it clearly skills
        sure = [verdict for verdict in verdicts if abs(verdict.kind_lead) >= KIND_SURE_LEAD] or verdicts
        duties = sum(1 for verdict in sure if verdict.kind == "duty")
        share = max(duties, len(sure) - duties) / len(sure)
        if share >= CONTENT_KIND_SHARE:
            return "duty" if duties * 2 > len(sure) else "skill"
        return "list"

    def sure_lines_kind(self, lines: Sequence[str]) -> str | None:
        """"duty" or "skill" when every list line under a heading is of that kind and, on average, surely
        so (CONTENT_SURE); None when there are too few lines or they disagree."""
        lines = list(lines)[:CONTENT_MAX_LINES]
        if len(lines) < CONTENT_MIN_LINES:
            return None
        verdicts = self.classify(lines)
        kinds = {verdict.kind for verdict in verdicts}
        if len(kinds) != 1 or not kinds <= {"duty", "skill"}:
            return None
        kind = kinds.pop()
        sure = sum(self.probability(verdict, kind) for verdict in verdicts) / len(verdicts) >= CONTENT_SURE
        return kind if sure else None

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
