"""Correction of the embeddings' bias toward the query's language.

A multilingual encoder gives every text a component that says which language
it is in, so a query scores higher against sentences of its own language
whatever they mean. Two corrections are implemented and measured by
``python -m eval.search``:

* ``center``: subtract each language's mean passage vector, then renormalize.
  The language component is shared by all passages of a language and drops
  out; what remains is what the passage says. The index holds the corrected
  vectors (the store keeps the raw ones).
* ``project``: remove the language subspace from passages *and* queries.
  The directions in which the languages' mean vectors differ (an SVD of the
  centered means, rank = languages - 1) carry language identity; projecting
  them out of both sides removes the query's own-language pull, which
  ``center`` cannot touch because it only corrects passages. (This is the
  "language information removal" of Yang et al. 2021.)
* ``project_hub`` (the default): ``project``, then a hubness correction. Some
  units (short generic phrases) are close to every query and crowd the top of
  unrelated searches. As in CSLS (Conneau et al. 2018), each unit's score is
  lowered by half its mean similarity to a sample of queries: here a fixed
  set of generic, off-topic queries in eight languages (``HUB_PROBES``). This
  correction has no index of its own: the raw index is searched with the
  projected query (``Pq . x = Pq . Px``, so it ranks by the projected cosine
  up to each passage's norm after projection) for ``OVERFETCH`` times the
  pool, and those candidates are scored exactly (projection, normalization,
  penalty) from their reconstructed vectors.
* ``znorm``: keep the raw vectors and standardize the scores per language,
  ``(q.x - q.mean_L) / sqrt(q' Cov_L q)``, from each language's mean and
  covariance, so that every language's scores have mean 0 and variance 1.

A language with few units has a noisy mean that also holds its articles'
topic, so each language's statistics are shrunk toward the whole knowledge
base's with a prior of ``PRIOR_UNITS`` units.

The language means (and the probes' vectors, and the index of ``center`` or
``project`` when those are asked for) live in ``<kb>/search/``, stamped with the
store generation: stale files are rebuilt from the database on first use, and
the post-ingest hook rebuilds them right away. The covariances, 384 x 384 a
language and needed by ``znorm`` alone, are computed when it is used and kept
in memory only.
"""
from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.embedding.embedders import normalize
from kb.errors import KBError
from kb.files import write_atomically, write_text_atomically
from kb.storage.codec import blob_vector
from kb.storage.engines import build_index, load_index
from kb.storage.vectors import UnitFilter, VectorIndex, filtered_search

CORRECTIONS = ("none", "center", "project", "project_hub", "znorm")
INDEXED = ("center", "project")  # corrections whose corrected vectors get their own index (not the default)
OVERFETCH = 3  # project_hub: raw-index candidates scored exactly, per result wanted
SEARCH_DIR = "search"
STATS_FILE = "language_stats.npz"
STATS_META = "language_stats.json"
PROBES_FILE = "hub_probes.npy"
PRIOR_UNITS = 20.0
HUB_WEIGHT = 0.5  # CSLS: 2 cos - r_query - r_unit ranks like cos - r_unit / 2
# Generic queries about topics no job article is about, three per language, one topic each.
HUB_PROBES = (
    "how do airplanes stay in the air", "poems about the sea", "best smartphone this year",
    "vikingatidens historia", "billigaste elbilen", "hur långt är det till månen",
    "jak naprawić przebitą dętkę rowerową", "przepis na pierogi z kapustą", "najwyższe góry w Europie",
    "giá vàng hôm nay", "học tiếng Anh trực tuyến miễn phí", "lịch sử triều Nguyễn",
    "Ergebnisse der Bundestagswahl", "Urlaub am Meer in Italien", "Geschichte der Dinosaurier",
    "paroles de chansons d'amour", "musées gratuits à Paris", "histoire de la Révolution française",
    "mejores playas de España", "historia del arte moderno", "cómo tejer una bufanda",
    "il miglior gelato di Roma", "melhores filmes de comédia", "stock market news today",
)
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.RLock()  # the app searches from several threads


@dataclass(frozen=True)
class LanguageStats:
    """Per-language mean and covariance of the raw unit vectors."""

    generation: int
    langs: tuple[str, ...]
    counts: np.ndarray  # (L,)
    means: np.ndarray  # (L, d), shrunk toward the global mean
    covariances: np.ndarray | None = None  # (L, d, d), shrunk toward the global covariance (znorm only)

    @cached_property
    def language_basis(self) -> np.ndarray:
        """Orthonormal rows spanning the differences between the language means, (L-1, d); computed once
        per statistics (an SVD that took 3.5 ms of every search with 25 languages)."""
        if len(self.langs) < 2:
            return np.zeros((0, self.means.shape[1]), np.float32)
        differences = self.means - self.means.mean(axis=0)
        _, singular, rows = np.linalg.svd(differences.astype(np.float64), full_matrices=False)
        keep = singular > 1e-6 * singular[0]
        return rows[keep].astype(np.float32)

    def row(self, lang: str) -> int | None:
        """The row of a language in the arrays, or None if the knowledge base has none of it."""
        return self.langs.index(lang) if lang in self.langs else None


def check_correction(name: str) -> str:
    """Refuse an unknown correction name, listing the valid ones."""
    if name not in CORRECTIONS:
        raise KBError(f"unknown bias correction {name!r}", hint=f"use one of {', '.join(CORRECTIONS)}")
    return name


def _unit_batches(store, batch: int = 4096):
    cursor = store.connection.execute("SELECT id, lang, vector FROM units WHERE vector IS NOT NULL ORDER BY id")
    while rows := cursor.fetchmany(batch):
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        langs = [row[1] for row in rows]
        yield ids, langs, np.vstack([blob_vector(row[2]) for row in rows])


def compute_stats(store, dim: int, covariances: bool = False) -> LanguageStats:
    """Per-language means (and, if asked, covariances) of the stored vectors, in one streaming pass."""
    sums: dict[str, np.ndarray] = {}
    outer: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for _, langs, vectors in _unit_batches(store):
        vectors = vectors.astype(np.float64)
        langs_array = np.asarray(langs)
        for lang in set(langs):
            chosen = vectors[langs_array == lang]
            sums[lang] = sums.get(lang, np.zeros(dim)) + chosen.sum(axis=0)
            if covariances:
                outer[lang] = outer.get(lang, np.zeros((dim, dim))) + chosen.T @ chosen
            counts[lang] = counts.get(lang, 0) + len(chosen)
    langs = tuple(sorted(counts))
    generation = store.generation
    if not langs:
        return LanguageStats(generation, (), np.zeros(0), np.zeros((0, dim), np.float32),
                             np.zeros((0, dim, dim), np.float32) if covariances else None)
    total = sum(counts.values())
    global_mean = sum(sums.values()) / total
    means = [(sums[lang] + PRIOR_UNITS * global_mean) / (counts[lang] + PRIOR_UNITS) for lang in langs]
    shrunk = None
    if covariances:
        global_cov = sum(outer.values()) / total - np.outer(global_mean, global_mean)
        shrunk = []
        for lang in langs:
            n = counts[lang]
            own_cov = outer[lang] / n - np.outer(sums[lang] / n, sums[lang] / n)
            shrunk.append((n * own_cov + PRIOR_UNITS * global_cov) / (n + PRIOR_UNITS))
        shrunk = np.array(shrunk, dtype=np.float32)
    return LanguageStats(generation, langs, np.array([counts[lang] for lang in langs]),
                         np.array(means, dtype=np.float32), shrunk)


def language_means(vectors: np.ndarray, langs: Sequence[str], shrink: int = PRIOR_UNITS) -> dict[str, np.ndarray]:
    """Each language's mean vector, shrunk toward the mean of all vectors when it has few (in memory)."""
    if len(vectors) == 0:
        return {}
    overall = vectors.mean(axis=0)
    langs_array = np.asarray(langs)
    means = {}
    for lang in sorted(set(langs)):
        rows = vectors[langs_array == lang]
        weight = len(rows) / (len(rows) + shrink)
        means[lang] = weight * rows.mean(axis=0) + (1 - weight) * overall
    return means


def subtract_language_means(vectors: np.ndarray, langs: Sequence[str], means: dict[str, np.ndarray]) -> np.ndarray:
    """Vectors minus their language's mean, renormalized; a language without a mean uses the mean of the means."""
    if len(vectors) == 0:
        return vectors
    fallback = np.mean(list(means.values()), axis=0) if means else np.zeros(vectors.shape[1], np.float32)
    return normalize(vectors - np.vstack([means.get(lang, fallback) for lang in langs]))


def center(vectors: np.ndarray, langs: list[str], stats: LanguageStats) -> np.ndarray:
    """Vectors minus their language's mean, renormalized (method ``center``)."""
    return subtract_language_means(vectors, langs, dict(zip(stats.langs, stats.means)))


def project(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Vectors (or one vector) without their components in the language subspace, renormalized."""
    return normalize(vectors - (vectors @ basis.T) @ basis)


def correct_passages(vectors: np.ndarray, langs: list[str], stats: LanguageStats, correction: str) -> np.ndarray:
    """Passage vectors as the index of a correction holds them (``center``, ``project``)."""
    if correction == "center":
        return center(vectors, langs, stats)
    if correction == "project":
        return project(vectors, stats.language_basis)
    return vectors


def correct_query(kb, query_vector: np.ndarray, correction: str) -> np.ndarray:
    """The query vector as a correction searches its index with it (projected for both projections)."""
    if correction in ("project", "project_hub"):
        return project(query_vector, language_stats(kb).language_basis)
    return query_vector


def hub_scores(kb, vectors: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
    """The ``project_hub`` scores of raw passage vectors: projected cosine minus the hub penalty."""
    basis = language_stats(kb).language_basis
    projected = project(np.atleast_2d(vectors), basis)
    penalty = HUB_WEIGHT * projected @ projected_probes_mean(kb)
    return projected @ project(query_vector, basis) - penalty


def projected_probes_mean(kb) -> np.ndarray:
    """The mean of the projected probe vectors (a unit's hub penalty is its cosine with it, halved), once
    per knowledge-base state."""
    with _lock:
        state = _state(kb)
        if state.probes_mean is None:
            state.probes_mean = project(probe_vectors(kb), state.stats.language_basis).mean(axis=0)
        return state.probes_mean


def search(kb, query_vector: np.ndarray, correction: str, k: int,
           where: UnitFilter | None = None) -> list[tuple[int, float]]:
    """The k best units under a correction with their scores, best first, among those ``where`` admits."""
    index = dense_index(kb, correction)
    pairs = filtered_search(index, kb.store, correct_query(kb, query_vector, correction),
                            k * (OVERFETCH if correction == "project_hub" else 1), where)
    if correction != "project_hub" or not pairs:
        return pairs
    ids = [unit_id for unit_id, _ in pairs]
    scores = hub_scores(kb, index.reconstruct(ids), query_vector)
    return sorted(zip(ids, scores.tolist()), key=lambda pair: -pair[1])[:k]


def unit_scores(kb, ids: Sequence[int], query_vector: np.ndarray, correction: str) -> np.ndarray:
    """The index scores of given units under a correction (before ``znorm``'s per-language scaling)."""
    vectors = dense_index(kb, correction).reconstruct(ids)
    if correction == "project_hub":
        return hub_scores(kb, vectors, query_vector)
    return vectors @ correct_query(kb, query_vector, correction)


def probe_vectors(kb) -> np.ndarray:
    """The raw query vectors of ``HUB_PROBES``, embedded once per knowledge base and kept in its folder."""
    with _lock:
        state = _state(kb)
        if state.probes is None:
            path = _folder(kb) / PROBES_FILE
            probes = np.load(path) if path.exists() else None
            if probes is None or probes.shape != (len(HUB_PROBES), kb.settings.dim):
                from kb.embedding.embedders import embed_queries

                probes = embed_queries(kb.embedder, list(HUB_PROBES))
                try:
                    write_atomically(path, lambda temporary: np.save(temporary, probes))
                except OSError:  # a read-only knowledge base: kept in memory
                    pass
            state.probes = probes
        return state.probes


def znorm_params(query: np.ndarray, stats: LanguageStats) -> tuple[np.ndarray, np.ndarray]:
    """Per-language (mean, std) of the query's cosine with that language's units (method ``znorm``;
    ``stats`` with covariances, ``language_stats(kb, covariances=True)``)."""
    means = stats.means @ query
    variances = np.einsum("i,lij,j->l", query, stats.covariances, query)
    return means, np.sqrt(np.maximum(variances, 1e-8))


# -- files --------------------------------------------------------------------------------------
def _folder(kb) -> Path:
    return Path(kb.folder) / SEARCH_DIR


def save_stats(folder: Path, stats: LanguageStats) -> None:
    """Write the counts and means atomically (temporary file, then rename); never the covariances."""
    write_atomically(folder / STATS_FILE, lambda temporary: np.savez(temporary, counts=stats.counts, means=stats.means))
    write_text_atomically(folder / STATS_META, json.dumps({"generation": stats.generation, "langs": list(stats.langs)}))


def load_stats(folder: Path, generation: int) -> LanguageStats | None:
    """The saved statistics if they match the store generation, else None."""
    try:
        meta = json.loads((folder / STATS_META).read_text(encoding="utf-8"))
        if meta.get("generation") != generation:
            return None
        with np.load(folder / STATS_FILE) as arrays:
            return LanguageStats(generation, tuple(meta["langs"]), arrays["counts"], arrays["means"])
    except (OSError, ValueError, KeyError):
        return None


def build_corrected_index(kb, stats: LanguageStats, correction: str) -> VectorIndex:
    """An index of the corrected vectors, ids = unit row ids."""
    return build_index(kb.settings.dim,
                       ((ids, correct_passages(vectors, langs, stats, correction))
                        for ids, langs, vectors in _unit_batches(kb.store)))


@dataclass
class _State:
    generation: int
    stats: LanguageStats
    indexes: dict = field(default_factory=dict)
    probes: np.ndarray | None = None
    probes_mean: np.ndarray | None = None
    covariances: LanguageStats | None = None


def _state(kb) -> _State:
    with _lock:
        return _load_state(kb)


def _load_state(kb) -> _State:
    generation = kb.store.generation
    state = _cache.get(kb)
    if state is None or state.generation != generation:
        folder = _folder(kb)
        stats = load_stats(folder, generation)
        if stats is None:
            stats = compute_stats(kb.store, kb.settings.dim)
            save_stats(folder, stats)
        state = _State(generation, stats)
        _cache[kb] = state
    return state


def language_stats(kb, covariances: bool = False) -> LanguageStats:
    """The knowledge base's per-language statistics (loaded, or computed if stale); with ``covariances``
    (``znorm``) computed from the store once per knowledge-base state and kept in memory."""
    with _lock:
        state = _load_state(kb)
        if not covariances:
            return state.stats
        if state.covariances is None:
            state.covariances = compute_stats(kb.store, kb.settings.dim, covariances=True)
        return state.covariances


def dense_index(kb, correction: str) -> VectorIndex:
    """The index a correction searches: the raw one, or that of its corrected vectors."""
    if check_correction(correction) not in INDEXED:
        return kb.index
    with _lock:
        return _corrected_index(kb, correction)


def _corrected_index(kb, correction: str) -> VectorIndex:
    state = _state(kb)
    if correction not in state.indexes:
        folder = _folder(kb) / correction
        index = load_index(folder, kb.settings.dim, state.generation)
        if index is None:
            folder.mkdir(parents=True, exist_ok=True)
            index = build_corrected_index(kb, state.stats, correction)
            index.save(folder, state.generation)
        state.indexes[correction] = index
    return state.indexes[correction]


def refresh(kb, correction: str) -> None:
    """Recompute the statistics (and the corrected index of ``center`` or ``project``) after an ingest
    (the post-ingest hook)."""
    folder = _folder(kb)
    stats = compute_stats(kb.store, kb.settings.dim)
    save_stats(folder, stats)
    if correction in INDEXED:
        (folder / correction).mkdir(parents=True, exist_ok=True)
        build_corrected_index(kb, stats, correction).save(folder / correction, stats.generation)
    _cache.pop(kb, None)
