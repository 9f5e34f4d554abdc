"""How far the span tagger's confidence holds on text it never saw: a reliability table per weights file.

``python -m eval.reliability [--sets NAME ...] [--taggers FILE ...] [--states FILE]`` tags the held-out sets
(default: the role articles, job ads and Polish occupation descriptions that no model trains on) with each
weights file (default: the shipped one) and scores every item as ``eval.heldout`` does: right when it overlaps
a gold span of its kind (duty or skill) and is at most 3x as long. Per set: items, mean confidence, share
right, expected calibration error (ECE, tenths of confidence weighted by their items), Brier score and log
loss; then pooled and per language, and the pooled table per tenth of confidence. Weights that differ only in their calibration tag the same
items, so their rows compare the confidence alone.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

from eval.heldout import MODELS, SETS, fits

HELD_OUT = ("heldout_articles", "heldout_ads", "heldout_esco_pl")


def scored_items(tagger_path: Path, names: Sequence[str], states
                 ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per set, the confidence of every tagged item, whether it is right and its language."""
    from ingest.extract.tagger import load_tagger, tagged_items
    from ingest.extract.train import doc_sentences

    tagger = load_tagger(tagger_path)
    found = {}
    for name in names:
        confidence, right, langs = [], [], []
        for doc in SETS[name][0]():
            for item in tagged_items(doc_sentences(doc), states, states.encoder.pieces, tagger):
                confidence.append(item.confidence)
                right.append(any(fits(item, start, end, label, doc.text, item.kind) for start, end, label in doc.spans))
                langs.append(doc.lang)
        found[name] = (np.array(confidence, dtype=np.float64), np.array(right, dtype=np.float64),
                       np.array(langs, dtype=str))
    return found


def summary(confidence: np.ndarray, right: np.ndarray) -> str:
    """Items, mean confidence, share right, ECE, Brier score and log loss of one group of items."""
    if not len(confidence):
        return "no items"
    clipped = np.clip(confidence, 1e-4, 1 - 1e-4)
    bins = np.minimum(9, (confidence * 10).astype(int))
    ece = sum(abs(confidence[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum()
              for b in np.unique(bins)) / len(confidence)
    brier = float(np.mean((confidence - right) ** 2))
    loss = float(-np.mean(right * np.log(clipped) + (1 - right) * np.log(1 - clipped)))
    return (f"{len(confidence):5d} items  confidence {confidence.mean():.2f}  right {right.mean():.2f}  "
            f"ECE {ece:.3f}  Brier {brier:.3f}  log loss {loss:.3f}")


def table(confidence: np.ndarray, right: np.ndarray) -> list[str]:
    """Markdown rows: per tenth of confidence, its mean, the share right and the items."""
    bins = np.minimum(9, (confidence * 10).astype(int))
    return [f"| {b / 10:.1f}-{(b + 1) / 10:.1f} | {confidence[bins == b].mean():.2f} | {right[bins == b].mean():.2f} "
            f"| {(bins == b).sum()} |" for b in range(10) if (bins == b).any()]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: one block per weights file."""
    from ingest.extract.tagger import TAGGER_WEIGHTS
    from ingest.extract.train_tagger import StateCache

    parser = argparse.ArgumentParser(prog="python -m eval.reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(HELD_OUT), choices=list(SETS))
    parser.add_argument("--taggers", nargs="*", type=Path, default=[TAGGER_WEIGHTS], help="weights files")
    parser.add_argument("--states", type=Path, default=MODELS / "eval_states.npz", help="token-state cache")
    args = parser.parse_args(argv)
    states = StateCache(args.states)
    for path in args.taggers:
        found = scored_items(path, args.sets, states)
        print(f"## {path}")
        for name, (confidence, right, _) in found.items():
            print(f"{name:20} {summary(confidence, right)}")
        confidence, right, langs = (np.concatenate(parts) for parts in zip(*found.values()))
        print(f"{'pooled':20} {summary(confidence, right)}")
        for lang in sorted(set(langs)):
            print(f"{'  ' + lang:20} {summary(confidence[langs == lang], right[langs == lang])}")
        print("| confidence | mean | share right | items |\n|---|---|---|---|")
        print("\n".join(table(confidence, right)), flush=True)
        print()
    states.save()


if __name__ == "__main__":
    main()
