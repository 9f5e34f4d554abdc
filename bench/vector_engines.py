"""The vector engines side by side: FAISS files (the default) and Milvus in-process (milvus-lite, FLAT and
HNSW), through the product's seam (``kb.storage.engines.open_index``), on the same vectors.

    python -m bench.vector_engines [--kb kbdata] [--sizes 20000 100000] [--queries 100]

The vectors are a knowledge base's sentence vectors repeated and perturbed (``bench.datasets``), each
with a document, a language and a kind cycled from the real rows. For each engine and size it prints
the time to build (insert, index, save), warm search p50/p95 unfiltered and filtered (one language, duties
and skills), recall@10 of both against exact search, and the bytes on disk.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import datasets
from bench.run import folder_bytes, machine, percentiles

ENGINES = (("faiss (default)", ""), ("milvus-lite FLAT", "milvus-lite://vectors.db?index=FLAT"),
           ("milvus-lite HNSW", "milvus-lite://vectors.db?index=HNSW"))
KINDS = ("sentence", "duty", "skill")


def synthetic(kb_dir: Path, count: int, seed: int = 0):
    """(ids, vectors, fields) of ``count`` perturbed copies of a knowledge base's sentence vectors."""
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(kb_dir) as kb:
        rows, vectors, _ = datasets.source_sentences(kb)
    ids, parts, fields = [], [], []
    for number, (chosen, perturbed) in enumerate(datasets.synthetic_batches(rows, vectors, count, seed)):
        parts.append(perturbed.astype(np.float32))
        fields += [(f"synthetic_{number:05d}", row["lang"], KINDS[(len(fields) + i) % 3]) for i, row in enumerate(chosen)]
    ids = np.arange(1, count + 1, dtype=np.int64)
    return ids, np.vstack(parts), fields


def exact(vectors: np.ndarray, fields, query: np.ndarray, k: int, lang: str | None) -> set[int]:
    """The ids of the exact top-k (among one language's duties and skills when ``lang`` is given)."""
    scores = vectors @ query
    if lang is not None:
        keep = np.array([field[1] == lang and field[2] != "sentence" for field in fields])
        scores = np.where(keep, scores, -np.inf)
    return {int(i) + 1 for i in np.argsort(-scores)[:k]}


def measure(name: str, uri: str, ids, vectors, fields, queries: np.ndarray, lang: str) -> dict:
    """Build one engine's index over the vectors and time its searches."""
    from kb.storage.engines import open_index
    from kb.storage.vectors import UnitFilter, filtered_search

    folder = Path(tempfile.mkdtemp(prefix="engine_"))
    store = Allowed(fields)
    try:
        started = time.perf_counter()
        index = open_index(folder, vectors.shape[1], 1, lambda: [(ids, vectors, fields)], uri)
        build = time.perf_counter() - started
        where = UnitFilter(kinds=("duty", "skill"), lang=lang)
        row = {"engine": name, "units": len(ids), "build_s": build, "bytes": folder_bytes(folder)}
        for label, filters in (("all", None), ("filtered", where)):
            filtered_search(index, store, queries[0], 10, filters)  # warm
            times, recalls = [], []
            for query in queries:
                started = time.perf_counter()
                found = filtered_search(index, store, query, 10, filters)
                times.append((time.perf_counter() - started) * 1000)
                truth = exact(vectors, fields, query, 10, lang if filters else None)
                recalls.append(len(truth & {i for i, _ in found}) / len(truth))
            row[f"{label}_p50"], row[f"{label}_p95"] = percentiles(times)
            row[f"{label}_recall"] = float(np.mean(recalls))
        index.close()
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Allowed:
    """The store's part for an engine that takes filters as allowed ids (FAISS): the ids a filter admits."""

    def __init__(self, fields) -> None:
        self.fields = fields

    def unit_ids(self, *, kinds=(), lang=None, doc_id=None) -> list[int]:
        return [number + 1 for number, (doc, language, kind) in enumerate(self.fields)
                if (not kinds or kind in kinds) and (lang is None or language == lang)
                and (doc_id is None or doc == doc_id)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.vector_engines", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", default="kbdata", help="knowledge base whose sentence vectors are perturbed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--engines", nargs="+", default=[name for name, _ in ENGINES],
                        help="which of: " + ", ".join(repr(name) for name, _ in ENGINES))
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print("| engine | units | build s | search p50 / p95 ms | recall@10 | filtered p50 / p95 ms | filtered recall@10 | MB on disk |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        ids, vectors, fields = synthetic(Path(args.kb), size)
        rng = np.random.default_rng(1)
        picks = rng.choice(size, args.queries, replace=False)
        queries = vectors[picks] + rng.normal(0, 0.5 / np.sqrt(vectors.shape[1]), (args.queries, vectors.shape[1]))
        queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
        lang = max(set(field[1] for field in fields), key=[field[1] for field in fields].count)
        for name, uri in (engine for engine in ENGINES if engine[0] in args.engines):
            row = measure(name, uri, ids, vectors, fields, queries, lang)
            print(f"| {row['engine']} | {row['units']:,} | {row['build_s']:.1f} | {row['all_p50']:.1f} / "
                  f"{row['all_p95']:.1f} | {row['all_recall']:.3f} | {row['filtered_p50']:.1f} / "
                  f"{row['filtered_p95']:.1f} | {row['filtered_recall']:.3f} | {row['bytes'] / 2**20:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
