"""Extraction on text the extractor never saw: naive, old rules and the learned model side by side.

``python -m eval.heldout [--sets NAME ...] [--cache FILE] [--models DIR]`` scores every held-out set with:

* naive: every sentence one duty;
* old: the rules plus the prototype classifier (``extract_article``, the extractor before the model);
* new: the learned model trained WITHOUT the set's source (and language): weights
  ``DIR/without_<name>.npz`` made by ``python -m ingest.extract.train --without ... --out ...``
  (``make train-heldout``); the shipped weights where the set was never trained on.

Matching is split-tolerant: a gold span is found when the items of its kind that overlap it, none longer
than 3x the gold span, cover at least 60% of its words; an item is right when it overlaps a gold span of its
kind and is at most 3x as long. ``item`` rows ignore the kind (SkillSpan, Kompetencer and Green mark
skills only, tasks among them). ``skill%`` is the share of items called skills.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path
from typing import Callable, Sequence

from ingest.extract.sources import ROOT, SHARED, Doc, gold_set, spans_sets
from ingest.extract.train import doc_sentences
from kb.records import Item

MODELS = ROOT / "build" / "extract"
STRETCH, COVER = 3.0, 0.6
HELDOUT = ROOT / "tests" / "data" / "heldout"
# set name -> (documents, the sources/languages the model for it is trained without)
SETS: dict[str, tuple[Callable[[], list[Doc]], tuple[str, ...]]] = {
    "skillspan_test": (lambda: spans_sets(SHARED)["skillspan_test"]()[::6], ("skillspan",)),
    "kompetencer_da_test": (lambda: spans_sets(SHARED)["kompetencer_test"](), ("kompetencer", "da")),
    "green_test": (lambda: spans_sets(SHARED)["green_test"](), ()),
    "prose": (lambda: gold_set(ROOT / "tests" / "data" / "prose", "prose"), ("prose",)),
    "dev": (lambda: gold_set(ROOT / "tests" / "data" / "dev", "dev"), ("dev",)),
    "heldout_esco_pl": (lambda: gold_set(HELDOUT / "esco_pl", "heldout"), ()),
    "heldout_articles": (lambda: gold_set(HELDOUT / "articles", "heldout"), ()),
    "heldout_ads": (lambda: gold_set(HELDOUT / "ads", "heldout"), ()),
}


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]


def fits(item: Item, start: int, end: int, label: str, text: str, kind: str) -> bool:
    """Whether the item overlaps the gold span, has the right kind (for ``kind``) and is not too long."""
    if item.end <= start or item.start >= end:
        return False
    if kind != "item" and (item.kind != kind or not label.startswith(kind)) and label != "item":
        return False
    return len(_words(text, item.start, item.end)) <= STRETCH * max(1, len(_words(text, start, end)))


def counts(doc: Doc, items: list[Item], kind: str) -> tuple[int, int, int, int]:
    """(gold found, gold, items right, items) of one kind ("duty", "skill" or "item")."""
    gold = [span for span in doc.spans if kind == "item" or span[2].startswith(kind)]
    if kind != "item" and all(label == "item" for *_, label in doc.spans) and doc.spans:
        return 0, 0, 0, 0  # a set that does not tell the kinds apart is scored on items only
    predicted = [item for item in items if kind == "item" or item.kind == kind]
    found = 0
    for start, end, label in gold:
        words = _words(doc.text, start, end)
        covering = [item for item in predicted if fits(item, start, end, label, doc.text, kind)]
        covered = sum(1 for s, e in words if any(item.start < e and item.end > s for item in covering))
        found += bool(words) and covered >= COVER * len(words)
    right = sum(1 for item in predicted if any(fits(item, s, e, label, doc.text, kind) for s, e, label in doc.spans))
    return found, len(gold), right, len(predicted)


def naive(doc: Doc) -> list[Item]:
    """Every sentence a duty."""
    return [Item(doc.doc_id, s.index, "duty", "", s.start, s.end, s.text, s.lang, 1.0, "naive")
            for s in doc_sentences(doc)]


def table(name: str, docs: list[Doc], methods: dict[str, Callable[[Doc], list[Item]]]) -> str:
    """One set's table: recall and precision per language and kind for each method."""
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    skills: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for doc in docs:
        for method, run in methods.items():
            items = run(doc)
            for group in ("all", doc.lang):
                skills[group, method][0] += sum(item.kind == "skill" for item in items)
                skills[group, method][1] += len(items)
                for kind in ("duty", "skill", "item"):
                    row = totals[group, kind, method]
                    for index, value in enumerate(counts(doc, items, kind)):
                        row[index] += value
    header = f"{'group':6} {'kind':6} " + " ".join(f"{m + ' R':>8} {m + ' P':>8}" for m in methods) + "   gold  skill%"
    lines = [f"## {name}: {len(docs)} documents", header]
    groups = ["all"] + sorted({doc.lang for doc in docs} - {"all"}) if len({doc.lang for doc in docs}) > 1 else ["all"]
    for group in groups:
        for kind in ("duty", "skill", "item"):
            rows = [totals[group, kind, method] for method in methods]
            if not rows[0][1]:
                continue
            cells = " ".join(f"{_ratio(r[0], r[1]):>8} {_ratio(r[2], r[3]):>8}" for r in rows)
            share = "/".join(f"{100 * skills[group, m][0] / max(1, skills[group, m][1]):.0f}" for m in methods)
            lines.append(f"{group:6} {kind:6} {cells} {rows[0][1]:>6}  {share if kind == 'duty' else ''}")
    return "\n".join(lines)


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: print one table per held-out set."""
    parser = argparse.ArgumentParser(prog="python -m eval.heldout", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--cache", type=Path, default=MODELS / "vectors.npz")
    parser.add_argument("--states", type=Path, default=MODELS / "eval_states.npz", help="token-state cache")
    parser.add_argument("--models", type=Path, default=MODELS, help="folder of the without_<name>.npz weights")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--tagger", type=Path, help="the tagger's weights for sets no model trains on "
                        "(default: the shipped ones)")
    args = parser.parse_args(argv)
    from ingest.extract.tagger import TAGGER_WEIGHTS

    runners = _runners(args)
    for name in args.sets:
        loader, without = SETS[name]
        methods: dict[str, Callable[[Doc], list[Item]]] = {}
        used = []
        for method in args.methods:
            if method not in PREFIX:
                weights = None
            elif without:
                weights = args.models / f"{PREFIX[method]}without_{without[0]}.npz"
            else:
                weights = {"learned": None, "tagger": args.tagger or TAGGER_WEIGHTS}[method]
            methods[method] = runners[method](weights)
            used.append(f"{method}: {weights.name}" if weights else method)
        print(table(f"{name} ({'; '.join(used)})", loader(), methods), flush=True)
        print(flush=True)
        for saver in runners["save"]:
            saver()


METHODS = ("naive", "old", "learned", "tagger")
PREFIX = {"learned": "", "tagger": "tagger_"}


def _runners(args) -> dict:
    """Per method, a function from weights (or None) to the method's extraction of a document."""
    from ingest.extract.classify import PrototypeClassifier
    from ingest.extract.extractor import extract_article
    from ingest.extract.learned import learned_items
    from ingest.extract.model import WEIGHTS, load_model
    from ingest.extract.tagger import load_tagger, tagged_items
    from kb.embedding.embedders import CachingEmbedder, open_embedder

    embedder = CachingEmbedder(open_embedder("e5"), args.cache) if {"old", "learned"} & set(args.methods) else None
    savers = [embedder.save] if embedder else []
    runners: dict = {"naive": lambda weights: naive, "save": savers}
    if "old" in args.methods:
        classifier = PrototypeClassifier(embedder)
        runners["old"] = lambda weights: (
            lambda doc: extract_article(doc_sentences(doc), classifier, doc.title, doc.text))
    runners["learned"] = lambda weights: (
        lambda doc, model=load_model(weights or WEIGHTS): learned_items(doc_sentences(doc), embedder, doc.title,
                                                                         doc.text, model))
    if "tagger" in args.methods:
        from ingest.extract.train_tagger import StateCache

        states = StateCache(args.states)
        savers.append(states.save)
        runners["tagger"] = lambda weights: (
            lambda doc, tagger=load_tagger(weights): tagged_items(doc_sentences(doc), states,
                                                                  states.encoder.pieces, tagger))
    return runners


if __name__ == "__main__":
    main()
