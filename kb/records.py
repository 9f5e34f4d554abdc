"""The records that flow through the pipeline and out of search.

Offsets everywhere are character offsets into the article's decoded text
(``Article.text``), so that ``article.text[start:end] == record.text``.
For ``.txt``/``.md`` files that text is the decoded file (a UTF-8 BOM is not
part of it); for ``.html`` files it is the visible text extracted from the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field

UNKNOWN_LANG = "unknown"
KINDS = ("sentence", "duty", "skill")
PART = "part"  # a word window of a long sentence, searched as that sentence (ingest.parts)
STORED_KINDS = KINDS + (PART,)
SKILL_SUBTYPES = ("education", "experience", "knowledge", "skill", "trait")


@dataclass(frozen=True)
class Article:
    """One decoded source file with its title and content regions."""

    doc_id: str
    path: str
    text: str
    title: str
    encoding: str
    content_hash: str
    # (start, end) spans of body text: boilerplate and the title line are outside them.
    body: tuple[tuple[int, int], ...] = ()
    lang: str = UNKNOWN_LANG
    title_span: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article with its offsets and detected language."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    lang: str


@dataclass(frozen=True)
class Item:
    """A duty or skill found inside a sentence, with its span in the article (or a sentence part)."""

    doc_id: str
    sentence_index: int
    kind: str  # "duty" | "skill" | PART (a window of the sentence for search, not an item)
    subtype: str  # "" for duties; one of SKILL_SUBTYPES for skills
    start: int
    end: int
    text: str
    lang: str
    confidence: float
    source: str  # which rule or model found it, e.g. "rule:sv:ansvarig_for" or "model:prototype"


@dataclass(frozen=True)
class EscoLink:
    """A unit's or an article's link to an ESCO concept, with the matcher's calibrated score (0-1)."""

    uri: str
    type: str  # "occupation", "skill/competence" or "knowledge"
    score: float


@dataclass(frozen=True)
class Hit:
    """One search result: a sentence, duty or skill with its score and source sentence."""

    rank: int
    score: float
    doc_id: str
    title: str
    lang: str
    kind: str
    text: str
    sentence: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    subtype: str = ""
    unit_id: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict:
        """The hit as the JSON object of the CLI contract."""
        return {
            "rank": self.rank,
            "score": round(float(self.score), 4),
            "doc_id": self.doc_id,
            "title": self.title,
            "lang": self.lang,
            "kind": self.kind,
            "subtype": self.subtype,
            "text": self.text,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "sentence_start": self.sentence_start,
            "sentence_end": self.sentence_end,
        }


@dataclass(frozen=True)
class Refused:
    """A source file the reader could not use, with the reason and what to do."""

    path: str
    reason: str
