"""Language stages of ingest: each article's language from its body, each sentence's refined from it.

Short texts are identified by ``kb.text.language`` (fastText filtered by alphabet and script), which
search uses for queries too. Long texts (articles) go to langdetect, which is reliable there,
cross-checked with fastText so that gibberish is "unknown"; sentences keep their article's language
unless the evidence for another one is strong. An article in a language spaCy has no pipeline for
(Swahili) keeps its code when both detectors name it: its sentences are split with the
multi-language pipeline.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Iterable, Iterator

from kb.records import UNKNOWN_LANG, Article, Sentence
from kb.text.language import (MIN_CONFIDENCE, _fasttext, _siblings, alphabet_fit, detect_language, is_supported,
                              language_scores, normalize_code)

__all__ = ["alphabet_fit", "article_language", "detect", "detect_language", "detect_sentences", "is_supported",
           "language_scores", "normalize_code"]

# Fewer letters than this: too little evidence, the sentence keeps its article's language.
MIN_SENTENCE_LETTERS = 15
MIN_SENTENCE_WORDS = 3
# fastText probability a sentence needs to move away from its article's language.
SWITCH_CONFIDENCE = 0.7
# ... and to move to a sibling of it (sv -> nb/da): only when nearly certain.
SIBLING_SWITCH_CONFIDENCE = 0.95
# langdetect probability above which an article's language is accepted as is.
ARTICLE_CONFIDENCE = 0.8


def _refine(text: str, prior: str) -> str:
    """The language of one sentence, given its article's language ``prior``."""
    letters = sum(char.isalpha() for char in text)
    if prior != UNKNOWN_LANG and (letters < MIN_SENTENCE_LETTERS or len(text.split()) < MIN_SENTENCE_WORDS):
        return prior
    scores = language_scores(text, also=(prior,))
    if not scores:
        return prior
    top, top_score = scores[0]
    if prior == UNKNOWN_LANG:
        return top if top_score >= MIN_CONFIDENCE else prior
    if top == prior:
        return prior
    prior_score = dict(scores).get(prior, 0.0)
    needed = SIBLING_SWITCH_CONFIDENCE if _siblings(top, prior) else SWITCH_CONFIDENCE
    if top_score >= needed and top_score >= 5 * prior_score:
        return top
    return prior


def detect_sentences(sentences: Iterable[Sentence]) -> Iterator[Sentence]:
    """Refine each sentence's language; short or ambiguous ones keep their article's language."""
    for sentence in sentences:
        lang = _refine(sentence.text, sentence.lang)
        yield sentence if lang == sentence.lang else dataclasses.replace(sentence, lang=lang)


def _body_text(article: Article) -> str:
    if article.body:
        return "\n".join(article.text[start:end] for start, end in article.body)
    return article.text


def _langdetect_scores(text: str) -> list[tuple[str, float]]:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random; a fixed seed makes runs repeatable
    try:
        return [(normalize_code(found.lang), found.prob) for found in detect_langs(text)]
    except LangDetectException:
        return []


def article_language(text: str) -> tuple[str, str]:
    """The language of a long text and what to warn about ('' when nothing): why it is unknown, or
    that spaCy has no pipeline for it."""
    letters = sum(char.isalpha() for char in text)
    if letters == 0:
        return UNKNOWN_LANG, "it has no letters"
    if letters < 60:  # too short for langdetect's n-gram profiles
        fast = language_scores(text[:2000])
        found = fast[0][0] if fast and fast[0][1] >= MIN_CONFIDENCE else UNKNOWN_LANG
    else:
        slow = _langdetect_scores(text)
        confident = slow[0][0] if slow and slow[0][1] >= ARTICLE_CONFIDENCE else ""
        fast = language_scores(text[:2000], also=(confident,) if confident else ())
        found = UNKNOWN_LANG
        if confident and dict(fast).get(confident, 0.0) >= 0.05:
            found = confident
        elif confident and not is_supported(confident):
            return UNKNOWN_LANG, f"its language looks like '{confident}', which fastText does not confirm"
        elif fast and fast[0][1] >= MIN_CONFIDENCE:
            found = fast[0][0]
    if found == UNKNOWN_LANG:
        return found, "no language could be recognized with confidence"
    if not is_supported(found):
        return found, f"spaCy has no pipeline for its language '{found}'"
    return found, ""


def detect(articles: Iterable[Article]) -> Iterator[Article]:
    """Set each article's ``lang`` from its body text; warn and use 'unknown' when unsure, and warn when
    spaCy has no pipeline for the language."""
    for article in articles:
        lang, reason = article_language(_body_text(article))
        if reason:
            tagged = "tagged 'unknown' (check the file's encoding and language)" if lang == UNKNOWN_LANG else \
                f"tagged '{lang}'"
            warnings.warn(f"{article.path}: {reason}; its sentences are split with the multi-language pipeline and "
                          f"{tagged}", stacklevel=2)
        yield dataclasses.replace(article, lang=lang)
