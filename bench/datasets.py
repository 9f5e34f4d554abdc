"""The benchmark's text sets: the corpus, ESCO occupation descriptions, and synthetic scale sets.

The synthetic sets are built without the model: real sentences of a knowledge base repeated, each copy
with its vector perturbed (a cosine of about 0.9 to the original) and the original's token states, written
through the ``KnowledgeBase`` API as ingest writes them.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ESCO_FILE = ROOT.parent / "shared" / "data" / "esco" / "v1.2.1_occupations_pl.csv"
QUERIES_FILE = ROOT / "tests" / "data" / "queries.jsonl"
UNITS_PER_ARTICLE = 200


def corpus_files() -> list[Path]:
    """The corpus and the development articles."""
    return sorted((ROOT / "corpus").glob("*.txt")) + sorted((ROOT / "tests/data/dev/articles").glob("*.txt"))


def esco_files(folder: Path, count: int) -> list[Path] | None:
    """``count`` ESCO occupation descriptions (Polish, every n-th of the list) as article files, or None
    when ../shared is absent."""
    if not ESCO_FILE.exists():
        return None
    with ESCO_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["description"].strip()]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in rows[::max(1, len(rows) // count)][:count]:
        path = folder / f"esco_{row['code'].replace('.', '_')}.txt"
        path.write_text(f"{row['preferredLabel']}\n\n{row['description'].strip()}\n", encoding="utf-8")
        paths.append(path)
    return paths


def esco_long_file(folder: Path, chars: int) -> Path | None:
    """One article of about ``chars`` characters: ESCO Polish occupation descriptions one after another
    (a long real document, for ingest's memory on one large file), or None when ../shared is absent."""
    if not ESCO_FILE.exists():
        return None
    with ESCO_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["description"].strip()]
    parts, size = ["Opisy zawodów\n"], 0
    for row in rows:
        if size >= chars:
            break
        part = f"\n{row['preferredLabel']}\n\n{row['description'].strip()}\n"
        parts.append(part)
        size += len(part)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "esco_descriptions_pl.txt"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def queries(limit: int = 60) -> list[str]:
    """Real queries of the search dev set, in their languages."""
    rows = [json.loads(line) for line in QUERIES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["query"] for row in rows][:limit]


def source_sentences(kb) -> tuple[list[dict], np.ndarray, dict[int, bytes]]:
    """A knowledge base's sentences (rows), their vectors and their stored token-state blobs."""
    rows = kb.store.select_units(kinds=("sentence",))
    vectors = kb.index.reconstruct([row["id"] for row in rows])
    blobs = dict(kb.store.connection.execute("SELECT unit_id, tokens FROM unit_tokens").fetchall())
    return rows, vectors, blobs


def synthetic_batches(rows: list[dict], vectors: np.ndarray, count: int,
                      seed: int = 0) -> Iterator[tuple[list[dict], np.ndarray]]:
    """``count`` units in articles of UNITS_PER_ARTICLE: rows cycled, vectors perturbed and renormalized."""
    rng = np.random.default_rng(seed)
    noise = 0.45 / np.sqrt(vectors.shape[1])
    for start in range(0, count, UNITS_PER_ARTICLE):
        chosen = np.arange(start, min(count, start + UNITS_PER_ARTICLE)) % len(rows)
        perturbed = vectors[chosen] + rng.normal(0, noise, (len(chosen), vectors.shape[1])).astype(np.float32)
        yield [rows[i] for i in chosen], perturbed / np.linalg.norm(perturbed, axis=1, keepdims=True)


def build_synthetic(source, folder: Path, count: int) -> int:
    """Write a synthetic knowledge base of ``count`` sentence units made from ``source``'s; returns the
    characters of text it holds."""
    from kb.knowledge import KnowledgeBase
    from kb.records import Article, Sentence

    rows, vectors, blobs = source_sentences(source)
    chars = 0
    with KnowledgeBase.create_or_open(folder, embedder=source.embedder) as kb, kb.batch():
        for number, (chosen, perturbed) in enumerate(synthetic_batches(rows, vectors, count)):
            text = "\n".join(row["text"] for row in chosen)
            article = Article(doc_id=f"synthetic_{number:05d}", path=f"synthetic_{number:05d}.txt",
                              title=f"synthetic {number}", text=text, encoding="utf-8",
                              content_hash=str(number), lang=chosen[0]["lang"])
            sentences, offset = [], 0
            for index, row in enumerate(chosen):
                sentences.append(Sentence(doc_id=article.doc_id, index=index, text=row["text"], start=offset,
                                          end=offset + len(row["text"]), lang=row["lang"]))
                offset += len(row["text"]) + 1
            chars += len(text)
            kb.add_article(article, sentences, (), perturbed, [blobs[row["id"]] for row in chosen])
    return chars
