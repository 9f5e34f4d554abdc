"""Precision, recall and F1 of duty and skill extraction on the development set.

``python -m eval.extraction`` runs the real stages (read, detect, split, extract with the
e5 embedder) on ``tests/data/dev`` and prints a table per language and kind. Options:
``--rules-only`` (no embedder), ``--errors`` (list misses and false positives),
``--calibrate`` (grid-search the classifier's calibration and print the best values),
``--holdout`` (calibrate on half of the articles and score the other half, both ways),
``--cache FILE.npz`` (keep embeddings between runs), ``--docs PREFIX ...`` (only the articles whose
id starts with one of the prefixes, e.g. ``--docs fi_ uk_``), ``--prose`` (the prose set of
``tests/data/prose`` instead: corpus-like articles in ten languages without a rule file).
"""
from __future__ import annotations

import argparse
import itertools
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from eval.common import ROOT, CachingEmbedder, GoldArticle, dev_set, match
from ingest.extract.classify import PrototypeClassifier
from ingest.extract.extractor import extract_article
from kb.records import Item

KINDS = ("duty", "skill")
PROSE_DIR = ROOT / "tests" / "data" / "prose"


def run(dev: list[GoldArticle], classifier: PrototypeClassifier | None) -> dict[str, list[Item]]:
    """Predicted items per doc_id."""
    return {doc.doc_id: extract_article(doc.sentences, classifier, doc.article.title, doc.article.text) for doc in dev}


def score(dev: list[GoldArticle], predicted: dict[str, list[Item]]) -> dict:
    """Counts (tp, predicted, gold) per (lang, kind), per lang, per kind and overall; subtype accuracy."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    subtype_right = subtype_total = 0
    for doc in dev:
        items = predicted[doc.doc_id]
        pairs = match(items, doc.items, doc.article.text)
        origin = "corpus" if doc.path.startswith("corpus/") else "written"
        for lang, kind in itertools.product((doc.lang, origin, "all"), KINDS + ("all",)):
            counts[lang, kind][0] += sum(1 for g, _ in pairs if kind in ("all", doc.items[g]["kind"]))
            counts[lang, kind][1] += sum(1 for item in items if kind in ("all", item.kind))
            counts[lang, kind][2] += sum(1 for item in doc.items if kind in ("all", item["kind"]))
        for g, p in pairs:
            if doc.items[g]["kind"] == "skill":
                subtype_total += 1
                subtype_right += doc.items[g]["subtype"] == items[p].subtype
    return {"counts": dict(counts), "subtype": (subtype_right, subtype_total)}


def prf(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (0 where undefined)."""
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def table(result: dict) -> str:
    """The metrics as a fixed-width text table."""
    lines = [f"{'lang':<7} {'kind':<6} {'P':>5} {'R':>5} {'F1':>5} {'tp':>4} {'pred':>5} {'gold':>5}"]
    langs = sorted({lang for lang, _ in result["counts"]} - {"all", "corpus", "written"}) + ["corpus", "written", "all"]
    for lang in langs:
        for kind in KINDS + ("all",):
            tp, predicted, gold = result["counts"].get((lang, kind), (0, 0, 0))
            precision, recall, f1 = prf(tp, predicted, gold)
            lines.append(f"{lang:<7} {kind:<6} {precision:5.2f} {recall:5.2f} {f1:5.2f} {tp:4d} {predicted:5d} {gold:5d}")
    right, total = result["subtype"]
    lines.append(f"skill subtype accuracy on matched skills: {right}/{total} = {right / max(total, 1):.2f}")
    return "\n".join(lines)


def errors(dev: list[GoldArticle], predicted: dict[str, list[Item]]) -> str:
    """Misses (gold without a match) and false positives, per article."""
    lines = []
    for doc in dev:
        items = predicted[doc.doc_id]
        pairs = match(items, doc.items, doc.article.text)
        matched_gold, matched_pred = {g for g, _ in pairs}, {p for _, p in pairs}
        lines.append(f"== {doc.doc_id} ({doc.lang})")
        lines += [f"  MISS {g['kind']}/{g['subtype']}: {g['text']}" for i, g in enumerate(doc.items) if i not in matched_gold]
        lines += [f"  FP   {p.kind}/{p.subtype} {p.confidence:.2f} {p.source}: {p.text}"
                  for i, p in enumerate(items) if i not in matched_pred]
    return "\n".join(lines)


FULL_GRID = ((0.0, 0.005, 0.01), (0.01,), (0.5, 0.6, 0.7), (0.4, 0.45, 0.5), (0.8, 0.9, 0.95, 1.01))
SMALL_GRID = ((0.0, 0.005, 0.01), (0.01,), (0.7,), (0.4, 0.5), (0.9, 1.01))


def mean_f1(dev: list[GoldArticle], classifier: PrototypeClassifier) -> float:
    """Mean of overall duty F1 and skill F1."""
    counts = score(dev, run(dev, classifier))["counts"]
    return sum(prf(*counts.get(("all", kind), (0, 0, 0)))[2] for kind in KINDS) / 2


def holdout(dev: list[GoldArticle], classifier: PrototypeClassifier) -> list[str]:
    """Calibrate on one half of the articles and score the other, both ways; the honest check."""
    halves = (dev[0::2], dev[1::2])
    stored, lines = classifier.calibration, []
    for name, (tune, test) in (("A->B", halves), ("B->A", halves[::-1])):
        value, calibration = calibrate(tune, classifier, SMALL_GRID)
        classifier.calibration = calibration
        held = mean_f1(test, classifier)
        classifier.calibration = stored
        lines.append(f"{name}: tuned mean F1 {value:.3f}, held-out {held:.3f} (stored calibration on the "
                     f"held-out half: {mean_f1(test, classifier):.3f}) with {calibration}")
    return lines


def calibrate(dev: list[GoldArticle], classifier: PrototypeClassifier, grid: tuple = FULL_GRID) -> tuple[float, object]:
    """Grid-search bias, thresholds and rule weight for the best mean of duty and skill F1."""
    best = (-1.0, classifier.calibration)
    base = classifier.calibration
    for bias, temperature, weight, threshold, model_threshold in itertools.product(*grid):
        classifier.calibration = replace(base, bias=bias, temperature=temperature, rule_weight=weight,
                                         threshold=threshold, model_threshold=model_threshold)
        value = mean_f1(dev, classifier)
        if value > best[0]:
            best = (value, classifier.calibration)
    classifier.calibration = base
    return best


def main(argv: list[str] | None = None) -> None:
    """Command line: print the metrics table (and optionally errors or a calibration)."""
    parser = argparse.ArgumentParser(prog="python -m eval.extraction", description=__doc__.splitlines()[0])
    parser.add_argument("--rules-only", action="store_true", help="run without the embedding classifier")
    parser.add_argument("--errors", action="store_true", help="list misses and false positives")
    parser.add_argument("--calibrate", action="store_true", help="grid-search the classifier calibration")
    parser.add_argument("--holdout", action="store_true",
                        help="calibrate on half of the articles, report on the other half (both ways)")
    parser.add_argument("--cache", type=Path, help="keep embeddings in this .npz file between runs")
    parser.add_argument("--docs", nargs="+", metavar="PREFIX",
                        help="only the articles whose id starts with one of these prefixes")
    parser.add_argument("--prose", action="store_true",
                        help=f"score the prose set ({PROSE_DIR.relative_to(ROOT)}: languages without a rule file) "
                             "instead of the development set")
    args = parser.parse_args(argv)
    dev = dev_set(PROSE_DIR) if args.prose else dev_set()
    if args.docs:
        dev = [doc for doc in dev if doc.doc_id.startswith(tuple(args.docs))]
        if not dev:
            parser.error(f"no development article id starts with {' or '.join(args.docs)}")
    classifier = None
    if not args.rules_only:
        from kb.embedding.embedders import open_embedder

        classifier = PrototypeClassifier(CachingEmbedder(open_embedder("e5"), args.cache))
    started = time.perf_counter()
    predicted = run(dev, classifier)
    seconds = time.perf_counter() - started
    result = score(dev, predicted)
    if classifier is not None:
        classifier.embedder.save()
    print(table(result))
    print(f"{len(dev)} articles, {sum(len(d.sentences) for d in dev)} sentences, "
          f"{seconds / len(dev):.2f} s per article ({'rules only' if classifier is None else 'rules + e5'})")
    if args.errors:
        print(errors(dev, predicted))
    if args.holdout and classifier is not None:
        print("\n".join(holdout(dev, classifier)))
    if args.calibrate and classifier is not None:
        value, calibration = calibrate(dev, classifier)
        print(f"best mean F1 {value:.3f} with {calibration}")


if __name__ == "__main__":
    main()
