"""Values derived from a whole knowledge base, computed once per store generation and kept in memory.

A search must not redo per query what only changes when the knowledge base does (a count of its
units, its mean token state): ``per_generation`` keeps each such value under the open knowledge base
and a name, and computes it again once a write has moved the store generation on.
"""
from __future__ import annotations

import threading
import weakref
from typing import Callable, TypeVar

T = TypeVar("T")
_values: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # kb -> {name: (generation, value)}
_lock = threading.RLock()  # the app searches from several threads


def per_generation(kb, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, once per knowledge base, name and store generation."""
    generation = kb.store.generation
    with _lock:
        kept = _values.setdefault(kb, {}).get(name)
        if kept is None or kept[0] != generation:
            kept = (generation, compute())
            _values[kb][name] = kept
        return kept[1]


def forget(kb, name: str) -> None:
    """Drop a kept value, so that the next use computes it again (after its source was rewritten)."""
    with _lock:
        _values.get(kb, {}).pop(name, None)
