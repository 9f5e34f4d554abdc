"""Token-alignment rerank: the first results reordered by how well each query word finds a match.

A dense vector averages a text into one point. e5's token states after layer
11 of 12 (``kb.embedding.tokens``) keep the words apart, and a word piece finds its
counterpart in another language when the two share a stem or a loan
("transport" and "transport", "hotels" and "hotellrum", "korespondencji" and
"korrespondens"), even when the mean vectors rank other texts of the same
topic higher. On single pairs the signal is noisy (a cognate in an unrelated
sentence also matches); over the query set it raises Recall@5 and MRR@10
(README, "Search").

Only sentences' token states are stored (int8, ``kb.storage.codec``), and every
result is aligned through its sentence's states: results are grouped by
sentence, so a duty, a skill or a part stands for its sentence here. On the
search dev set this ranked as well as each unit's own states (Recall@5 0.781
against 0.784, MRR@10 0.835 against 0.822) and better than the rows of the
unit's span alone (0.763 / 0.804): docs/benchmarks.md.

For each of the first ``DEPTH`` results the alignment score is, for every
query word piece, the best cosine with any word piece of the result (both
centred on the knowledge base's mean token state), averaged over the query
(BERTScore's recall). It is standardized within those results and added,
times ``WEIGHT``, to the result's dense score; the rest keep their order.
A knowledge base without token states (built by an older version, or by an
embedder that has none) is ranked as before.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.embedding.embedders import normalize
from kb.files import write_atomically
from kb.search.bias import SEARCH_DIR
from kb.search.memo import forget, per_generation

DEPTH = 20  # results reordered: the answers e5 misses are mostly within the first 20
WEIGHT = 0.004  # dense-score units per standard deviation of alignment (chosen on half the query set, held out on the other)
MEAN_FILE = "token_mean.npy"


def _mean_path(kb) -> Path:
    return Path(kb.folder) / SEARCH_DIR / MEAN_FILE


def refresh(kb) -> None:
    """Store the knowledge base's mean token state (the post-ingest hook); nothing without token states."""
    mean = kb.store.token_mean(kb.settings.dim)
    path = _mean_path(kb)
    if mean is None:
        path.unlink(missing_ok=True)
        return
    write_atomically(path, lambda temporary: np.save(temporary, mean.astype(np.float32)))
    forget(kb, MEAN_FILE)


def token_mean(kb) -> np.ndarray | None:
    """The knowledge base's mean token state: read once per store generation, computed (and stored) if missing."""
    return per_generation(kb, MEAN_FILE, lambda: _load_mean(kb))


def _load_mean(kb) -> np.ndarray | None:
    path = _mean_path(kb)
    if not path.exists():
        try:
            refresh(kb)
        except OSError:  # a read-only knowledge base: computed from the store, not stored
            return kb.store.token_mean(kb.settings.dim)
    return np.load(path) if path.exists() else None


def reranks(kb) -> bool:
    """Whether the rerank can run here: a token encoder for the embedder and token states stored."""
    return kb.token_encoder is not None and token_mean(kb) is not None


def alignment(query_tokens: np.ndarray, unit_tokens: np.ndarray, mean: np.ndarray) -> float:
    """Mean over the query's word pieces of the best cosine with one of the unit's (centred states)."""
    query = normalize(query_tokens.astype(np.float32) - mean)
    unit = normalize(unit_tokens.astype(np.float32) - mean)
    return float((query @ unit.T).max(axis=1).mean())


def monotone_scores(candidates: Sequence) -> list[float]:
    """The scores as the results show them: capped by the one above, so they follow the ranked order."""
    shown: list[float] = []
    for candidate in candidates:
        shown.append(min(candidate.score, shown[-1]) if shown else candidate.score)
    return shown


def rerank(kb, query: str, candidates: Sequence, depth: int = DEPTH, weight: float = WEIGHT,
           query_tokens: np.ndarray | None = None) -> list:
    """The candidates with the first ``depth`` reordered by dense score plus weighted alignment
    (the query's token states are encoded here unless given)."""
    candidates = list(candidates)
    head = candidates[:depth]
    if len(head) < 3:
        return candidates
    encoder = kb.token_encoder
    if encoder is None:
        return candidates
    stored = kb.store.tokens({candidate.sentence_key for candidate in head}, kb.settings.dim)
    mean = token_mean(kb) if all(candidate.sentence_key in stored for candidate in head) else None
    if mean is None:  # some results have no token states: an older knowledge base, left as it ranks
        return candidates
    if query_tokens is None:
        query_tokens = encoder.encode([query], is_query=True)[0]
    scores = np.array([alignment(query_tokens, stored[candidate.sentence_key], mean) for candidate in head])
    standard = (scores - scores.mean()) / (scores.std() + 1e-9)
    keys = np.array(monotone_scores(head)) + weight * standard
    order = sorted(range(len(head)), key=lambda i: -keys[i])
    return [replace(head[i], alignment=float(scores[i])) for i in order] + candidates[depth:]
