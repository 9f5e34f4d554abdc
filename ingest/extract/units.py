"""Candidate units of an article for the learned extractor: every span the reader-side machinery proposes.

The rules' machinery (clauses, cue frames, section headings, enumeration splitting) no longer decides what
is an item: it proposes spans. Each distinct token range of a sentence becomes one ``Unit`` whose numeric
features say what proposed it (a duty frame, a skill frame, a section heading, an enumeration read as
duties or as skills, a skill head noun, the plain clause) and how it stands in the sentence and the layout.
No threshold of the rules is used. Languages without a rule file get the plain clauses and their
enumeration members, and the features say so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ingest.extract.candidates import MODEL_SOURCE, Candidate, _article_candidates, _head, _line_kind, _own_verb
from kb.records import Sentence

SUBTYPES = ("education", "experience", "knowledge", "skill", "trait")
FEATURES = (
    "plain_clause", "frame_duty", "frame_skill", "section_duty", "section_skill", "region_any",
    "duty_member", "skill_member", "duty_parts", "skill_parts", "prior", "head",
    *(f"head_{subtype}" for subtype in SUBTYPES),
    "needs_head", "has_rules", "bullet", "prose", "log_words", "share_of_sentence", "at_start", "at_end",
    "verb_first", "subject", "title_like",
)
_INDEX = {name: index for index, name in enumerate(FEATURES)}
_SECTION_SOURCES = (":section", ":paragraph", ":resumed")


@dataclass(frozen=True)
class Unit:
    """One candidate span of a sentence: article offsets, text and what proposed it."""

    sentence: Sentence
    start: int  # article offsets
    end: int
    text: str
    features: tuple[float, ...]

    @property
    def words(self) -> int:
        """Whitespace words of the span."""
        return len(self.text.split())


def article_units(sentences: list[Sentence], title: str = "", text: str = "") -> list[Unit]:
    """The candidate units of one article's sentences, in text order (``text``: the article text)."""
    found: dict[tuple[int, int, int], np.ndarray] = {}
    spans: dict[tuple[int, int, int], tuple[Sentence, int, int, str]] = {}
    for candidate in _article_candidates(sentences, title, None, text):
        for key, token_span, values in _proposals(candidate, text):
            if key not in found:
                found[key] = values
                sentence = candidate.sentence
                start = sentence.start + candidate.tokens[token_span[0]].start
                end = sentence.start + candidate.tokens[token_span[1] - 1].end
                spans[key] = (sentence, start, end, candidate.text(*token_span))
            else:
                found[key] = np.maximum(found[key], values)
    units = [Unit(*spans[key], tuple(float(value) for value in found[key])) for key in found]
    return sorted(units, key=lambda unit: (unit.start, -unit.end))


def _proposals(candidate: Candidate, text: str) -> Iterable[tuple[tuple[int, int, int], tuple[int, int], np.ndarray]]:
    """(key, token span, features) of a candidate's whole region and of its enumeration members."""
    region, tokens = candidate.region, candidate.tokens
    if region.end <= region.start:
        return
    sentence_words = max(1, sum(1 for token in tokens if not token.is_punct))
    line = _line_kind(text, candidate.sentence, tokens)
    base = np.zeros(len(FEATURES), dtype=np.float32)
    plain = region.source == MODEL_SOURCE
    section = region.source.endswith(_SECTION_SOURCES)
    base[_INDEX["plain_clause"]] = plain
    if not plain:
        if region.kind == "any":
            base[_INDEX["region_any"]] = 1
        else:
            base[_INDEX[f"{'section' if section else 'frame'}_{region.kind}"]] = 1
        base[_INDEX["prior"]] = region.prior
    base[_INDEX["needs_head"]] = region.needs_head
    base[_INDEX["subject"]] = region.subject
    base[_INDEX["has_rules"]] = candidate.has_rules
    base[_INDEX["bullet"]] = line == "bullet"
    base[_INDEX["prose"]] = line == "prose"
    base[_INDEX["duty_parts"]] = math.log1p(len(candidate.duty_parts))
    base[_INDEX["skill_parts"]] = math.log1p(len(candidate.skill_parts))
    whole = (region.start, region.end)
    members = [(whole, None)] + [(part, "duty") for part in candidate.duty_parts] + \
        [(part, "skill") for part in candidate.skill_parts]
    for part, reading in members:
        if part[1] <= part[0]:
            continue
        values = base.copy()
        if reading is not None and part != whole:
            values[_INDEX[f"{reading}_member"]] = 1
        head = _head(candidate, part)
        if head:
            values[_INDEX["head"]] = 1
            if head in SUBTYPES:
                values[_INDEX[f"head_{head}"]] = 1
        words = sum(1 for token in tokens[part[0]:part[1]] if not token.is_punct)
        values[_INDEX["log_words"]] = math.log1p(words)
        values[_INDEX["share_of_sentence"]] = words / sentence_words
        values[_INDEX["at_start"]] = part[0] == 0
        values[_INDEX["at_end"]] = all(token.is_punct for token in tokens[part[1]:])
        values[_INDEX["verb_first"]] = _own_verb(candidate, part[0])
        values[_INDEX["title_like"]] = candidate.sentence.start == 0 and candidate.sentence.index == 0
        yield (candidate.sentence.index, part[0], part[1]), part, values
