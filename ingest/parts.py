"""Sentence parts: overlapping word windows of a long sentence, embedded and searched beside it.

A long sentence's vector blends everything it says, so the one duty a query
asks about is diluted by the rest. The extractor cuts out the duties and skills
it recognizes, but not every one: a duty in a subordinate clause, prose in a
language without a rule file. So a sentence of at least ``MIN_SENTENCE_WORDS``
words also gets parts of ``PART_WORDS`` words, one every ``PART_STRIDE`` words
(the last one ends with the sentence), and search matches the part that says
what the query asks; it shows a part as its sentence with the part highlighted
(``kb.search.hybrid``). Parts are not duties or skills: nothing but search sees them.

Words are runs of non-space characters, so a sentence written without spaces
(Chinese, Japanese, Thai) gets no parts; in Vietnamese a word is a syllable,
so its parts say a little less.

A window most of whose words lie inside the sentence's duties and skills says little that
those items do not say on their own, and search finds them, so it is not kept: in text that
enumerates duties (ESCO's descriptions, "…; …; …") that is most windows, each a model pass
at ingest (docs/benchmarks.md, "Parts the items cover"). What is left between items there is
a subject and connecting words ("Kierownicy projektów …, a także …, aby …"); a window is kept
when at least half of its words are outside every item, so text the extractor missed is still
searched by its parts.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, Sequence

from kb.records import PART, Item, Sentence

PART_WORDS = 10
PART_STRIDE = 5
MIN_SENTENCE_WORDS = 14
_WORD = re.compile(r"\S+")


def word_windows(count: int, size: int = PART_WORDS, stride: int = PART_STRIDE) -> list[tuple[int, int]]:
    """Word ranges [start, end) of ``size`` words every ``stride`` words; the last one ends at ``count``."""
    windows = []
    for start in range(0, max(count - size, 0) + stride, stride):
        end = min(start + size, count)
        windows.append((start, end))
        if end == count:
            break
    return windows


def sentence_parts(sentence: Sentence, items: Sequence[Item] = ()) -> list[Item]:
    """The parts of one sentence (none for a sentence under ``MIN_SENTENCE_WORDS`` words), but for the
    windows more than half of whose words lie inside one of ``items`` (the sentence's duties and skills)."""
    words = [match.span() for match in _WORD.finditer(sentence.text)]
    if len(words) < MIN_SENTENCE_WORDS:
        return []
    covered = _covered(sentence, words, items)
    parts = []
    for first, last in word_windows(len(words)):
        if 2 * sum(covered[first:last]) > last - first:
            continue
        start, end = words[first][0], words[last - 1][1]
        parts.append(Item(doc_id=sentence.doc_id, sentence_index=sentence.index, kind=PART, subtype="",
                          start=sentence.start + start, end=sentence.start + end, text=sentence.text[start:end],
                          lang=sentence.lang, confidence=1.0, source="window"))
    return parts


def _covered(sentence: Sentence, words: Sequence[tuple[int, int]], items: Sequence[Item]) -> list[bool]:
    """For each word (a character span of the sentence's text), whether an item of the sentence spans it
    (the punctuation that ends an item's word is not part of the item)."""
    spans = [(item.start - sentence.start, item.end - sentence.start) for item in items
             if item.doc_id == sentence.doc_id and item.sentence_index == sentence.index]
    return [any(start <= first and _word_end(sentence.text, first, last) <= end for start, end in spans)
            for first, last in words]


def _word_end(text: str, first: int, last: int) -> int:
    """A word's end without the punctuation that follows it ("obsługa;" ends before the semicolon)."""
    while last > first + 1 and not text[last - 1].isalnum():
        last -= 1
    return last


def parts(sentences: Iterable[Sentence], items: Iterable[Item] = ()) -> Iterator[Item]:
    """The parts of every long sentence, in order, but for the windows its ``items`` mostly cover."""
    by_sentence: dict[tuple[str, int], list[Item]] = {}
    for item in items:
        by_sentence.setdefault((item.doc_id, item.sentence_index), []).append(item)
    for sentence in sentences:
        yield from sentence_parts(sentence, by_sentence.get((sentence.doc_id, sentence.index), ()))
