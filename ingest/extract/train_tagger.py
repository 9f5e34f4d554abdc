"""Rebuild the span tagger's weights from open data: ``python -m ingest.extract.train_tagger`` (``make train``).

The documents are the unit classifier's (``ingest.extract.train.training_docs``: ESCO labels and
descriptions in en and pl, SkillSpan, Kompetencer, the project's gold sets) and ESCO's Swedish skill labels. Each goes through the real
sentence splitter; every word of a sentence takes the tag of the gold span it falls in (``B-`` for a span's
first word in the sentence, ``I-`` after it, ``O`` outside). Spans that do not say their kind (SkillSpan and
Kompetencer mark tasks and requirements alike) allow every kind: the loss is -log P(allowed tags). Two
readings are added (``readings``): an ESCO description's duty spans are cut at commas and semicolons into its
clauses, and every document but the label lists is also read as one run-on line, its sentences joined
without bullets, breaks or closing punctuation, the way scraped job ads arrive ("... Permanent install and
repair boilers ... Requirements NVQ Level 3 ..."). Token states are cached by text (``--cache``). One
document in ``CALIBRATION_FOLD`` is kept out of the fit. The Platt calibration of the confidence is fitted on
runs tagged out of source: each of ``CALIBRATION_SOURCES`` in turn is left out, members fitted as the shipped
ones without it tag its documents (right = the run fits a gold span of its kind, duty or skill); users' text
is a source the tagger never saw.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ingest.extract.sources import SHARED, Doc
from ingest.extract.tagger import (INPUTS, KIND_PRIOR, KINDS, TAGGER_WEIGHTS, TAGS, Tagger, first_pieces,
                                   sentence_context, sentence_spans, word_rows, words)
from ingest.extract.train import _fold, adam, doc_sentences, platt_fit, training_docs, training_parser, write_provenance
from kb.text.pipelines import stop_words

log = logging.getLogger(__name__)
HIDDEN = 256
EPOCHS = 8
MEMBERS = 3  # MLPs averaged: one seed alone moves held-out duty recall and precision by up to .2 / .1
SEED = 0
LABELS = ("en", "pl", "sv")  # ESCO skill labels: Swedish ones teach short bullets in a language of the product
STRETCH = 3.0  # a run longer than this many times its gold span does not count as right (as in the evaluation)
# Sources left out in turn to calibrate the confidence on runs tagged out of source (``out_of_source_runs``).
# SkillSpan is not one: out of source its runs fit its spans 0.29 of the time against 0.43-0.71 for these four,
# and a calibration that includes it is further off on each of them (docs/extraction_model.md, "Confidence
# calibrated out of source").
CALIBRATION_SOURCES = ("esco_desc", "kompetencer", "prose", "dev")


_CLAUSE = re.compile(r"[^,;]+")
_STEM = 5  # letters a subject word shares with the label's: "Kierownicy" ~ "kierownik"
_BULLET = "-•*·– "
_CLOSING = ".;:!?"


def readings(docs: Sequence[Doc]) -> list[Doc]:
    """The training documents as the tagger reads them: descriptions cut into clauses, plus run-on copies."""
    docs = [clauses(doc) if doc.source == "esco_desc" else doc for doc in docs]
    return docs + [run_on(doc) for doc in docs if doc.source != "esco_labels"]


def clauses(doc: Doc) -> Doc:
    """A document whose gold spans are cut at commas and semicolons (pieces of two words or more), each
    without its leading frame (``frame_end``)."""
    spans = []
    for start, end, label in doc.spans:
        for match in _CLAUSE.finditer(doc.text[start:end]):
            piece = match.group().strip()
            if len(piece.split()) >= 2:
                begin = start + match.start() + match.group().index(piece)
                cut = frame_end(piece, doc.title, doc.lang)
                if cut < len(piece):
                    spans.append((begin + cut, begin + len(piece), label))
    return Doc(doc.doc_id, doc.source, doc.lang, doc.title, doc.text, tuple(spans), doc.body)


def frame_end(piece: str, title: str, lang: str) -> int:
    """Where a description's clause starts saying its duty: after its leading subject and function words
    (``len(piece)`` when nothing else is left). ESCO writes "Snowboard instructors teach ...", "They instruct
    ...", "oraz koordynują ..."; the annotation guide leaves the subject and the joining words out of a duty.
    A leading word is frame when it is punctuation, one of spaCy's stop words of the language, or shares its
    first ``_STEM`` letters with a word of the occupation's own label ("Kierownicy" of "kierownik sklepu")."""
    function_words = stop_words(lang)
    stems = {word.lower()[:_STEM] for word in re.findall(r"\w+", title)}
    for match in re.finditer(r"\w+(?:[-'’]\w+)*|[^\w\s]", piece):
        word = match.group().lower()
        if not (word in function_words or word[:_STEM] in stems or not word[0].isalnum()):
            return match.start()
    return len(piece)


def run_on(doc: Doc) -> Doc:
    """The document as one line: its sentences without bullets or closing punctuation, joined by spaces,
    with the gold spans moved along (``id#runon``: it goes to the same calibration fold)."""
    text, spans = "", []
    for sentence in doc_sentences(doc):
        piece = sentence.text.strip().lstrip(_BULLET).rstrip(_CLOSING)
        if not piece:
            continue
        origin = sentence.start + sentence.text.index(piece)
        text += " " if text else ""
        shift = len(text) - origin
        text += piece
        spans += [(max(start, origin) + shift, min(end, origin + len(piece)) + shift, label)
                  for start, end, label in doc.spans if min(end, origin + len(piece)) > max(start, origin)]
    return Doc(doc.doc_id + "#runon", doc.source, doc.lang, doc.title, text, tuple(spans))


@dataclass
class Words:
    """The words of many sentences: input rows, allowed tags, where they come from."""

    rows: np.ndarray
    masks: np.ndarray
    sentences: list[tuple[str, int, int, tuple]]  # (doc id, first row, end row, gold spans in sentence words)
    sources: list[str]  # per row


class StateCache:
    """Token states of texts (float16), kept in a file between runs; a file written by another build of the
    token engine (``TokenEncoder.build``) is not read: its states differ in the last digits."""

    def __init__(self, path: Path | None = None) -> None:
        from kb.embedding.tokens import encoder_for

        self.encoder = encoder_for("e5")
        if self.encoder is None:
            raise RuntimeError("the span tagger needs e5's token states; the token-state library did not build")
        self.path, self.states = path, {}
        if path is not None and path.is_file():
            with np.load(path) as stored:
                if "build" not in stored or str(stored["build"]) != self.encoder.build:
                    return
                bounds, every = stored["bounds"], stored["states"]
                self.states = {text: every[bounds[i]:bounds[i + 1]] for i, text in enumerate(stored["texts"].tolist())}

    def __call__(self, texts: Sequence[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(text for text in texts if text not in self.states))
        for begin in range(0, len(missing), 256):
            chunk = missing[begin:begin + 256]
            self.states.update(zip(chunk, self.encoder.encode(chunk)))
        return [self.states[text] for text in texts]

    def save(self) -> None:
        if self.path is None or not self.states:
            return
        texts = list(self.states)
        bounds = np.concatenate([[0], np.cumsum([len(self.states[text]) for text in texts])])
        np.savez(self.path, texts=np.array(texts), bounds=bounds, build=np.array(self.encoder.build),
                 states=np.vstack([self.states[text] for text in texts]).astype(np.float16))


def word_masks(text: str, offset: int, spans: Sequence[tuple[int, int]], gold: Sequence[tuple[int, int, str]]
               ) -> tuple[np.ndarray, tuple[tuple[int, int, str], ...]]:
    """Allowed tags of a sentence's words (``offset``: the sentence's start in the document) and the gold
    spans as (first word, end word, label) runs of the sentence."""
    masks = np.zeros((len(spans), len(TAGS)), dtype=bool)
    runs: list[list] = []
    inside = None
    for index, (start, end) in enumerate(spans):
        a, b = offset + start, offset + end
        span = next((g for g in gold if g[0] < b and g[1] > a), None)
        if span is None:
            masks[index, 0] = True
            inside = None
            continue
        edge = "I" if inside == span else "B"
        if edge == "B":
            runs.append([index, index + 1, span[2]])
        else:
            runs[-1][1] = index + 1
        inside = span
        kinds = KINDS if span[2] == "item" else (span[2],)
        for kind in kinds:
            masks[index, TAGS.index(f"{edge}-{kind}")] = True
    return masks, tuple(tuple(run) for run in runs)


def build(docs: Sequence[Doc], states: StateCache) -> Words:
    """The words of every document's sentences, with their rows and allowed tags."""
    rows, masks, sentences, sources = [], [], [], []
    total = 0
    per_doc = [(doc, doc_sentences(doc)) for doc in docs]
    states([sentence.text for _, doc_sents in per_doc for sentence in doc_sents])
    for doc, doc_sents in per_doc:
        every = states([s.text for s in doc_sents])
        for sentence, sentence_states, context in zip(doc_sents, every, sentence_context(every)):
            spans = words(sentence.text, sentence.lang)
            if not spans:
                continue
            sentence_rows = word_rows(sentence_states, first_pieces(sentence.text, spans, states.encoder.pieces),
                                      context)
            sentence_masks, gold = word_masks(sentence.text, sentence.start, spans, doc.spans)
            rows.append(sentence_rows.astype(np.float16))
            masks.append(sentence_masks)
            sentences.append((doc.doc_id, total, total + len(spans), gold))
            sources.extend([doc.source] * len(spans))
            total += len(spans)
    return Words(np.vstack(rows), np.vstack(masks), sentences, sources)


def fit(examples: Words, epochs: int = EPOCHS, hidden: int = HIDDEN, seed: int = SEED, members: int = MEMBERS,
        calibration_sources: Sequence[str] = CALIBRATION_SOURCES) -> Tagger:
    """Train ``members`` MLPs (seeds ``seed``, ``seed + 1``, ...) on every document outside the calibration
    fold, calibrated as ``fit_calibrated`` says."""
    return fit_calibrated(examples, epochs, hidden, seed, members, calibration_sources)[0]


def fit_calibrated(examples: Words, epochs: int = EPOCHS, hidden: int = HIDDEN, seed: int = SEED,
                   members: int = MEMBERS, calibration_sources: Sequence[str] = CALIBRATION_SOURCES
                   ) -> tuple[Tagger, np.ndarray, np.ndarray]:
    """``fit``, with the runs its Platt calibration was fitted on (raw confidence, right): runs tagged out of
    source (``out_of_source_runs``), or the calibration fold's runs where the examples hold no such source."""
    fitted = _members(examples, ~_fold_rows(examples), epochs, hidden, seed, members)
    raw, right = out_of_source_runs(examples, calibration_sources, epochs, hidden, seed, members)
    if len(raw) <= 10:
        raw, right = _fold_runs(Tagger.of_members(fitted), examples)
    return Tagger.of_members(fitted, platt_fit(raw, right) if len(raw) > 10 else (1.0, 0.0)), raw, right


def _fold_rows(examples: Words) -> np.ndarray:
    """Whether each word row belongs to a document of the calibration fold."""
    fold = np.zeros(len(examples.rows), dtype=bool)
    for doc_id, first, end, _ in examples.sentences:
        fold[first:end] = _fold(doc_id)
    return fold


def _members(examples: Words, train: np.ndarray, epochs: int, hidden: int, seed: int, members: int
             ) -> list[tuple[np.ndarray, ...]]:
    """The members' weights fitted on the rows in ``train``, each source's words weighted by the inverse square
    root of that source's word count there."""
    sources = np.array(examples.sources)[train]
    counts = {source: int((sources == source).sum()) for source in set(sources)}
    weights = np.array([counts[source] ** -0.5 for source in sources], dtype=np.float32)
    weights *= len(weights) / weights.sum()
    rows = examples.rows[train].astype(np.float32)
    return [adam(rows, examples.masks[train], weights, hidden, epochs, seed + number) for number in range(members)]


def out_of_source_runs(examples: Words, sources: Sequence[str], epochs: int = EPOCHS, hidden: int = HIDDEN,
                       seed: int = SEED, members: int = MEMBERS) -> tuple[np.ndarray, np.ndarray]:
    """Raw confidences of runs tagged in text of a source the tagger never saw, and whether each fits a gold
    span of its kind: for each of ``sources`` present (a prefix of ``Doc.source``), members fitted as the
    shipped ones but without that source tag its documents. A run in a new source is right less often than one
    in a new document of a known source, which is what users' text is."""
    rows_source = np.array(examples.sources)
    fold = _fold_rows(examples)
    raw, right = [], []
    for source in sources:
        held = np.char.startswith(rows_source.astype(str), source)
        if not held.any() or held.all():
            continue
        tagger = Tagger.of_members(_members(examples, ~held & ~fold, epochs, hidden, seed, members))
        source_raw, source_right = _tagged_runs(tagger, examples, lambda _, first: bool(held[first]))
        raw.append(source_raw)
        right.append(source_right)
        log.info("out of source %s: %d runs, %.2f right", source, len(source_raw), source_right.mean())
    return (np.concatenate(raw), np.concatenate(right)) if raw else (np.zeros(0), np.zeros(0, dtype=bool))


def _fold_runs(tagger: Tagger, examples: Words) -> tuple[np.ndarray, np.ndarray]:
    """Raw confidences of the runs tagged in the calibration fold, and whether each fits a gold span."""
    return _tagged_runs(tagger, examples, lambda doc_id, _: _fold(doc_id))


def _tagged_runs(tagger: Tagger, examples: Words, chosen: Callable[[str, int], bool]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Raw confidences of the runs tagged in the sentences ``chosen`` (doc id, first row), and whether each
    fits a gold span of its kind (duty or skill, the subtype aside, as the evaluation counts) at most
    ``STRETCH`` times as long."""
    raw, right = [], []
    for doc_id, first, end, gold in examples.sentences:
        if not chosen(doc_id, first):
            continue
        for a, b, kind, confidence in sentence_spans(tagger, examples.rows[first:end].astype(np.float32)):
            raw.append(confidence)
            right.append(any(a < g_end and b > g_start and label.split(":")[0] in ("item", kind.split(":")[0])
                             and (b - a) <= STRETCH * (g_end - g_start) for g_start, g_end, label in gold))
    return np.array(raw), np.array(right, dtype=bool)


def reliability(tagger: Tagger, raw: np.ndarray, right: np.ndarray) -> list[tuple[float, float, int]]:
    """(mean confidence, share right, count) per tenth of calibrated confidence of runs (raw confidence, right)."""
    confidence = tagger.calibrate(raw)
    bins: dict[int, list[tuple[float, bool]]] = {}
    for value, ok in zip(confidence, right):
        bins.setdefault(min(9, int(value * 10)), []).append((float(value), bool(ok)))
    return [(float(np.mean([c for c, _ in rows])), float(np.mean([r for _, r in rows])), len(rows))
            for _, rows in sorted(bins.items())]


def train(data: Path = SHARED, cache: Path | None = None, without: Sequence[str] = (),
          out: Path = TAGGER_WEIGHTS, epochs: int = EPOCHS, hidden: int = HIDDEN, members: int = MEMBERS,
          calibration_sources: Sequence[str] = CALIBRATION_SOURCES) -> Tagger:
    """Build, fit and save; returns the tagger. ``calibration_sources=()``: calibrated on the fold's runs."""
    started = time.perf_counter()
    docs = readings(training_docs(data, without, LABELS))
    states = StateCache(cache)
    examples = build(docs, states)
    states.save()
    log.info("%d words of %d sentences from %d documents in %.0f s", len(examples.rows), len(examples.sentences),
             len(docs), time.perf_counter() - started)
    tagger, raw, right = fit_calibrated(examples, epochs, hidden, members=members,
                                        calibration_sources=calibration_sources)
    tagger.save(out)
    write_provenance(out, docs, without, {"words": len(examples.rows), "hidden": hidden, "epochs": epochs,
                                          "members": members, "inputs": list(INPUTS),
                                          "kind_prior": KIND_PRIOR},
                     tagger.platt, reliability(tagger, raw, right), started)
    return tagger


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m ingest.extract.train_tagger [--data DIR] [--cache FILE] [--without NAME ...]
    [--out FILE] [--calibrate out-of-source|fold]``."""
    parser = training_parser("the span tagger", TAGGER_WEIGHTS, "token states")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--hidden", type=int, default=HIDDEN, help=f"hidden units per member (default {HIDDEN})")
    parser.add_argument("--members", type=int, default=MEMBERS, help=f"members averaged (default {MEMBERS})")
    parser.add_argument("--calibrate", choices=("out-of-source", "fold"), default="out-of-source",
                        help="fit the confidence on runs tagged in sources left out in turn (default; four more "
                             "fits), or on the calibration fold's runs (for weights scored on their spans only)")
    args = parser.parse_args(argv)
    train(args.data, args.cache, args.without, args.out, args.epochs, args.hidden, args.members,
          CALIBRATION_SOURCES if args.calibrate == "out-of-source" else ())


if __name__ == "__main__":
    main()
