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
from functools import lru_cache
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


def spans(begins: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``begins[i] .. begins[i] + lengths[i] - 1`` of every span, one after the other."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(begins - offsets, lengths) + np.arange(int(lengths.sum()))


@dataclass(frozen=True, eq=False)
class LexicalIndex:
    """Inverted index of label n-grams: sorted gram keys, CSR postings (label, weight), idf per gram; and the same
    pairs by label (each label's grams and weights), which scores a few candidate labels without reading the
    postings of every gram of the text."""

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
    pair_starts: np.ndarray  # grams of label l: pair_grams[pair_starts[l]:pair_starts[l + 1]] (by gram number)
    pair_grams: np.ndarray  # gram numbers (positions in ``keys``)
    pair_weights: np.ndarray  # the gram's weight in the label, as in ``weights``

    def query(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's known grams (positions in ``keys``, ascending) and their unit-normalized tf-idf weights
        (float64; grams no label has count towards the norm only)."""
        return self.queries([text])[0]

    def queries(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``query`` of each text, their grams found in one pass."""
        numbers, keys = gram_pairs(texts)
        order = np.lexsort((keys, numbers))
        numbers, keys = numbers[order], keys[order]
        first = np.flatnonzero(np.r_[True, (numbers[1:] != numbers[:-1]) | (keys[1:] != keys[:-1])]) \
            if len(keys) else np.zeros(0, dtype=np.int64)
        counts = np.diff(np.append(first, len(keys)))
        numbers, keys = numbers[first], keys[first]
        position = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        known = self.keys[position] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        idf = np.where(known, self.idf[position] if len(self.idf) else 0.0, self.unseen_idf)
        weights = (1.0 + np.log(counts)) * idf
        bounds = np.searchsorted(numbers, np.arange(len(texts) + 1))
        result = []
        for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            own = weights[begin:end] / max(float(np.linalg.norm(weights[begin:end])), 1e-12)
            chosen = known[begin:end]
            result.append((position[begin:end][chosen], own[chosen]))
        return result

    def label_scores(self, text: str) -> np.ndarray:
        """Cosine between the text's n-gram vector and every label's."""
        return self._label_scores(*self.query(text))

    def _label_scores(self, grams: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``label_scores`` of a text's ``query``."""
        if not len(grams):
            return np.zeros(self.labels, dtype=np.float32)
        # each gram's postings as slices joined once: a quarter faster than one index array over all of them
        begins, ends = self.starts[grams], self.starts[grams + 1]
        spans = list(zip(begins.tolist(), ends.tolist()))
        rows = np.concatenate([self.rows[begin:end] for begin, end in spans])
        posted = np.concatenate([self.weights[begin:end] for begin, end in spans])
        return np.bincount(rows, weights=posted * np.repeat(weights, ends - begins),
                           minlength=self.labels).astype(np.float32)

    def candidate_scores(self, texts: Sequence[str], candidates: np.ndarray) -> np.ndarray:
        """(texts, K) score of each text's ``candidates[t]`` (K concept numbers each): ``scores`` read at those
        concepts, computed from the candidates' own labels' grams (``pair_*``) rather than from the postings of
        every gram of the text (tens of thousands for a duty; a candidate's labels hold about 70 grams each).
        The sums run in the same order as ``label_scores``': the same scores to the bit."""
        candidates = np.asarray(candidates, dtype=np.int64)
        result = np.zeros(candidates.shape, dtype=np.float32)
        if not len(self.label_starts) or not candidates.size:
            return result
        slot = np.full(self.count, -1, dtype=np.int64)  # each concept's entry in label_starts
        slot[self.concepts] = np.arange(len(self.concepts))
        ends = np.append(self.label_starts[1:], self.labels)
        lookup = np.zeros(len(self.keys), dtype=np.float64)  # the text's weight per gram number, zero elsewhere
        for number, (grams, weights) in enumerate(self.queries(texts)):
            chosen = slot[candidates[number]]
            has = chosen >= 0
            if not has.any() or not len(grams):
                continue
            begins, lengths = self.label_starts[chosen[has]], ends[chosen[has]] - self.label_starts[chosen[has]]
            offsets = np.cumsum(lengths) - lengths
            labels = spans(begins, lengths)
            sizes = self.pair_starts[labels + 1] - self.pair_starts[labels]
            pairs = spans(self.pair_starts[labels], sizes)
            lookup[grams] = weights
            products = self.pair_weights[pairs] * lookup[self.pair_grams[pairs]]
            lookup[grams] = 0.0
            per_label = np.bincount(np.repeat(np.arange(len(labels)), sizes), weights=products,
                                    minlength=len(labels)).astype(np.float32)
            result[number, has] = np.maximum.reduceat(per_label, offsets)
        return result

    def scores(self, texts: Sequence[str], excluded: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """(texts, concepts) score of each concept's best label; ``excluded[q]``: labels text q may not see."""
        result = np.zeros((len(texts), self.count), dtype=np.float32)
        for number, query in enumerate(self.queries(texts)):  # the texts' grams found in one pass
            labels = self._label_scores(*query)
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
    by_label = np.argsort(pair_label, kind="stable")  # each label's pairs, its grams ascending
    pair_starts = np.searchsorted(pair_label[by_label], np.arange(len(labels) + 1)).astype(np.int64)
    return LexicalIndex(vocabulary, starts, pair_label.astype(np.int32), weights, idf, label_starts, concepts,
                        len(labels), count, float(np.log(documents + 1) + 1.0), pair_starts,
                        pair_gram[by_label].astype(np.int32), weights[by_label])


def lexical_labels(concepts) -> list[LexicalLabel]:
    """Every label of every language of ``concepts`` (EscoData.occupations or .skills), by concept."""
    return [LexicalLabel(number, lang, text) for number, concept in enumerate(concepts)
            for lang in sorted(concept.labels) for text in concept.labels[lang]]


FORMAT = 2
_FIELDS = ("keys", "starts", "rows", "weights", "idf", "label_starts", "concepts", "pair_starts", "pair_grams",
           "pair_weights")


def open_lexical(data, kind: str) -> LexicalIndex:
    """The lexical index of one kind of a table set: mapped from the user's cache folder (one ``.npy`` a field,
    so opening it reads nothing until a score needs it), else built (a few seconds) and saved there for the
    next process; kept in memory only where that cannot be written."""
    concepts = data.occupations if kind == "occupation" else data.skills
    folder = cache_folder(data, kind)
    if folder is not None and (folder / "meta.npy").exists():
        try:
            arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False))
                      for name in _FIELDS}
            labels, unseen = np.load(folder / "meta.npy", allow_pickle=False).tolist()
            if len(arrays["pair_starts"]) == int(labels) + 1:
                return LexicalIndex(**arrays, labels=int(labels), count=len(concepts), unseen_idf=float(unseen))
        except (OSError, ValueError):
            pass  # a damaged cache folder is rebuilt below
    index = build_lexical(lexical_labels(concepts), len(concepts))
    if folder is not None:
        _save(index, folder)
    return index


def _save(index: LexicalIndex, folder: Path) -> None:
    """Write the index's fields into ``folder`` whole or not at all (built aside, then renamed into place)."""
    import shutil

    temporary = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    try:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
        for name in _FIELDS:
            np.save(temporary / f"{name}.npy", getattr(index, name))
        np.save(temporary / "meta.npy", np.array([index.labels, index.unseen_idf], dtype=np.float64))
        shutil.rmtree(folder, ignore_errors=True)  # a damaged one
        os.replace(temporary, folder)
    except OSError:  # a read-only cache, or another process that got there first
        shutil.rmtree(temporary, ignore_errors=True)
        return
    stem = folder.name.rsplit("-", 1)[0]
    for older in folder.parent.glob(f"{stem}-*.npz"):  # the same tables' index in an earlier format
        older.unlink(missing_ok=True)


def cache_folder(data, kind: str) -> Path | None:
    """Cache folder named after the tables' content, so an import of other tables gets its own."""
    from platformdirs import user_cache_dir

    from kb.esco.data import TABLES_FILE

    tables = Path(data.folder) / TABLES_FILE
    if not tables.exists():
        return None
    stat = tables.stat()
    digest = _digest(str(tables), stat.st_mtime_ns, stat.st_size)
    return Path(user_cache_dir("kb")) / "esco_lexical" / f"{kind}-{digest}-{FORMAT}"


@lru_cache(maxsize=8)
def _digest(path: str, modified: int, size: int) -> str:
    """The tables file's content hash, once per process and version of the file (both kinds ask)."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:16]
