"""Coordinating conjunctions of any language, from the Unicode CLDR list patterns (via Babel).

A language without a rule file still writes lists ("Tuotteiden esittely ja kaupan päättäminen"); CLDR
knows how every language joins two list items ("{0} ja {1}", "{0} tai {1}"), so the word between the
placeholders is that language's "and" or "or". Only patterns with a space on both sides of the word
are used: an attached conjunction (Arabic "و{1}") or one inside unsegmented script (Chinese "和")
is no token of its own.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

PLACEHOLDERS = ("{0}", "{1}")
PATTERN_KEYS = ("2", "end")
LIST_STYLES = ("standard", "or")


@lru_cache(maxsize=None)
def cldr_conjunctions(lang: str) -> tuple[str, ...]:
    """The words CLDR puts between two list items in ``lang`` ("ja", "tai"); empty when unknown."""
    try:
        from babel import Locale, UnknownLocaleError
    except ImportError:  # an optional refinement: without Babel, commas alone split lists
        return ()
    try:
        patterns = Locale.parse(lang).list_patterns
    except (UnknownLocaleError, ValueError):
        return ()
    words: list[str] = []
    for style in LIST_STYLES:
        for key in PATTERN_KEYS:
            word = _joining_word(patterns.get(style, {}).get(key, ""))
            if word and word not in words:
                words.append(word)
    return tuple(words)


def _joining_word(pattern: str) -> str:
    """The word of "{0} ja {1}" or "{0}, dan {1}"; empty when it is punctuation or attached to an item."""
    if not all(placeholder in pattern for placeholder in PLACEHOLDERS):
        return ""
    middle = pattern.split(PLACEHOLDERS[0], 1)[1].split(PLACEHOLDERS[1], 1)[0]
    if not (middle.startswith((" ", ", ")) and middle.endswith(" ")):
        return ""
    word = middle.strip(" ,")
    return word if word and all(_lettered(part) for part in word.split()) else ""


def _lettered(word: str) -> bool:
    """Letters and the vowel signs that scripts such as Devanagari attach to them ("या")."""
    return word[:1].isalpha() and all(char.isalpha() or unicodedata.category(char).startswith("M") for char in word)
