"""``python -m eval.esco_head``: train the matcher's learned head for each type that uses one, on every ESCO label.

The head is a low-rank residual map (``eval.esco_adapter.train_head``: InfoNCE over pairs of labels of one
concept, fixed seed) applied to labels and short texts alike. The label vectors are the shipped ones
(``kb/esco/data``, built from the official CSVs by ``python -m kb.esco.build``). The evaluation
(``python -m eval.esco``) and the calibration (``python -m eval.esco_fit``) cross-fit it on concept halves
instead; this script trains the shipped one on all concepts and writes ``kb/esco/head_<type>.npz``
(two float32 factors, 384 x 64 and 64 x 384).

The text head (``eval.esco_adapter.train_text_head``) maps long texts towards their occupation's mean label;
it is trained on ESCO's English and Polish occupation descriptions, whole and without their first sentence
(about 11,000 texts, embedded once into ``--cache``), and written to ``kb/esco/text_head_<type>.npz``; a second
one, trained on the same texts towards each occupation's English description (as the index scores it), to
``text_head_<type>_descriptions.npz``; a third, trained on the same texts as ingest sees an untitled article
(the mean of their sentences' passage: vectors), to ``text_head_<type>_document.npz``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from eval.esco import CACHE
from eval.esco_adapter import TEXT_HEAD, text_head_inputs, train_head, train_text_head
from eval.esco_fit import CHOSEN
from kb.esco.data import load
from kb.esco.match import TEXT_HEAD_VIEWS, VIEW_TARGETS, head_file, text_head_file
from kb.esco.scoring import Method, kind_index
from kb.esco.vectors import load_vectors


def main(argv: list[str] | None = None) -> int:
    """Train and write the head of each type in the chosen method's ``head_types``."""
    parser = argparse.ArgumentParser(prog="python -m eval.esco_head", description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the description texts' vectors are kept")
    args = parser.parse_args(argv)
    data = load()
    index = load_vectors(data.folder)
    method = Method(**CHOSEN)
    counts = {"occupation": len(data.occupations), "skill": len(data.skills)}
    for kind in method.head_types:
        down, up = train_head(index, kind, counts, method, np.ones(counts[kind], dtype=bool), seed=args.seed)
        np.savez(head_file(kind), down=down, up=up)
        print(f"wrote {head_file(kind)}")
    for kind in method.text_head_types:
        plain = kind_index(index, kind, counts[kind], method)
        for view in TEXT_HEAD_VIEWS:
            vectors, owners = text_head_inputs(data, view, args.cache)
            for target in VIEW_TARGETS[view]:
                head = train_text_head(vectors, owners, plain, np.ones(counts[kind], dtype=bool),
                                       **{**TEXT_HEAD, "seed": args.seed, "target": target})
                head.save(text_head_file(kind, view, target))
                print(f"wrote {text_head_file(kind, view, target)} ({len(owners)} description texts, read as "
                      f"{view}s, drawn towards {target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
