"""Where a warm search's time goes: milliseconds per stage of ``kb.search.hybrid.search``, over the dev queries.

``python -m bench.query_stages --kb DIR [--repeat N]`` opens the knowledge base, runs one query to warm it,
then times each query with the stages' functions wrapped in timers. A stage's time includes the stages
nested in it (the table indents them). Nothing here is a test: figures depend on the machine.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections import defaultdict

# (depth, module, attribute, label): the functions timed, wrapped where their callers look them up
STAGES = (
    (0, "kb.search.hybrid", "embed_query", "query embedding"),
    (0, "kb.search.hybrid", "dense_candidates", "dense candidates"),
    (1, "kb.search.bias", "filtered_search", "index search"),
    (1, "kb.search.bias", "hub_scores", "hub scores"),
    (1, "kb.storage.faiss_index", "FaissIndex.reconstruct", "vectors reconstructed"),
    (1, "kb.storage.store", "Store.units", "unit rows loaded"),
    (0, "kb.search.hybrid", "threshold", "threshold"),
    (0, "kb.search.hybrid", "keyword_candidates", "keyword candidates"),
    (1, "kb.search.hybrid", "query_language", "query language"),
    (1, "kb.storage.fts", "literal_terms", "literal terms"),
    (1, "kb.storage.fts", "keyword_search", "keyword search"),
    (1, "kb.search.hybrid", "dense_scores", "dense scores of keyword hits"),
    (0, "kb.search.hybrid", "fuse", "fusion"),
    (0, "kb.search.hybrid", "rerank", "rerank"),
    (1, "kb.storage.store", "Store.tokens", "token states loaded"),
    (1, "kb.search.rerank", "alignment", "alignment"),
    (0, "kb.search.hybrid", "to_hits", "hits"),
)


def wrap(timings: dict, module_name: str, attribute: str, label: str) -> None:
    """Replace ``module.attribute`` (or a class's method) by a version that adds its time to ``timings[label]``."""
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    function = getattr(owner, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings[label] += (time.perf_counter() - started) * 1000

    setattr(owner, name, timed)


def main(argv: list[str] | None = None) -> int:
    """Print each stage's median and p95 milliseconds per query, and the whole search's."""
    parser = argparse.ArgumentParser(prog="python -m bench.query_stages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True, help="the knowledge-base folder")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the queries (default 1)")
    args = parser.parse_args(argv)
    from bench.datasets import queries
    from kb.knowledge import KnowledgeBase

    current: dict = defaultdict(float)
    for _, module_name, attribute, label in STAGES:
        wrap(current, module_name, attribute, label)
    per_stage: dict = defaultdict(list)
    totals = []
    with KnowledgeBase.open(args.kb) as kb:
        texts = queries()
        kb.search(texts[0])
        for _ in range(args.repeat):
            for text in texts:
                current.clear()
                started = time.perf_counter()
                kb.search(text, k=10)
                totals.append((time.perf_counter() - started) * 1000)
                for _, _, _, label in STAGES:
                    per_stage[label].append(current[label])
    print(f"{len(totals)} queries over {args.kb}")
    print("| stage | p50 ms | mean ms | p95 ms |\n|---|---|---|---|")
    for depth, _, _, label in STAGES:
        print(row("&nbsp;&nbsp;" * depth + label, per_stage[label]))
    print(row("**whole search**", totals))
    return 0


def row(label: str, values: list[float]) -> str:
    """One table row: median, mean and p95 of a list of milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"| {label} | {statistics.median(ordered):.1f} | {statistics.mean(ordered):.1f} | {p95:.1f} |"


if __name__ == "__main__":
    sys.exit(main())
