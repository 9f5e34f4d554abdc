"""Tokens with lemmas for the cue matcher: spaCy tokenizers (``kb.text.pipelines``), simplemma lemmas, pyvi for
Vietnamese.

Heavy libraries are imported inside the functions and cached per language, so
importing this module costs nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.text.pipelines import blank_pipeline

SIMPLEMMA_LANGS = frozenset("bg ca cs cy da de el en es et fa fi fr ga gd gl gv hbs hi hu hy id is it ka la lb "
                            "lt lv mk ms nb nl nn pl pt ro ru se sk sl sq sv sw tl tr uk".split())
_VI_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Token:
    """One token of a sentence: offsets relative to the sentence text, lowercase lemma, POS tag if known."""

    text: str
    lemma: str
    start: int
    end: int
    pos: str = ""

    @property
    def is_punct(self) -> bool:
        """True for tokens made only of punctuation or bullet symbols."""
        return not any(char.isalnum() for char in self.text)


# Full-width punctuation of Chinese and Japanese text ("细心、责任心强") reads as its ASCII counterpart
# in token texts, so clause and list rules hold for it too (offsets are unchanged). The full-width
# colon stays itself: it ends a clause wherever it stands (an ASCII colon between letters joins a name).
PUNCT_FOLD = str.maketrans("，、；？！（）", ",,;?!()")


@lru_cache(maxsize=4096)
def tokenize(text: str, lang: str) -> list[Token]:
    """Tokens of ``text`` with lemmas; Vietnamese is word-segmented and POS-tagged by pyvi (cached: do not mutate)."""
    if lang == "vi":
        return _tokenize_vi(text)
    return [Token(word, lemmatize(word, lang), start, start + len(word))
            for word, start in _spacy_words(text, lang)]


def lemmatize(word: str, lang: str) -> str:
    """Lowercase lemma of one word (the lowercase word where no lemmatizer knows the language)."""
    lower = word.lower()
    if lang not in SIMPLEMMA_LANGS or not any(char.isalpha() for char in lower):
        return lower
    return _simplemma(lower, lang)


@lru_cache(maxsize=200_000)
def _simplemma(word: str, lang: str) -> str:
    return _lemmatizer().lemmatize(word, lang=lang).lower()


@lru_cache(maxsize=1)
def _lemmatizer():
    """simplemma's lemmatizer over its dictionaries as MARISA tries cached on disk (simplemma's
    ``TrieDictionaryFactory``), not Python dicts: the same lemmas, but Polish takes 21 MB of memory and
    0.03 s to open instead of 330 MB and 7 s to decode in every process (built once per machine and
    simplemma version, under the user's cache folder; where that cannot be written, kept in memory)."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy
    from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

    factory = TrieDictionaryFactory(disk_cache_dir=str(trie_folder()))
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))


def trie_folder() -> Path:
    """Where the lemma tries are kept: the user's cache folder, per simplemma version."""
    from platformdirs import user_cache_dir
    from simplemma.__metadata__ import __version__

    return Path(user_cache_dir("simplemma")) / "marisa_trie" / __version__


def _spacy_words(text: str, lang: str) -> list[tuple[str, int]]:
    doc = blank_pipeline(lang).make_doc(text)
    return [(token.text.translate(PUNCT_FOLD), token.idx) for token in doc if not token.is_space]


def _tokenize_vi(text: str) -> list[Token]:
    """Syllable tokens, each with the POS tag of the pyvi word it belongs to.

    Cues are matched on syllables because pyvi joins words differently in different
    contexts ("Yêu cầu kinh nghiệm" can become one word)."""
    from pyvi import ViPosTagger, ViTokenizer

    words, tags = ViPosTagger.postagging(ViTokenizer.tokenize(text))
    tokens: list[Token] = []
    cursor = 0
    for word, tag in zip(words, tags):
        for syllable in _VI_WORD.findall(word.replace("_", " ")):
            found = text.find(syllable, cursor)
            if found < 0:
                continue  # pyvi normalised a character; the syllable stays out of the matcher
            tokens.append(Token(syllable, syllable.lower(), found, found + len(syllable), str(tag)))
            cursor = found + len(syllable)
    return tokens
