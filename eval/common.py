"""Shared pieces of the evaluations: the development set, the real pipeline stages, span matching."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence


from kb.embedding.embedders import CachingEmbedder  # noqa: F401 (re-exported for the evaluations)
from kb.records import Article, Item, Sentence

ROOT = Path(__file__).resolve().parents[1]
DEV_DIR = ROOT / "tests" / "data" / "dev"
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?=\s)|$)", re.M)


@dataclass(frozen=True)
class GoldArticle:
    """One annotated article: its decoded text, sentences and gold items."""

    doc_id: str
    lang: str
    path: str
    article: Article
    sentences: list[Sentence]
    items: list[dict]


def load_gold(dev_dir: Path = DEV_DIR) -> list[dict]:
    """The gold records of the development set, sorted by doc_id."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((dev_dir / "gold").glob("*.json"))]


def pipeline_sentences(paths: Sequence[Path]) -> tuple[list[Article], list[Sentence]]:
    """Articles and sentences from the real stages: ``detect_sentences(split(detect(read(paths))))``."""
    from ingest.language import detect, detect_sentences
    from ingest.read import read

    articles = [article for article in detect(read(paths)) if isinstance(article, Article)]
    try:
        from ingest.sentences import split
    except ImportError:  # the splitter is written elsewhere; until it exists, split naively
        split = naive_split
    return articles, list(detect_sentences(split(articles)))


def naive_split(articles: Iterable[Article]) -> Iterable[Sentence]:
    """Stand-in sentence splitter: lines cut after . ! ? (used only when ingest.sentences is missing)."""
    for article in articles:
        for index, match in enumerate(_SENTENCE.finditer(article.text)):
            text = match.group().strip()
            if text:
                start = article.text.index(text, match.start())
                yield Sentence(article.doc_id, index, start, start + len(text), text, article.lang)


def dev_set(dev_dir: Path = DEV_DIR) -> list[GoldArticle]:
    """Every annotated article with its pipeline sentences (gold offsets checked against the text)."""
    gold = load_gold(dev_dir)
    articles, sentences = pipeline_sentences([ROOT / record["path"] for record in gold])
    by_path = {Path(article.path).resolve(): article for article in articles}
    result = []
    for record in gold:
        article = by_path[(ROOT / record["path"]).resolve()]
        for item in record["items"]:
            assert article.text[item["start"]:item["end"]] == item["text"], (record["doc_id"], item["text"])
        own = [sentence for sentence in sentences if sentence.doc_id == article.doc_id]
        result.append(GoldArticle(record["doc_id"], record["lang"], record["path"], article, own, record["items"]))
    return result


def token_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Article offsets of the whitespace tokens of ``text[start:end]``."""
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]


def match(predicted: list[Item], gold: list[dict], text: str) -> list[tuple[int, int]]:
    """One-to-one (gold index, predicted index) pairs of the same kind whose spans overlap
    by at least half of the gold span's whitespace tokens; largest overlaps first."""
    pairs = []
    for g, item in enumerate(gold):
        tokens = token_spans(text, item["start"], item["end"])
        for p, pred in enumerate(predicted):
            if pred.kind != item["kind"]:
                continue
            covered = sum(1 for s, e in tokens if s < pred.end and e > pred.start)
            if tokens and covered * 2 >= len(tokens):
                pairs.append((covered / len(tokens), g, p))
    used_gold, used_pred, result = set(), set(), []
    for _, g, p in sorted(pairs, reverse=True):
        if g not in used_gold and p not in used_pred:
            used_gold.add(g)
            used_pred.add(p)
            result.append((g, p))
    return result


