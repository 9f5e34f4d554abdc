"""Benchmarks: ingest throughput and memory, search latency, index scale.

Run with ``make bench`` (or ``python -m bench.run [--scale N]``). Prints one
line per measurement with the machine it ran on; nothing here is a test.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["organise the director's diary", "przygotowanie budżetu wydarzenia", "quản lý lịch làm việc của giám đốc",
           "write process manuals", "MBA", "book travel and hotels", "screen incoming phone calls",
           "Budget für Veranstaltungen planen", "rédiger des manuels de procédures", "liderazgo de equipos"]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """A one-line description of the machine."""
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def synthetic_corpus(folder: Path, copies: int) -> int:
    """Write ``copies`` variants of every corpus article (different hashes) into folder."""
    sources = sorted((ROOT / "corpus").glob("*.txt")) + sorted((ROOT / "tests/data/dev/articles").glob("*.txt"))
    for number in range(copies):
        for source in sources:
            text = source.read_text(encoding="utf-8")
            (folder / f"{number:04d}_{source.name}").write_text(f"{text}\n\nVariant {number}.", encoding="utf-8")
    return copies * len(sources)


def bench_ingest(scale: int, workdir: Path) -> Path:
    """Ingest the corpus ``scale`` times over; report throughput and peak memory."""
    from ingest.pipeline import ingest

    articles = workdir / "articles"
    articles.mkdir()
    files = synthetic_corpus(articles, scale)
    started = time.perf_counter()
    report = ingest([articles], kb_dir=workdir / "kb")
    seconds = time.perf_counter() - started
    units = report.sentences + report.items
    print(f"ingest: {files} files, {report.sentences} sentences + {report.items} items in {seconds:.1f} s "
          f"({units / seconds:.0f} units/s), peak RSS {peak_rss_mib():.0f} MiB")
    started = time.perf_counter()
    again = ingest([articles], kb_dir=workdir / "kb")
    print(f"re-ingest unchanged: {len(again.unchanged)} files skipped in {time.perf_counter() - started:.2f} s")
    return workdir / "kb"


def bench_search(folder: Path) -> None:
    """Latency of a search, query embedding included, after the first one."""
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(folder) as kb:
        started = time.perf_counter()
        kb.search(QUERIES[0])
        first = time.perf_counter() - started
        timings = []
        for _ in range(3):
            for query in QUERIES:
                started = time.perf_counter()
                kb.search(query, k=10)
                timings.append((time.perf_counter() - started) * 1000)
        print(f"search: first {first * 1000:.0f} ms (loads model and index); then median "
              f"{statistics.median(timings):.1f} ms, p95 {sorted(timings)[int(len(timings) * 0.95) - 1]:.1f} ms "
              f"over {len(timings)} queries on {len(kb.index)} vectors")


def bench_index(count: int) -> None:
    """Flat FAISS search over ``count`` random unit vectors."""
    from kb.storage.faiss_index import FaissIndex

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, 384), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = FaissIndex(384)
    index.add(np.arange(count), vectors)
    timings = []
    for query in vectors[:50]:
        started = time.perf_counter()
        index.search(query, 10)
        timings.append((time.perf_counter() - started) * 1000)
    allowed = list(range(0, count, 7))
    started = time.perf_counter()
    index.search(vectors[0], 10, allowed=allowed)
    filtered = (time.perf_counter() - started) * 1000
    print(f"index: {count} vectors, flat search median {statistics.median(timings):.1f} ms; "
          f"filtered to {len(allowed)} ids {filtered:.1f} ms")


def main() -> None:
    """Run every benchmark and print the results."""
    parser = argparse.ArgumentParser(description="Benchmarks of ingest, search and index.")
    parser.add_argument("--scale", type=int, default=4, help="copies of the corpus and dev articles to ingest")
    parser.add_argument("--index-size", type=int, default=200_000, help="vectors in the index benchmark")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        folder = bench_ingest(args.scale, workdir)
        bench_search(folder)
        bench_index(args.index_size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
