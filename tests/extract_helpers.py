"""Rules-only extraction of hand-written sentences, shared by the extraction tests of every language."""
from __future__ import annotations

from ingest.extract.extractor import extract
from kb.records import Item, Sentence


def sentences_of(lang: str, *texts: str, doc_id: str = "doc") -> tuple[str, list[Sentence]]:
    """An article text made of ``texts`` (one per line) and its Sentence records with real offsets."""
    article, sentences = "Title line\n", []
    for index, text in enumerate(texts):
        start = len(article)
        article += text + "\n"
        sentences.append(Sentence(doc_id, index, start, start + len(text), text, lang))
    return article, sentences


def items_of(lang: str, *texts: str) -> list[Item]:
    """Rules-only items of the given sentences."""
    return list(extract(sentences_of(lang, *texts)[1]))


def texts(items: list[Item], kind: str | None = None) -> list[str]:
    """The items' texts, of one kind or all."""
    return [item.text for item in items if kind is None or item.kind == kind]


def article_sentences(lang: str, text: str, doc_id: str = "doc") -> list[Sentence]:
    """The Sentence records of an article text whose non-empty lines are its sentences (a "- " bullet
    cut off), with offsets into ``text``: for tests where the layout of the text matters."""
    sentences, offset = [], 0
    for line in text.split("\n"):
        content = line[2:] if line.startswith("- ") else line
        if content.strip():
            start = offset + (len(line) - len(content))
            sentences.append(Sentence(doc_id, len(sentences), start, start + len(content), content, lang))
        offset += len(line) + 1
    return sentences
