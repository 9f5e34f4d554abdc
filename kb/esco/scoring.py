"""Concept scores from label vectors: centering per language, pooling a concept's labels, description weight."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.embedding.quantized import QuantizedTable, quantize_table, similarities as int8_similarities
from kb.esco.vectors import KINDS, LabelVectors, normalize_rows


@dataclass(frozen=True)
class Method:
    """How query-label similarities become one score per concept (chosen in docs/esco_evaluation.md)."""

    center: bool = True  # remove each language's mean vector from labels and queries
    temperature: float = 0.0  # 0: max over a concept's labels; >0: log-mean-exp pooling
    description_weight: float = 0.0  # weight of the description similarity, added to the label score
    description_center: bool = False  # that similarity between the centered query and centered descriptions
    languages: tuple[str, ...] = ()  # only labels in these languages (empty: all)
    lexical_weight: float = 0.0  # weight of the character n-gram score (kb/esco/lexical.py), added for texts
    head_types: tuple[str, ...] = ()  # types whose learned head (head_<type>.npz) maps short texts and labels
    head_max_words: int = 0  # texts of more words (descriptions) are scored without the head
    text_head_types: tuple[str, ...] = ()  # types whose text head (text_head_<type>.npz) also scores long texts
    text_head_weight: float = 0.0  # weight of the text head's score, added for texts of more than head_max_words


@dataclass(frozen=True, eq=False)
class Adapter:
    """Learned on held-out concepts (eval/esco_adapter.py): directions projected out of every centered vector
    (what still tells languages apart), and a ridge map applied to queries."""

    directions: np.ndarray  # (k, dim), orthonormal rows; k may be 0
    query_map: np.ndarray | None = None  # (dim, dim)
    shared_map: np.ndarray | None = None  # (dim, dim) applied to labels and queries alike

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """Remove the learned directions, apply the shared map, renormalize."""
        if len(self.directions):
            vectors = normalize_rows(vectors - (vectors @ self.directions.T) @ self.directions)
        if self.shared_map is not None:
            vectors = normalize_rows(vectors @ self.shared_map)
        return vectors


@dataclass(frozen=True, eq=False)
class KindIndex:
    """The rows of one kind (occupation or skill), sorted by concept, ready for scoring."""

    labels: np.ndarray  # (rows, dim) centered (if asked) unit label vectors
    label_rows: np.ndarray  # the row number of each label in the LabelVectors it came from
    label_concept: np.ndarray
    label_lang: np.ndarray
    starts: np.ndarray  # first label row of each concept that has labels
    concepts: np.ndarray  # the concept numbers in ``starts`` order
    described: np.ndarray  # the numbers of the concepts that have a description vector
    descriptions: np.ndarray  # (described, dim) their vectors: centered and unit length under description_center
    means: np.ndarray  # (languages, dim) mean label vector per language (zero where none)
    count: int
    adapter: Adapter | None = None
    folded: float = 0.0  # > 0: each label row holds this weight of its concept's description (``fold_descriptions``)
    whole: "KindIndex | None" = None  # the index a ``part`` was cut from (its int8 rows are views of the whole's)
    offset: int = 0  # the part's first row in the whole

    @cached_property
    def runs(self) -> tuple[tuple[int, int, int, int], ...]:
        """(first, end, width, row): concepts ``starts[first:end]`` have ``width`` label rows each, laid out one
        after the other from ``row`` on. ``kind_index`` lays concepts out by their number of labels, so a few
        runs cover them all and a concept's best label is a maximum over fixed-width blocks
        (``pooled_max``)."""
        widths = np.diff(np.append(self.starts, len(self.labels)))
        if not len(widths):
            return ()
        first = np.flatnonzero(np.r_[True, widths[1:] != widths[:-1]])
        ends = np.append(first[1:], len(widths))
        return tuple((int(a), int(b), int(widths[a]), int(self.starts[a])) for a, b in zip(first, ends))

    @cached_property
    def quantized(self) -> QuantizedTable:
        """The label rows in int8, for ``concept_scores``'s product (``kb.embedding.quantized``); a part's are
        views of its whole index's."""
        if self.whole is not None:
            return self.whole.quantized.part(self.offset, self.offset + len(self.labels))
        return quantize_table(self.labels)

    @cached_property
    def label_means(self) -> np.ndarray:
        """(count, dim) unit mean of each concept's prepared label vectors (zero where it has none): what a text
        head maps long texts towards (``text_head_scores``)."""
        sums = np.zeros((self.count, self.labels.shape[1]), dtype=np.float32)
        dim = self.labels.shape[1]
        for first, end, width, row in self.runs:
            block = self.labels[row:row + (end - first) * width].reshape(end - first, width, dim)
            concepts = self.concepts[first:end]
            sums[concepts] = block.sum(axis=1)
            if self.folded:  # the labels alone: less each row's share of its description
                sums[concepts] -= (self.folded * width) * self.description_table[concepts]
        return _unit(sums)

    @cached_property
    def description_table(self) -> np.ndarray:
        """(count, dim) each concept's description vector as scored (zero where it has none): what a text head
        drawn towards descriptions maps long texts to (``head_table``)."""
        table = np.zeros((self.count, self.labels.shape[1]), dtype=np.float32)
        table[self.described] = self.descriptions
        return table


def head_map(down: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The dense map I + down @ up of a low-rank residual head."""
    return (np.eye(down.shape[0], dtype=np.float32) + down @ up).astype(np.float32)


def load_head(path: Path) -> Adapter | None:
    """The learned head shipped at ``path`` (``eval/esco_head.py``) as an adapter, or None without one."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as stored:
        shared = head_map(stored["down"], stored["up"])
    return Adapter(np.zeros((0, shared.shape[0]), dtype=np.float32), shared_map=shared)


TEXT_HEAD_TARGETS = ("labels", "descriptions")  # what a text head draws a text towards (``head_table``)


@dataclass(frozen=True, eq=False)
class TextHead:
    """A low-rank residual map for long texts (descriptions, duty prose), learned by ``eval/esco_adapter.py:
    train_text_head`` to draw such a text towards its concept's mean label vector (``target`` "labels") or its
    concept's English description (``target`` "descriptions")."""

    down: np.ndarray  # (dim, rank)
    up: np.ndarray  # (rank, dim)
    target: str = "labels"

    @classmethod
    def load(cls, path: Path) -> "TextHead | None":
        """The head shipped at ``path``, or None without one."""
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as stored:
            target = str(stored["target"]) if "target" in stored.files else "labels"
            return cls(stored["down"].astype(np.float32), stored["up"].astype(np.float32), target)

    def save(self, path: Path) -> None:
        """Write the two factors (float32) and the target."""
        np.savez(path, down=self.down.astype(np.float32), up=self.up.astype(np.float32), target=np.array(self.target))


def head_table(kind_index: KindIndex, target: str) -> np.ndarray:
    """(count, dim) what a text head of ``target`` draws texts towards: each concept's unit mean label, or its
    description as the index holds it (centered under ``Method.description_center``; zero without one)."""
    if target not in TEXT_HEAD_TARGETS:
        raise ValueError(f"unknown text head target {target!r}")
    return kind_index.label_means if target == "labels" else kind_index.description_table


def text_head_scores(queries: np.ndarray, kind_index: KindIndex, head: TextHead) -> np.ndarray:
    """(queries, concepts) cosine of each centered query, mapped by the head, with what the head draws towards
    (``head_table``)."""
    centered = center_queries(np.asarray(queries, dtype=np.float32), kind_index)
    mapped = _unit(centered + (centered @ head.down) @ head.up)
    return mapped @ head_table(kind_index, head.target).T


def short_texts(texts, max_words: int) -> np.ndarray:
    """Which texts have at most ``max_words`` words (titles and terms, not descriptions)."""
    return np.array([len(text.split()) <= max_words for text in texts], dtype=bool)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def kind_index(index: LabelVectors, kind: str, count: int, method: Method,
               keep: np.ndarray | None = None, adapter: Adapter | None = None,
               groups: np.ndarray | None = None) -> KindIndex:
    """Prepare the rows of one kind; ``keep`` (bool per row) leaves rows out, as the evaluation does;
    ``groups`` (a number per concept) lays out each group's rows together, so ``part`` can score one alone."""
    chosen = index.kind == KINDS.index(kind)
    if keep is not None:
        chosen &= keep
    if method.languages:
        allowed = [index.languages.index(lang) for lang in method.languages if lang in index.languages]
        chosen &= np.isin(index.lang, allowed) | (index.field == 2)
    is_label = chosen & (index.field != 2)
    label_rows = np.flatnonzero(is_label)
    label_lang = index.lang[label_rows]
    means = np.zeros((len(index.languages), index.vectors.shape[1]), dtype=np.float32)
    for number in range(len(index.languages)):
        if (label_lang == number).any():
            means[number] = index.vectors[label_rows[label_lang == number]].mean(axis=0)
    label_concept = index.concept[label_rows]
    # Concepts by their number of labels (``KindIndex.runs``), within each group where groups are given.
    widths = np.bincount(label_concept, minlength=count)[label_concept]
    keys = (label_concept, widths) + (() if groups is None else (np.asarray(groups)[label_concept],))
    order = np.lexsort(keys)
    label_rows, label_concept, label_lang = label_rows[order], label_concept[order], label_lang[order]
    # One copy of the rows, in their final order, centered and normalized in place (the load's largest cost).
    labels = index.vectors[label_rows]
    if method.center:
        normalize_rows(labels, means, label_lang)
    if adapter is not None:
        labels = adapter.project(labels)
    # A concept's rows are contiguous; its first row starts its reduceat segment (in row order).
    starts = np.flatnonzero(np.r_[True, label_concept[1:] != label_concept[:-1]]) if len(label_concept) \
        else np.zeros(0, dtype=np.int64)
    concepts = label_concept[starts]
    description_rows = np.flatnonzero(chosen & (index.field == 2))
    described, first = np.unique(index.concept[description_rows], return_index=True)  # one description a concept
    descriptions = index.vectors[description_rows[first]]
    if method.description_center and len(descriptions):
        descriptions = normalize_rows(descriptions, descriptions.mean(axis=0, keepdims=True),
                                      np.zeros(len(descriptions), dtype=np.int64))
    return KindIndex(np.ascontiguousarray(labels), label_rows, label_concept, label_lang, starts, concepts, described,
                     np.ascontiguousarray(descriptions), means, count, adapter)


def with_adapter(index: KindIndex, adapter: Adapter) -> KindIndex:
    """The index with ``adapter`` applied to its labels: what ``kind_index(..., adapter=adapter)`` builds, from
    rows already prepared."""
    return replace(index, labels=np.ascontiguousarray(adapter.project(index.labels)), adapter=adapter, whole=None,
                   offset=0)


FOLD_ROWS = 4096


def fold_descriptions(index: KindIndex, method: Method) -> KindIndex:
    """The index with each label row plus its concept's description times ``method.description_weight``: a
    concept's score, its best label's similarity plus the weighted description's, is then its best row's
    similarity (max(q.l) + w q.d = max(q.(l + w d))), one product over the label rows instead of two (a third
    fewer multiplications for ESCO's skills; equal to float rounding). Only where the labels and the
    descriptions meet the same query vector (no adapter; centered alike); else the index unchanged."""
    if (not method.description_weight or not len(index.described) or index.folded or index.adapter is not None
            or method.center != method.description_center):
        return index
    slot = np.full(index.count, -1, dtype=np.int64)
    slot[index.described] = np.arange(len(index.described))
    rows = slot[index.label_concept]
    weight = np.float32(method.description_weight)
    labels = np.empty_like(index.labels)
    for begin in range(0, len(labels), FOLD_ROWS):  # in blocks: no second array of the rows' size
        block = slice(begin, begin + FOLD_ROWS)
        np.multiply(index.descriptions[np.maximum(rows[block], 0)], weight, out=labels[block])
        labels[block][rows[block] < 0] = 0.0
        labels[block] += index.labels[block]
    return replace(index, labels=labels, folded=float(method.description_weight), whole=None, offset=0)


def part(index: KindIndex, concepts: np.ndarray) -> KindIndex:
    """The index restricted to the concepts marked in ``concepts`` (bool per concept), which ``kind_index``
    laid out together (its ``groups``): views of its rows, no copy. A kept concept scores as in the whole
    index, every other concept -inf, at the cost of its own rows only."""
    kept = np.asarray(concepts, dtype=bool)[index.concepts]
    where = np.flatnonzero(kept)
    if not len(where):
        return replace(index, labels=index.labels[:0], label_rows=index.label_rows[:0],
                       label_concept=index.label_concept[:0], label_lang=index.label_lang[:0],
                       starts=index.starts[:0], concepts=index.concepts[:0])
    first, last = int(where[0]), int(where[-1]) + 1
    if not kept[first:last].all():
        raise ValueError("the concepts of a part must be laid out together (kind_index's groups)")
    begin = int(index.starts[first])
    end = int(index.starts[last]) if last < len(index.starts) else len(index.labels)
    rows = slice(begin, end)
    return replace(index, labels=index.labels[rows], label_rows=index.label_rows[rows],
                   label_concept=index.label_concept[rows], label_lang=index.label_lang[rows],
                   starts=index.starts[first:last] - begin, concepts=index.concepts[first:last],
                   whole=index.whole or index, offset=index.offset + begin)


def center_queries(queries: np.ndarray, kind_index: KindIndex) -> np.ndarray:
    """Remove from each query the mean of the language it is closest to (its likely language)."""
    means = kind_index.means
    present = np.linalg.norm(means, axis=1) > 0
    closeness = queries @ _unit(means).T
    closeness[:, ~present] = -np.inf
    return _unit(queries - means[np.argmax(closeness, axis=1)])


def pooled_max(similarities: np.ndarray, kind_index: KindIndex) -> np.ndarray:
    """(queries, concepts in ``starts`` order) each concept's best label similarity: what
    ``np.maximum.reduceat(similarities, starts, axis=1)`` gives, four times faster, as a maximum over the
    label columns of each run of concepts with as many labels (``KindIndex.runs``)."""
    count = len(similarities)
    pooled = np.empty((count, len(kind_index.starts)), dtype=similarities.dtype)
    for first, end, width, row in kind_index.runs:
        block = similarities[:, row:row + (end - first) * width].reshape(count, end - first, width)
        if width > 8:  # a few concepts with many labels: one reduction
            pooled[:, first:end] = block.max(axis=2)
            continue
        best = pooled[:, first:end]
        np.copyto(best, block[:, :, 0])
        for column in range(1, width):
            np.maximum(best, block[:, :, column], out=best)
    return pooled


def label_similarities(queries: np.ndarray, kind_index: KindIndex) -> np.ndarray:
    """(queries, label rows) cosine similarities, in int8 (``kb.embedding.quantized``): float32's to about
    0.0003, in about half the time (docs/benchmarks.md, "ESCO's label product in int8")."""
    return int8_similarities(queries, kind_index.quantized)


def concept_scores(queries: np.ndarray, kind_index: KindIndex, method: Method,
                   exclude: list[np.ndarray] | None = None) -> np.ndarray:
    """(queries, concepts) scores; concepts without labels get -inf; ``exclude[q]``: rows query q may not see
    (not with an index whose descriptions are folded into its rows)."""
    if exclude is not None and kind_index.folded:
        raise ValueError("rows cannot be excluded from an index with folded descriptions")
    queries = np.asarray(queries, dtype=np.float32)
    language_free = center_queries(queries, kind_index) if method.center or method.description_center else None
    centered = language_free if method.center else queries
    if kind_index.adapter is not None:
        centered = kind_index.adapter.project(centered)
        if kind_index.adapter.query_map is not None:
            centered = _unit(centered @ kind_index.adapter.query_map)
    similarities = label_similarities(centered, kind_index)
    if exclude is not None:
        position = np.full(int(kind_index.label_rows.max(initial=0)) + 1, -1)
        position[kind_index.label_rows] = np.arange(len(kind_index.label_rows))
        for query, rows in enumerate(exclude):
            rows = position[rows[rows < len(position)]]
            similarities[query, rows[rows >= 0]] = -2.0
    scores = np.full((len(queries), kind_index.count), -np.inf, dtype=np.float32)
    if len(kind_index.starts):
        if method.temperature > 0:
            pooled = np.maximum.reduceat(similarities, kind_index.starts, axis=1)
            best = np.repeat(pooled, np.diff(np.append(kind_index.starts, similarities.shape[1])), axis=1)
            weights = np.exp((similarities - best) / method.temperature)
            sums = np.add.reduceat(weights, kind_index.starts, axis=1)
            counts = np.diff(np.append(kind_index.starts, similarities.shape[1]))
            pooled = pooled + method.temperature * np.log(sums / counts)
        else:
            pooled = pooled_max(similarities, kind_index)
        scores[:, kind_index.concepts] = pooled
    if method.description_weight and len(kind_index.described) and not kind_index.folded:
        # centered descriptions (kind_index centered them) meet the query before any adapter, less its language
        reader = language_free if method.description_center else queries
        similarity = reader @ kind_index.descriptions.T
        similarity *= method.description_weight
        if len(kind_index.described) == kind_index.count:  # every concept described (ESCO's skills): in place
            scores += similarity
        else:
            scores[:, kind_index.described] += similarity
    return scores
