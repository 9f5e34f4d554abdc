"""One spaCy blank pipeline per language, shared by sentence splitting, tokenizing and the cue matcher.

A blank pipeline costs from under 1 MB to about 45 MB of memory (Indonesian, French and Dutch carry large
tokenizer exception tables), so a process builds each language's once and keeps it: the cue matcher of
``ingest.extract.rules`` is tied to the pipeline's vocabulary.
"""
from __future__ import annotations

import sys
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

from kb.text.language import is_supported

if TYPE_CHECKING:
    from types import ModuleType

    from spacy.language import Language

MULTI_LANGUAGE = "xx"


@lru_cache(maxsize=None)
def blank_pipeline(lang: str) -> Language:
    """The process's blank pipeline for ``lang`` with a sentencizer; the multi-language one where spaCy has no
    pipeline for the language, or (with a warning) where its tokenizer needs a package that is missing."""
    spacy = import_spacy()
    if lang != MULTI_LANGUAGE and not is_supported(lang):
        return blank_pipeline(MULTI_LANGUAGE)
    try:
        nlp = spacy.blank(lang)
    except Exception as error:  # noqa: BLE001 - e.g. a tokenizer that needs an extra package
        if lang == MULTI_LANGUAGE:
            raise
        warnings.warn(f"spaCy cannot build a '{lang}' pipeline ({error}); the multi-language pipeline splits "
                      "and tokenizes its text (install the package it names for better sentences)",
                      stacklevel=3)
        return blank_pipeline(MULTI_LANGUAGE)
    nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=1)
def import_spacy() -> ModuleType:
    """spaCy, imported without torch unless torch is loaded already. spaCy's model library (thinc) imports
    torch wherever it is installed, about 180 MB of memory that blank pipelines never use; torch itself
    can still be imported afterwards (the sentence-transformers embedder)."""
    if "torch" in sys.modules or "thinc" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment] # makes thinc's ``import torch`` fail
    try:
        import spacy
    finally:
        if sys.modules.get("torch", ...) is None:
            del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=None)
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words of ``lang`` in lower case (function words: "och", "với", "się"); empty where the
    language's pipeline has none."""
    return frozenset(word.lower() for word in blank_pipeline(lang).Defaults.stop_words)
