"""The approximate index chosen by measurement: HNSW against an inverted file (IVF), both over float16
vectors, on the benchmark's synthetic set with the search dev set's real queries.

    python -m bench.index_choice [--kb kbdata] [--units 100000]

The vectors are a knowledge base's sentence vectors repeated and perturbed (``bench.datasets``); the
queries are the dev set's queries embedded by the knowledge base's model. It prints recall@10 against exact
search and the time a query takes, for HNSW (M 32, efConstruction 80) at several efSearch and IVF
(``kb.storage.faiss_index.cells_for`` cells) at several nprobe, then the product's own index
(``FaissIndex``, filled in ingest-sized batches) unfiltered.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench import datasets


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-10 found."""
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / truth.shape[1] for a, b in zip(found, truth)]))


def timed_search(index, queries: np.ndarray) -> tuple[np.ndarray, float]:
    """Ids of the top-10 of each query, one query at a time, and the median milliseconds a query."""
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query.reshape(1, -1), 10)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return np.vstack(found), float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    import faiss

    from kb.knowledge import KnowledgeBase
    from kb.storage.codec import as_stored
    from kb.storage.faiss_index import FaissIndex, cells_for

    parser = argparse.ArgumentParser(prog="python -m bench.index_choice", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", default="kbdata")
    parser.add_argument("--units", type=int, default=100_000)
    args = parser.parse_args(argv)
    with KnowledgeBase.open(Path(args.kb)) as kb:
        rows, vectors, _ = datasets.source_sentences(kb)
        queries = np.vstack([kb.embedder.embed_query(query) for query in datasets.queries()]).astype(np.float32)
    data = as_stored(np.vstack([part for _, part in datasets.synthetic_batches(rows, vectors, args.units)]))
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    print(f"{args.units:,} units, {len(queries)} real queries")
    print("| index | parameter | recall@10 | ms a query |\n|---|---|---|---|")
    started = time.perf_counter()
    graph = faiss.IndexHNSWSQ(data.shape[1], faiss.ScalarQuantizer.QT_fp16, 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 80
    graph.train(data)
    graph.add(data)
    print(f"| HNSW (built in {time.perf_counter() - started:.0f} s) | | | |")
    for ef in (128, 512, 2048):
        graph.hnsw.efSearch = ef
        found, ms = timed_search(graph, queries)
        print(f"| HNSW | efSearch {ef} | {recall(found, truth):.3f} | {ms:.2f} |", flush=True)
    cells = cells_for(len(data))
    started = time.perf_counter()
    inverted = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(data.shape[1]), data.shape[1], cells,
                                             faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    inverted.train(data[np.random.default_rng(0).choice(len(data), min(len(data), 40 * cells), replace=False)])
    inverted.add(data)
    print(f"| IVF, {cells} cells (built in {time.perf_counter() - started:.0f} s) | | | |")
    for probes in (32, 128, 512):
        inverted.nprobe = probes
        found, ms = timed_search(inverted, queries)
        print(f"| IVF | nprobe {probes} | {recall(found, truth):.3f} | {ms:.2f} |", flush=True)
    started = time.perf_counter()
    product = FaissIndex.build(data.shape[1], ((np.arange(start, min(len(data), start + 200)), data[start:start + 200])
                                               for start in range(0, len(data), 200)))
    built = time.perf_counter() - started
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        found.append([unit_id for unit_id, _ in product.search(query, 10)])
        times.append((time.perf_counter() - started) * 1000)
    print(f"| product ({product.kind}, filled 200 at a time in {built:.0f} s) | {product.parameters()} | "
          f"{recall(np.array(found), truth):.3f} | {np.median(times):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
