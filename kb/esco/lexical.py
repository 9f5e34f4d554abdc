"""The lexical channel: character n-grams (3 to 5, inside words) weighted by TF-IDF over every ESCO label.

Job titles and ESCO labels often share word parts that the small encoder misses ("truckförare" and
"förare av truck" share "truck" and "förare"). Every label of every language is indexed, English
alternative labels included (they cost no embedding). Built with numpy from the tables in well under a
second per kind; a concept scores the cosine of its best label.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

SIZES = (3, 4, 5)
_NON_WORD = re.compile(r"[\W_]+")
_SEPARATOR = 10  # "\n" between texts; a space pads every word
_MULTIPLIER = np.uint64(1099511628211)


@dataclass(frozen=True)
class LexicalLabel:
    """One indexed text: its concept number, language and the text."""

    concept: int
    lang: str
    text: str


def normalize(text: str) -> str:
    """Lower case, every run of non-word characters one space."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def gram_pairs(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text number, gram key) of every character n-gram inside a space-padded word of each text."""
    joined = "\n".join(f" {normalize(text)} " for text in texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    text_of = np.cumsum(codes == _SEPARATOR)
    is_space = codes == 32
    bad = (codes == _SEPARATOR).astype(np.int64)
    inner_space = is_space.astype(np.int64)
    text_numbers, keys = [], []
    for size in SIZES:
        count = len(codes) - size + 1
        if count <= 0:
            continue
        key = np.full(count, np.uint64(size), dtype=np.uint64)
        separators = np.zeros(count, dtype=np.int64)
        spaces = np.zeros(count, dtype=np.int64)
        for offset in range(size):
            key = key * _MULTIPLIER + codes[offset:offset + count]
            separators += bad[offset:offset + count]
            if 0 < offset < size - 1:
                spaces += inner_space[offset:offset + count]
        # A gram stays inside one padded word: no text separator, no space but at its ends.
        valid = (separators == 0) & (spaces == 0)
        text_numbers.append(text_of[:count][valid])
        keys.append(key[valid])
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(text_numbers).astype(np.int64), np.concatenate(keys)


@dataclass(frozen=True, eq=False)
class LexicalIndex:
    """Inverted index of label n-grams: sorted gram keys, CSR postings (label, weight), idf per gram."""

    keys: np.ndarray  # sorted unique gram keys
    starts: np.ndarray  # postings of gram g: rows[starts[g]:starts[g + 1]]
    rows: np.ndarray  # label numbers
    weights: np.ndarray  # unit-normalized tf-idf weight of the gram in the label
    idf: np.ndarray
    label_starts: np.ndarray  # first label of each concept that has labels (labels sorted by concept)
    concepts: np.ndarray  # the concept number of each entry of ``label_starts``
    labels: int
    count: int  # concepts of the kind
    unseen_idf: float

    def label_scores(self, text: str) -> np.ndarray:
        """Cosine between the text's n-gram vector and every label's."""
        _, keys = gram_pairs([text])
        scores = np.zeros(self.labels, dtype=np.float32)
        if not len(keys):
            return scores
        unique, counts = np.unique(keys, return_counts=True)
        position = np.minimum(np.searchsorted(self.keys, unique), len(self.keys) - 1)
        known = self.keys[position] == unique if len(self.keys) else np.zeros(len(unique), dtype=bool)
        idf = np.where(known, self.idf[position] if len(self.idf) else 0.0, self.unseen_idf)
        query = (1.0 + np.log(counts)) * idf
        query /= max(float(np.linalg.norm(query)), 1e-12)
        grams, weights = position[known], query[known]
        if not len(grams):
            return scores
        # each gram's postings as slices joined once: a quarter faster than one index array over all of them
        begins, ends = self.starts[grams], self.starts[grams + 1]
        spans = list(zip(begins.tolist(), ends.tolist()))
        rows = np.concatenate([self.rows[begin:end] for begin, end in spans])
        posted = np.concatenate([self.weights[begin:end] for begin, end in spans])
        return np.bincount(rows, weights=posted * np.repeat(weights, ends - begins),
                           minlength=self.labels).astype(np.float32)

    def candidate_scores(self, texts: Sequence[str], candidates: np.ndarray) -> np.ndarray:
        """(texts, K) score of each text's ``candidates[t]`` (K concept numbers each): ``scores`` read at those
        concepts only, which skips the maximum over every concept's labels (most of ``scores``' time)."""
        candidates = np.asarray(candidates, dtype=np.int64)
        result = np.zeros(candidates.shape, dtype=np.float32)
        if not len(self.label_starts) or not candidates.size:
            return result
        slot = np.full(self.count, -1, dtype=np.int64)  # each concept's entry in label_starts
        slot[self.concepts] = np.arange(len(self.concepts))
        ends = np.append(self.label_starts[1:], self.labels)
        for number, text in enumerate(texts):
            chosen = slot[candidates[number]]
            has = chosen >= 0
            if not has.any():
                continue
            begins, lengths = self.label_starts[chosen[has]], ends[chosen[has]] - self.label_starts[chosen[has]]
            offsets = np.cumsum(lengths) - lengths
            rows = np.repeat(begins - offsets, lengths) + np.arange(int(lengths.sum()))
            result[number, has] = np.maximum.reduceat(self.label_scores(text)[rows], offsets)
        return result

    def scores(self, texts: Sequence[str], excluded: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """(texts, concepts) score of each concept's best label; ``excluded[q]``: labels text q may not see."""
        result = np.zeros((len(texts), self.count), dtype=np.float32)
        for number, text in enumerate(texts):
            labels = self.label_scores(text)
            if excluded is not None and len(excluded[number]):
                labels[excluded[number]] = 0.0
            if len(self.label_starts):
                result[number, self.concepts] = np.maximum.reduceat(labels, self.label_starts)
        return result


def build_lexical(labels: Sequence[LexicalLabel], count: int, keep: np.ndarray | None = None) -> LexicalIndex:
    """The index of ``labels`` (sorted by concept); ``keep`` (bool per label) leaves labels out of it."""
    concept = np.array([label.concept for label in labels], dtype=np.int64)
    if np.any(np.diff(concept) < 0):
        raise ValueError("lexical labels must be sorted by concept")
    chosen = np.ones(len(labels), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    numbers = np.flatnonzero(chosen)
    text_number, keys = gram_pairs([labels[n].text for n in numbers])
    label_number = numbers[text_number]
    vocabulary, gram = np.unique(keys, return_inverse=True)
    pair, tf = np.unique(gram.astype(np.int64) * len(labels) + label_number, return_counts=True)
    pair_gram, pair_label = pair // len(labels), pair % len(labels)
    documents = max(len(numbers), 1)
    df = np.bincount(pair_gram, minlength=len(vocabulary))
    idf = (np.log((documents + 1) / (df + 1)) + 1.0).astype(np.float32)
    weights = (1.0 + np.log(tf)) * idf[pair_gram]
    norms = np.sqrt(np.bincount(pair_label, weights=weights ** 2, minlength=len(labels)))
    weights = (weights / np.maximum(norms[pair_label], 1e-12)).astype(np.float32)
    starts = np.searchsorted(pair_gram, np.arange(len(vocabulary) + 1)).astype(np.int64)
    concepts, label_starts = np.unique(concept, return_index=True)
    return LexicalIndex(vocabulary, starts, pair_label.astype(np.int32), weights, idf, label_starts, concepts,
                        len(labels), count, float(np.log(documents + 1) + 1.0))


def lexical_labels(concepts) -> list[LexicalLabel]:
    """Every label of every language of ``concepts`` (EscoData.occupations or .skills), by concept."""
    return [LexicalLabel(number, lang, text) for number, concept in enumerate(concepts)
            for lang in sorted(concept.labels) for text in concept.labels[lang]]


FORMAT = 1
_FIELDS = ("keys", "starts", "rows", "weights", "idf", "label_starts", "concepts")


def open_lexical(data, kind: str) -> LexicalIndex:
    """The lexical index of one kind of a table set: read from the user's cache folder, else built (about a
    second or two) and saved there for the next process; kept in memory only where that cannot be written."""
    concepts = data.occupations if kind == "occupation" else data.skills
    path = _cache_path(data, kind)
    if path is not None and path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in _FIELDS}
                labels, unseen = int(stored["labels"]), float(stored["unseen_idf"])
            return LexicalIndex(**arrays, labels=labels, count=len(concepts), unseen_idf=unseen)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt below
    index = build_lexical(lexical_labels(concepts), len(concepts))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(temporary, labels=index.labels, unseen_idf=index.unseen_idf,
                     **{name: getattr(index, name) for name in _FIELDS})
            os.replace(temporary, path)
        except OSError:
            pass
    return index


def _cache_path(data, kind: str) -> Path | None:
    """Cache file named after the tables' content, so an import of other tables gets its own."""
    from platformdirs import user_cache_dir

    from kb.esco.data import TABLES_FILE

    tables = Path(data.folder) / TABLES_FILE
    if not tables.exists():
        return None
    digest = hashlib.sha1(tables.read_bytes()).hexdigest()[:16]
    return Path(user_cache_dir("kb")) / "esco_lexical" / f"{kind}-{digest}-{FORMAT}.npz"
