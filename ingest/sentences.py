"""Sentence splitting per language: spaCy's sentencizer plus rules for real web text.

Each ``Article.body`` span is cut into blocks first (line breaks end sentences
unless they only wrap one, bullet items and headings are blocks of their own),
then at full stops glued to the next sentence ("công ty.Người này",
"firmy.Koordynator"), then spaCy (the language's blank pipeline with a ``sentencizer``, shared with
tokenizing: ``kb.text.pipelines``; the multi-language "xx" one for unknown languages) splits each piece. Splits
after abbreviations from ``lang/<code>/abbreviations.txt`` (and ``lang/xx/``),
after initials, and before a small letter are undone. A last sentence without
final punctuation is kept as it is. Offsets index ``Article.text``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator

from ingest import langdata
from ingest.read import BULLET, HEADING_MARK, is_soft_wrap
from kb.records import Article, Sentence
from kb.text.pipelines import blank_pipeline

if TYPE_CHECKING:
    from spacy.language import Language

GLUED_STOP = re.compile(r"[.!?]+(?=[^\W\d_])")  # sentence punctuation glued to the next word
DOMAIN_GOES_ON = re.compile(r"\S*?[./@:]\w")
MAX_PIECE = 100_000  # characters given to spaCy at once; a web page line can be a whole book
# The longest sentence kept whole. A longer one (a line without sentence punctuation, a pasted table) is cut
# at a comma, else a space: extraction costs grow with the square of a sentence's length (one 20,000-character
# sentence took 30 s), and no real sentence comes near this (the longest in the test data: 750 characters).
MAX_SENTENCE_CHARS = 1000
OPENING = "([{\"'“‘„«‹¿¡"
CLOSING = ")]}\"'”’»›"


def split(articles: Iterable[Article]) -> Iterator[Sentence]:
    """Split each article's body into sentences (index from 0 per article, lang = article.lang)."""
    for article in articles:
        nlp = blank_pipeline(article.lang)
        abbreviations = _abbreviations(article.lang)
        body = article.body or ((0, len(article.text)),)  # hand-made articles: the whole text
        index = 0
        for span_start, span_end in body:
            for block_start, block_end in _blocks(article.text, span_start, span_end):
                for start, end in _sentences(nlp, abbreviations, article.text, block_start, block_end):
                    yield Sentence(article.doc_id, index, start, end, article.text[start:end], article.lang)
                    index += 1


@lru_cache(maxsize=None)
def _abbreviations(lang: str) -> frozenset[str]:
    """Lowercased abbreviations (with their full stop) that do not end a sentence in ``lang``."""
    return langdata.load(langdata.SHARED).abbreviations | langdata.load(lang).abbreviations


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Lines of a span, soft-wrapped lines joined, without bullet or heading markers."""
    block: list[int] | None = None
    previous = ""
    offset = start
    for line in text[start:end].split("\n"):
        stripped = line.strip()
        line_start = offset + (line.index(stripped) if stripped else 0)
        offset += len(line) + 1
        if not stripped:
            previous = ""
            continue
        if block is not None and previous and is_soft_wrap(previous, stripped):
            block[1] = line_start + len(stripped)
        else:
            if block is not None:
                yield block[0], block[1]
            marker = BULLET.match(stripped) or HEADING_MARK.match(stripped)
            block = [line_start + (marker.end() if marker else 0), line_start + len(stripped)]
        previous = stripped
    if block is not None:
        yield block[0], block[1]


def _token_around(text: str, position: int, start: int, end: int) -> tuple[str, str]:
    """The non-space text before ``position`` and after it, up to the nearest whitespace."""
    left = position
    while left > start and not text[left - 1].isspace():
        left -= 1
    right = position
    while right < end and not text[right].isspace():
        right += 1
    return text[left:position], text[position:right]


def _is_abbreviation(word: str, abbreviations: frozenset[str]) -> bool:
    """Whether ``word`` (ending in a full stop) is an abbreviation or an initial ("J.", "J.K.")."""
    word = word.lstrip(OPENING)
    last = word.rstrip(".").rsplit(".", 1)[-1]
    return word.lower() in abbreviations or (len(last) == 1 and last.isascii() and last.isupper())


def _glued_cuts(text: str, start: int, end: int, abbreviations: frozenset[str]) -> list[int]:
    """Positions where a sentence starts right after a full stop without a space."""
    cuts = []
    for match in GLUED_STOP.finditer(text, start, end):
        position = match.end()
        following = text[position:position + 2]
        if len(following) < 2 or not (following[0].isupper() and following[1].islower()):
            continue  # "3.5", "e.g.", "Node.js", "ASP.NET"
        before, after = _token_around(text, position, start, end)
        word = before[: -len(match.group())]
        if not word or not (word[-1].isalnum() or word[-1] in CLOSING):
            continue
        if DOMAIN_GOES_ON.match(after) or before.lower().lstrip(OPENING) == "www.":
            continue  # inside a URL, domain name or e-mail address: "www.Example.com", "a@Firma.se"
        if _is_abbreviation(before, abbreviations):
            continue  # "np.Excel", "t.ex.Word"
        letters = word.split(".")[-1].strip(CLOSING)
        if len(letters) >= 2 and letters.isupper():
            continue  # an acronym: "ASP.Net"
        cuts.append(position)
    return cuts


def _joins(text: str, previous_end: int, next_start: int, abbreviations: frozenset[str]) -> bool:
    """Whether a split between two pieces is wrong (abbreviation, initial, small letter next)."""
    before = text[max(0, previous_end - 40):previous_end].rstrip(CLOSING)
    if not before.endswith("."):
        return False
    if next_start == previous_end:
        return True  # glued ("7.500", "ASP.Net"): real glued sentence ends were cut before spaCy
    last_word = before.rsplit(None, 1)[-1] if before.strip() else ""
    following = text[next_start:next_start + 1]
    return _is_abbreviation(last_word, abbreviations) or following.islower()


def _limit_length(text: str, bounds: list[int]) -> list[int]:
    """Extra cuts at spaces so that no piece exceeds MAX_PIECE characters (spaCy's length limit)."""
    limited = [bounds[0]]
    for end in bounds[1:]:
        while end - limited[-1] > MAX_PIECE:
            space = text.rfind(" ", limited[-1] + 1, limited[-1] + MAX_PIECE)
            limited.append(space if space > 0 else limited[-1] + MAX_PIECE)
        limited.append(end)
    return limited


def _sentences(nlp: Language, abbreviations: frozenset[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of one block, whitespace stripped."""
    pieces: list[list[int]] = []
    bounds = _limit_length(text, [start, *_glued_cuts(text, start, end, abbreviations), end])
    for piece_start, piece_end in zip(bounds, bounds[1:]):
        doc = nlp(text[piece_start:piece_end])
        for sent in doc.sents:
            sent_start, sent_end = piece_start + sent.start_char, piece_start + sent.end_char
            if pieces and _joins(text, pieces[-1][1], sent_start, abbreviations) and sent_start != piece_start:
                pieces[-1][1] = sent_end
            else:
                pieces.append([sent_start, sent_end])
    spans = []
    for sent_start, sent_end in pieces:
        chunk = text[sent_start:sent_end]
        stripped = chunk.strip()
        if any(char.isalnum() for char in stripped):
            offset = sent_start + chunk.index(stripped)
            spans.extend(_bounded(text, offset, offset + len(stripped)))
    return spans


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A sentence span cut into pieces of at most MAX_SENTENCE_CHARS, after a comma or semicolon in the
    second half of the window where there is one, else at the last space; whitespace stripped."""
    while end - start > MAX_SENTENCE_CHARS:
        window = text[start:start + MAX_SENTENCE_CHARS]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind("，")) + 1
        if cut <= MAX_SENTENCE_CHARS // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS  # one endless word
        piece = window[:cut].rstrip()
        if piece:
            yield start, start + len(piece)
        rest = text[start + cut:end]
        start = start + cut + len(rest) - len(rest.lstrip())
    yield start, end
