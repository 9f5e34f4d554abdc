"""Build small knowledge bases for unit tests straight through the Store (no reader, splitter or extractor)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

from kb.knowledge import KnowledgeBase
from kb.records import Article, Item, Sentence


def add_doc(kb: KnowledgeBase, doc_id: str, lang: str, items: Sequence[tuple[str, str, str]],
            title: str = "") -> None:
    """Store one article whose text is its items, one sentence each: items are (kind, subtype, text)."""
    text = "\n".join(text for _, _, text in items)
    sentences, records, start = [], [], 0
    for index, (kind, subtype, item_text) in enumerate(items):
        end = start + len(item_text)
        sentences.append(Sentence(doc_id, index, start, end, item_text, lang))
        records.append(Item(doc_id, index, kind, subtype, start, end, item_text, lang, 0.9, "test"))
        start = end + 1
    article = Article(doc_id, f"{doc_id}.txt", text, title or doc_id, "utf-8",
                      hashlib.sha1(text.encode()).hexdigest(), lang=lang)
    vectors = kb.embedder.embed_passages([s.text for s in sentences] + [i.text for i in records])
    store = kb.store
    with store.transaction():
        store.remove_article(doc_id)
        article_id = store.add_article(article)
        ids = store.add_sentences(article_id, sentences, vectors[:len(sentences)])
        store.add_items(article_id, records, {s.index: i for s, i in zip(sentences, ids)}, vectors[len(sentences):])
        store.bump_generation()


def build_kb(folder: Path, embedder, docs: dict[str, tuple[str, Sequence[tuple[str, str, str]]]]) -> KnowledgeBase:
    """A knowledge base holding ``docs`` ({doc_id: (lang, items)}), grouped like after an ingest."""
    from kb.analysis.group import update_groups

    kb = KnowledgeBase.create_or_open(folder, embedder=embedder)
    for doc_id, (lang, items) in docs.items():
        add_doc(kb, doc_id, lang, items)
    update_groups(kb.store)
    return kb
