"""Rebuild the learned extractor's weights from open data: ``make train`` (``python -m ingest.extract.train``).

Documents come from ``ingest.extract.sources`` (``--data``: the open-data folder, default ``../shared/data``).
Each document goes through the real splitter and the candidate units of ``ingest.extract.units``; a unit
takes the label of the gold span it overlaps most, or "none" when it overlaps none or is more than
``MAX_STRETCH`` times that span's length (so the model learns boundaries). A quarter of the documents is
read a second time as a language without rule files (``xx``), so the model has seen what the features look
like where nobody wrote rules. Vectors are cached (``--cache``). The fit is a one-hidden-layer MLP (numpy,
Adam, fixed seed); one document in ``CALIBRATION_FOLD`` is kept out of it to fit the Platt calibration.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ingest.extract.learned import unit_and_sentence_vectors
from ingest.extract.model import CLASSES, WEIGHTS, Model
from ingest.extract.sources import ROOT, SHARED, Doc, esco_descriptions, esco_labels, gold_set, spans_sets
from ingest.extract.units import FEATURES, Unit, article_units
from kb.records import Article, Sentence

log = logging.getLogger(__name__)
MAX_STRETCH = 3.0
CALIBRATION_FOLD = 7
RULELESS_SHARE = 4  # every fourth document is also read as a language without rules
HIDDEN = 128
EPOCHS = 20
SEED = 0
HELDOUT_URIS = ROOT / "tests" / "data" / "heldout" / "esco_pl" / "uris.txt"


@dataclass
class Examples:
    """Units of many documents with their labels (allowed-class masks) and vectors."""

    units: list[Unit]
    masks: np.ndarray
    docs: list[str]
    sources: list[str]
    unit_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


def training_docs(data: Path = SHARED, without: Sequence[str] = (), labels: Sequence[str] = ("en", "pl")) -> list[Doc]:
    """Every training document, leaving out the sources (or languages) named in ``without``; ``labels``: the
    languages of the ESCO skill labels."""
    exclude = frozenset(HELDOUT_URIS.read_text().split()) if HELDOUT_URIS.exists() else frozenset()
    esco = data / "esco"
    docs = [doc for lang in labels for doc in esco_labels(esco, lang, 2000, 1000)] + \
        esco_descriptions(esco, "en", 250, exclude) + esco_descriptions(esco, "pl", 250, exclude)
    sets = spans_sets(data)
    docs += sets["skillspan_train"]()[:70] + sets["kompetencer_train"]()
    docs += gold_set(ROOT / "tests" / "data" / "dev", "dev") + gold_set(ROOT / "tests" / "data" / "prose", "prose")
    return [doc for doc in docs if not any(doc.source.startswith(name) or doc.lang == name for name in without)]


def doc_sentences(doc: Doc, lang: str | None = None) -> list[Sentence]:
    """The real splitter's sentences of a document (``lang`` overrides its language)."""
    from ingest.sentences import split

    article = Article(doc.doc_id, "", doc.text, doc.title, "utf-8", "", body=doc.body, lang=lang or doc.lang)
    return list(split([article]))


def label_mask(unit: Unit, spans: Sequence[tuple[int, int, str]]) -> np.ndarray:
    """Allowed classes of a unit: its best-overlapping gold span's label, or none."""
    mask = np.zeros(len(CLASSES), dtype=bool)
    best, overlap = None, 0
    for start, end, label in spans:
        shared = min(end, unit.end) - max(start, unit.start)
        if shared > overlap:
            best, overlap = (start, end, label), shared
    if best is None or (unit.end - unit.start) > MAX_STRETCH * (best[1] - best[0]):
        mask[0] = True
    elif best[2] == "item":
        mask[1:] = True
    else:
        mask[CLASSES.index(best[2])] = True
    return mask


def build(docs: Sequence[Doc], ruleless: bool = True) -> Examples:
    """Units and labels of the documents (and of their rule-less readings)."""
    units, masks, names, sources = [], [], [], []
    for number, doc in enumerate(docs):
        langs = [doc.lang] + (["xx"] if ruleless and number % RULELESS_SHARE == 0 and doc.lang != "xx" else [])
        for lang in langs:
            for unit in article_units(doc_sentences(doc, lang), doc.title, doc.text):
                units.append(unit)
                masks.append(label_mask(unit, doc.spans))
                names.append(doc.doc_id)
                sources.append(doc.source)
    return Examples(units, np.array(masks).reshape(-1, len(CLASSES)), names, sources)


def embed(examples: Examples, embedder) -> None:
    """Fill the unit and sentence vectors (the embedder should remember texts)."""
    examples.unit_vectors, examples.sentence_vectors = unit_and_sentence_vectors(examples.units, embedder)


def _fold(doc_id: str) -> bool:
    """Whether a document is in the calibration fold (a reading of it, ``id#how``, goes with it)."""
    return int(hashlib.sha1(doc_id.split("#")[0].encode()).hexdigest(), 16) % CALIBRATION_FOLD == 0


def fit(examples: Examples, epochs: int = EPOCHS, hidden: int = HIDDEN, seed: int = SEED) -> Model:
    """Train the MLP on every document outside the calibration fold; calibrate on the fold."""
    features = np.array([unit.features for unit in examples.units], dtype=np.float32).reshape(-1, len(FEATURES))
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-3
    from ingest.extract.model import inputs

    x = inputs(examples.unit_vectors, examples.sentence_vectors, features, mean, scale)
    calibration = np.array([_fold(doc) for doc in examples.docs])
    sources = np.array(examples.sources)
    counts = {source: int((sources == source).sum()) for source in set(examples.sources)}
    weights = np.array([counts[source] ** -0.5 for source in examples.sources], dtype=np.float32)
    weights *= len(weights) / weights.sum()
    train = ~calibration
    w1, b1, w2, b2 = adam(x[train], examples.masks[train], weights[train], hidden, epochs, seed)
    model = Model(w1, b1, w2, b2, mean, scale, (1.0, 0.0))
    platt = _platt(model, x[calibration], examples.masks[calibration])
    return Model(w1, b1, w2, b2, mean, scale, platt)


def adam(x: np.ndarray, masks: np.ndarray, weights: np.ndarray, hidden: int, epochs: int,
          seed: int) -> tuple[np.ndarray, ...]:
    """Minimize -log P(allowed classes) with Adam, minibatches of 256."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, (2 / x.shape[1]) ** 0.5, (x.shape[1], hidden)).astype(np.float32),
              np.zeros(hidden, np.float32),
              rng.normal(0, (1 / hidden) ** 0.5, (hidden, masks.shape[1])).astype(np.float32),
              np.zeros(masks.shape[1], np.float32)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    step, rate, decay = 0, 1e-3, 1e-4
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for begin in range(0, len(x), 256):
            batch = order[begin:begin + 256]
            xb, mb, wb = x[batch], masks[batch], weights[batch]
            h = np.maximum(0, xb @ params[0] + params[1])
            logits = h @ params[2] + params[3]
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            allowed = (p * mb).sum(axis=1) + 1e-9
            total += float((wb * -np.log(allowed)).sum())
            # d(-log sum_allowed p)/d logits = p - p*mask/allowed
            grad = (p - p * mb / allowed[:, None]) * wb[:, None] / len(batch)
            grads = [None, None, h.T @ grad, grad.sum(axis=0)]
            dh = grad @ params[2].T * (h > 0)
            grads[0], grads[1] = xb.T @ dh, dh.sum(axis=0)
            step += 1
            for index, (param, g) in enumerate(zip(params, grads)):
                if index in (0, 2):
                    g = g + decay * param
                m, v = moments[index]
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                param -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        log.info("epoch %d: loss %.4f", epoch + 1, total / len(x))
    return tuple(params)


def _platt(model: Model, x: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    """Fit a, b of sigmoid(a * logit(p) + b) to whether the unit is an item of the kind predicted (damped Newton)."""
    p = model.forward(x)
    duty, skill = p[:, 1], p[:, 2:].sum(axis=1)
    raw = np.clip(np.maximum(duty, skill), 1e-4, 1 - 1e-4)
    right = np.where(duty >= skill, masks[:, 1], masks[:, 2:].any(axis=1))
    return platt_fit(raw, right)


def platt_fit(raw: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    """a, b of sigmoid(a * logit(raw) + b) fitted to whether each prediction was right (damped Newton)."""
    raw = np.clip(np.asarray(raw, dtype=np.float64), 1e-4, 1 - 1e-4)
    right = np.asarray(right, dtype=np.float64)
    z = np.log(raw / (1 - raw))
    a, b = 1.0, 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(a * z + b)))
        gradient = np.array([((q - right) * z).sum(), (q - right).sum()])
        w = q * (1 - q) + 1e-9
        hessian = np.array([[(w * z * z).sum(), (w * z).sum()], [(w * z).sum(), w.sum()]]) + 1e-3 * np.eye(2)
        delta = np.linalg.solve(hessian, gradient)
        a, b = a - 0.5 * delta[0], b - 0.5 * delta[1]
    return float(a), float(b)


def reliability(model: Model, examples: Examples) -> list[tuple[float, float, int]]:
    """(mean confidence, share right, count) per tenth of confidence, on the calibration fold."""
    from ingest.extract.model import scored

    fold = [index for index, doc in enumerate(examples.docs) if _fold(doc)]
    entries = scored(model, [examples.units[i] for i in fold], examples.unit_vectors[fold],
                     examples.sentence_vectors[fold])
    bins: dict[int, list[tuple[float, bool]]] = {}
    for (unit, kind, _, confidence), index in zip(entries, fold):
        mask = examples.masks[index]
        right = bool(mask[1]) if kind == "duty" else bool(mask[2:].any())
        bins.setdefault(min(9, int(confidence * 10)), []).append((confidence, right))
    return [(float(np.mean([c for c, _ in rows])), float(np.mean([r for _, r in rows])), len(rows))
            for _, rows in sorted(bins.items())]


def train(data: Path = SHARED, cache: Path | None = None, without: Sequence[str] = (), out: Path = WEIGHTS) -> Model:
    """Build, embed, fit and save; returns the model."""
    from kb.embedding.embedders import CachingEmbedder, open_embedder

    started = time.perf_counter()
    docs = training_docs(data, without)
    examples = build(docs)
    log.info("%d units from %d documents in %.0f s", len(examples.units), len(docs), time.perf_counter() - started)
    embedder = CachingEmbedder(open_embedder("e5"), cache)
    embed(examples, embedder)
    embedder.save()
    model = fit(examples)
    model.save(out)
    write_provenance(out, docs, without, {"units": len(examples.units), "hidden": HIDDEN, "epochs": EPOCHS},
                     model.platt, reliability(model, examples), started)
    return model


def write_provenance(out: Path, docs: Sequence[Doc], without: Sequence[str], sizes: dict, platt: tuple[float, float],
                     table: list, started: float) -> None:
    """``out``'s provenance beside it (``.json``): what it was trained on and how, and its reliability table."""
    provenance = {"documents": len(docs), **sizes, "without": list(without),
                  "sources": sorted({doc.source.split("_")[0] for doc in docs}), "seed": SEED, "platt": platt,
                  "reliability": table}
    out.with_suffix(".json").write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    log.info("saved %s in %.0f s", out, time.perf_counter() - started)


def training_parser(what: str, out: Path, cache: str) -> argparse.ArgumentParser:
    """The command line both training scripts share."""
    parser = argparse.ArgumentParser(description=f"Rebuild {what}'s weights from open data.")
    parser.add_argument("--data", type=Path, default=SHARED, help="the open-data folder (default ../shared/data)")
    parser.add_argument("--cache", type=Path, help=f"a .npz file that keeps {cache} between runs")
    parser.add_argument("--without", nargs="*", default=[], help="sources or languages to leave out")
    parser.add_argument("--out", type=Path, default=out, help="where to write the weights")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m ingest.extract.train [--data DIR] [--cache FILE] [--without NAME ...] [--out FILE]``."""
    args = training_parser("the unit classifier", WEIGHTS, "text vectors").parse_args(argv)
    train(args.data, args.cache, args.without, args.out)


if __name__ == "__main__":
    main()
