"""``python -m eval.search``: search quality and latency on the labelled query set.

Builds (or reuses) a knowledge base of the corpus and the development articles
with the real e5 model, cached under the temporary folder by a hash of the
articles and the ingest code, then runs every query of
``tests/data/queries.jsonl`` through each ranking variant and reports
Recall@5 and MRR@10, overall and per query language.

A hit is relevant when its doc_id is the answer's document and its sentence
contains the answer's substring. Hits are deduplicated by sentence before
scoring. Recall@5 is the share of a query's answers found in the first five
(out of at most five), averaged over queries; MRR@10 is the mean reciprocal
rank of the first relevant hit within ten; Success@5 is the share of queries
with at least one answer in the first five. Queries without answers test the
no-match threshold instead.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "data" / "queries.jsonl"
ARTICLE_DIRS = (ROOT / "corpus", ROOT / "tests" / "data" / "dev" / "articles")


@dataclass(frozen=True)
class Query:
    """A labelled query: its language and the (document, substring) pairs that answer it."""

    id: str
    lang: str
    query: str
    relevant: tuple[tuple[str, str], ...]


def load_queries(path: Path = QUERIES) -> list[Query]:
    """Read the query set (one JSON object a line)."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(Query(row["id"], row["lang"], row["query"],
                                 tuple((answer["doc"], answer["contains"]) for answer in row["relevant"])))
    return queries


def variants() -> dict[str, "SearchOptions"]:
    """The ranking variants compared, from the plain baseline to the chosen method."""
    from kb.search.hybrid import DEFAULT_OPTIONS, SearchOptions

    plain = SearchOptions(units="sentence", parts=False, correction="none", hybrid=False, rerank=False)
    return {
        "baseline: dense sentences": plain,
        "+ items (grouped)": replace(plain, units="all"),
        "+ items + bias A (center)": replace(plain, units="all", correction="center"),
        "+ items + bias B (znorm)": replace(plain, units="all", correction="znorm"),
        "+ items + bias C (project)": replace(plain, units="all", correction="project"),
        "+ items + C + hub (CSLS)": replace(plain, units="all", correction="project_hub"),
        "+ items + C + hub + hybrid": replace(plain, units="all", correction="project_hub", hybrid=True),
        "+ C + hub + hybrid + parts": replace(plain, units="all", parts=True, correction="project_hub",
                                              hybrid=True),
        "+ C + hub + hybrid + parts + tokens": replace(plain, units="all", parts=True, correction="project_hub",
                                                       hybrid=True, rerank=True),
        "final (default options)": DEFAULT_OPTIONS,
    }


# -- knowledge base -----------------------------------------------------------------------------
def article_paths() -> list[Path]:
    """The evaluation articles: corpus plus development articles."""
    return sorted(path for folder in ARTICLE_DIRS if folder.exists() for path in folder.glob("*.txt"))


def content_key(paths: Sequence[Path]) -> str:
    """A hash of the articles and of the code that turns them into a knowledge base."""
    from ingest.extract.extractor import resolved_method
    from ingest.pipeline import pipeline_fingerprint

    digest = hashlib.sha256(f"{pipeline_fingerprint()}:{resolved_method()}".encode())
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_kb(folder: Path | None = None) -> Path:
    """The evaluation knowledge base: reused when one for the same content exists."""
    from ingest.pipeline import ingest

    paths = article_paths()
    folder = folder or Path(tempfile.gettempdir()) / "kb-eval" / content_key(paths)
    if (folder / "settings.json").exists():
        return folder
    report = ingest([str(path) for path in paths], kb_dir=folder, embedder_name="e5")
    if not report.ok:
        raise SystemExit(f"eval: building the knowledge base failed:\n{report.summary()}")
    return folder


def doc_ids(kb) -> dict[str, str]:
    """Article file stems and doc_ids, both mapped to the doc_id (the query set names files)."""
    mapping = {}
    for doc in kb.docs():
        mapping[Path(doc["path"]).stem] = doc["doc_id"]
        mapping[doc["doc_id"]] = doc["doc_id"]
    return mapping


# -- metrics ------------------------------------------------------------------------------------
def relevant_ranks(hits, query: Query, ids: dict[str, str]) -> tuple[list[int], int]:
    """Ranks (1-based, after sentence dedupe) of the query's answers found, and how many answers there are."""
    seen, ranks, found = set(), [], set()
    rank = 0
    for hit in hits:
        key = (hit.doc_id, hit.sentence_start)
        if key in seen:
            continue
        seen.add(key)
        rank += 1
        for number, (doc, substring) in enumerate(query.relevant):
            if number not in found and hit.doc_id == ids.get(doc, doc) and substring in hit.sentence:
                found.add(number)
                ranks.append(rank)
    return ranks, len(query.relevant)


def score_query(hits, query: Query, ids: dict[str, str]) -> tuple[float, float, float]:
    """(Recall@5, reciprocal rank within 10, whether any answer is in the first 5) of one query."""
    ranks, total = relevant_ranks(hits, query, ids)
    recall = sum(1 for rank in ranks if rank <= 5) / min(total, 5)
    first = min(ranks, default=0)
    return recall, (1.0 / first if 0 < first <= 10 else 0.0), float(0 < first <= 5)


def summarize(rows: list[tuple[str, float, float, float]]) -> dict:
    """Mean Recall@5, MRR@10 and Success@5 overall and per language from (lang, recall, rr, success) rows."""
    def mean(values):
        return round(statistics.fmean(values), 3) if values else 0.0

    def block(chosen: list) -> dict:
        return {"recall@5": mean([row[1] for row in chosen]), "mrr@10": mean([row[2] for row in chosen]),
                "success@5": mean([row[3] for row in chosen]), "n": len(chosen)}

    langs = sorted({row[0] for row in rows})
    return {"all": block(rows), **{lang: block([row for row in rows if row[0] == lang]) for lang in langs}}


def evaluate(kb, queries: list[Query], vectors: dict[str, tuple]) -> dict[str, dict]:
    """Every variant's metrics (threshold off: ranking quality only), from each query's (vector, token
    states) as search embeds them."""
    from kb.search.hybrid import SearchRequest, search_vector, without_threshold

    ids = doc_ids(kb)
    results = {}
    for name, options in variants().items():
        rows, misses = [], []
        for query in queries:
            if not query.relevant:
                continue
            vector, tokens = vectors[query.id]
            hits = search_vector(kb, SearchRequest(query.query, k=10), vector, without_threshold(options), tokens)
            recall, reciprocal, success = score_query(hits, query, ids)
            rows.append((query.lang, recall, reciprocal, success))
            if recall < 1:
                misses.append(query.id)
        results[name] = {**summarize(rows), "misses": misses}
    return results


def latency(kb, queries: list[Query], repeat: int = 3) -> dict:
    """Milliseconds per query with the default options: embedding and search together."""
    from kb.search.hybrid import SearchRequest, search

    timings = []
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            search(kb, SearchRequest(query.query, k=10))
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1), "queries": len(timings)}


def format_table(results: dict[str, dict]) -> str:
    """A plain-text table: one row per variant, overall and per-language Recall@5 / MRR@10."""
    langs = sorted({key for result in results.values() for key in result if key not in ("all", "misses")})
    header = (f"{'variant':<38} {'all R@5/MRR':>12} {'S@5':>5} "
              + " ".join(f"{lang + ' R@5/MRR':>13}" for lang in langs))
    lines = [header, "-" * len(header)]
    for name, result in results.items():
        cells = [f"{result[key]['recall@5']:.3f}/{result[key]['mrr@10']:.3f}" for key in ["all"] + langs]
        lines.append(f"{name:<38} {cells[0]:>12} {result['all']['success@5']:>5.3f} "
                     + " ".join(f"{cell:>13}" for cell in cells[1:]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m eval.search``."""
    parser = argparse.ArgumentParser(prog="python -m eval.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", metavar="DIR", help="use this knowledge base instead of building one")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--calibrate", action="store_true",
                        help="store the no-match threshold derived from the query set in the knowledge base")
    args = parser.parse_args(argv)

    from kb.search.calibrate import evaluate_threshold, store_thresholds, write_calibration
    from kb.knowledge import KnowledgeBase
    from kb.search.hybrid import embed_query

    folder = Path(args.kb) if args.kb else build_kb()
    queries = load_queries()
    with KnowledgeBase.open(folder) as kb:
        vectors = {query.id: embed_query(kb, query.query) for query in queries}  # as search embeds them
        results = evaluate(kb, queries, vectors)
        labelled = [(q.query, bool(q.relevant), vectors[q.id][0]) for q in queries]
        no_match = evaluate_threshold(kb, labelled)
        if args.calibrate:
            write_calibration(kb.settings.embedder, no_match["correction"],
                              no_match["best_on_query_set"]["offset_above_null"])
            store_thresholds(kb)
            no_match = evaluate_threshold(kb, labelled)
        speed = latency(kb, queries)
        stats = kb.stats()
    print(f"knowledge base {folder}: {stats['articles']} articles, {stats['sentences']} sentences, "
          f"{stats['duties']} duties, {stats['skills']} skills; {sum(1 for q in queries if q.relevant)} "
          f"answerable queries, {sum(1 for q in queries if not q.relevant)} without answer")
    print(format_table(results))
    for name, result in results.items():
        print(f"{name}: not fully found: {', '.join(result['misses']) or '-'}")
    print(f"no-match threshold: {json.dumps(no_match)}")
    print(f"latency (embed + search, default options, k=10): {json.dumps(speed)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"variants": results, "no_match": no_match, "latency": speed},
                                              ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
