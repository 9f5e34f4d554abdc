"""Short articles prepared together (ingest.compute.prepared_batch): the same results as each alone."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.compute import batches, prepare, prepared_batch
from ingest.pipeline import ingest
from ingest.read import read_file
from kb.embedding.embedders import memo_for
from kb.embedding.tokens import encoder_for
from kb.esco.match import open_matcher
from kb.knowledge import KnowledgeBase
from kb.records import Article

TEXTS = {
    "truck": "Truckförare\n\nArbetsuppgifter:\n- Köra gaffeltruck\n- Lagra varor i lagret\n\nKrav:\n- Truckkort\n",
    "kucharz": "Kucharz\n\nKucharze przygotowują posiłki i planują menu; dbają o czystość kuchni.\n",
    "accountant": "Accountant\n\nAccountants prepare financial statements and advise clients on taxes.\n",
}


def articles(folder) -> list[Article]:
    for name, text in TEXTS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return [read_file(folder / f"{name}.txt", name) for name in TEXTS]


@pytest.mark.slow
def test_articles_prepared_together_are_those_prepared_alone(e5, tmp_path):
    matcher = open_matcher()
    embedder = memo_for(e5, encoder_for("e5"))
    together = list(prepared_batch(articles(tmp_path), embedder, matcher))
    alone = [prepare(article, embedder, matcher) for article in articles(tmp_path)]
    assert [one.article.doc_id for one in together] == list(TEXTS)
    for batch, single in zip(together, alone):
        assert [(u.kind, u.text, u.start, u.end) for u in batch.units] == [(u.kind, u.text, u.start, u.end)
                                                                          for u in single.units]
        assert np.allclose(batch.vectors, single.vectors, atol=1e-5)
        assert batch.links == single.links and batch.occupations == single.occupations
    assert together[0].occupations and any(link is not None for link in together[0].links)


def test_a_file_that_fails_among_others_fails_alone(tmp_path, fake_embedder, monkeypatch):
    import ingest.compute as compute

    folder = tmp_path / "articles"
    folder.mkdir()
    articles(folder)
    extracted = compute.extracted

    def failing(article, *args, **kwargs):
        if article.doc_id == "kucharz":
            raise RuntimeError("the tagger failed")
        return extracted(article, *args, **kwargs)

    monkeypatch.setattr(compute, "extracted", failing)
    report = ingest([folder], kb_dir=tmp_path / "kb", embedder=fake_embedder)
    assert sorted(report.ingested) == ["accountant", "truck"]
    assert [entry.path for entry in report.failed] == [str(folder / "kucharz.txt")]
    with KnowledgeBase.open(tmp_path / "kb", embedder=fake_embedder) as kb:
        assert sorted(doc["doc_id"] for doc in kb.docs()) == ["accountant", "truck"]
        assert kb.items(doc="truck")


def test_short_articles_run_together_and_a_long_one_alone():
    short = [Article(f"s{n}", f"s{n}.txt", "x" * 50, "", "utf-8", "") for n in range(5)]
    long = Article("long", "long.txt", "x" * 100, "", "utf-8", "")
    runs = list(batches(short[:2] + [long] + short[2:], short=60, chars=120))
    assert [[a.doc_id for a in run] for run in runs] == [["s0", "s1"], ["long"], ["s2", "s3"], ["s4"]]
