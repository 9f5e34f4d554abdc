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
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

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


def sentence_parts(sentence: Sentence) -> list[Item]:
    """The parts of one sentence (none for a sentence under ``MIN_SENTENCE_WORDS`` words)."""
    words = [match.span() for match in _WORD.finditer(sentence.text)]
    if len(words) < MIN_SENTENCE_WORDS:
        return []
    parts = []
    for first, last in word_windows(len(words)):
        start, end = words[first][0], words[last - 1][1]
        parts.append(Item(doc_id=sentence.doc_id, sentence_index=sentence.index, kind=PART, subtype="",
                          start=sentence.start + start, end=sentence.start + end, text=sentence.text[start:end],
                          lang=sentence.lang, confidence=1.0, source="window"))
    return parts


def parts(sentences: Iterable[Sentence]) -> Iterator[Item]:
    """The parts of every long sentence, in order."""
    for sentence in sentences:
        yield from sentence_parts(sentence)
