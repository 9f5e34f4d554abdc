"""The ray engine: the same knowledge base as the local engine, unchanged files kept from Ray, bad files
reported by name, a failure that outlives Ray's retries rolled back, and no ray import on the default path."""
from __future__ import annotations

import pickle
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from ingest.compute import Failure
from ingest.pipeline import ingest
from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.records import Refused
from tests.conftest import CORPUS, ROOT

pytest.importorskip("ray.data")  # requirements-scale.txt
pytestmark = pytest.mark.slow

UNIT_FIELDS = ("doc_id", "kind", "subtype", "lang", "start", "end", "text", "confidence")


@pytest.fixture(scope="module")
def ray_kb_dir(tmp_path_factory) -> tuple:
    """The corpus ingested by the ray engine with two workers, and its report."""
    folder = tmp_path_factory.mktemp("ray_kb") / "kb"
    report = ingest([str(CORPUS)], kb_dir=folder, engine="ray", workers=2)
    assert report.ok, report.summary()
    return folder, report


def contents(folder) -> dict:
    """What a knowledge base holds, keyed by unit (doc, kind, span, text), read through its API."""
    with KnowledgeBase.open(folder) as kb:
        rows = kb.store.select_units()
        keys = [tuple(row[field] for field in UNIT_FIELDS[:-1]) for row in rows]
        links = kb.unit_esco([row["id"] for row in rows])
        return {"docs": [(doc["doc_id"], doc["lang"], doc["title"], doc["sentences"], doc["duties"], doc["skills"])
                         for doc in kb.docs()],
                "units": {key: row["confidence"] for key, row in zip(keys, rows)},
                "links": {key: links[row["id"]]["esco_uri"] for key, row in zip(keys, rows) if row["id"] in links},
                "occupations": {doc["doc_id"]: [(link.uri, round(link.score, 4)) for link in
                                                kb_article_links(kb, doc["doc_id"])] for doc in kb.docs()},
                "vectors": dict(zip(keys, kb.index.reconstruct([row["id"] for row in rows]))),
                "tokens": dict(zip(keys, (kb.store.tokens([row["id"]], kb.settings.dim).get(row["id"])
                                          for row in rows)))}


def kb_article_links(kb, doc_id: str) -> list:
    from kb.storage.esco_links import article_links

    return article_links(kb.store.connection, doc_id)


def test_ray_and_local_engines_build_the_same_knowledge_base(ray_kb_dir, corpus_kb_dir):
    folder, report = ray_kb_dir
    assert len(report.ingested) == 5 and report.unchanged == [] and not report.refused
    ray, local = contents(folder), contents(corpus_kb_dir)
    assert ray["docs"] == local["docs"]
    assert ray["units"].keys() == local["units"].keys()
    assert {key[1] for key in ray["units"]} == {"sentence", "duty", "skill", "part"}
    # confidences, stored to 4 decimals: float noise of another batching may cross one rounding step, no more
    assert ray["units"] == pytest.approx(local["units"], abs=1.01e-4)
    assert ray["links"] == local["links"] and ray["links"]
    assert ray["occupations"] == local["occupations"]
    for key, vector in local["vectors"].items():
        np.testing.assert_allclose(ray["vectors"][key], vector, atol=1e-5, err_msg=str(key))
    sentences = [key for key in local["tokens"] if key[1] == "sentence"]
    assert all(ray["tokens"][key] is not None for key in sentences)
    for key in sentences:
        np.testing.assert_allclose(ray["tokens"][key], local["tokens"][key], atol=1e-5, err_msg=str(key))


def test_reingesting_the_unchanged_corpus_on_ray_sends_nothing_to_ray(ray_kb_dir, monkeypatch):
    from ingest.engines.ray import RayEngine

    folder, _ = ray_kb_dir
    before = contents(folder)

    def no_dataset(*args):
        raise AssertionError("an unchanged file reached Ray")

    monkeypatch.setattr(RayEngine, "_dataset", no_dataset)
    report = ingest([str(CORPUS)], kb_dir=folder, engine="ray", workers=1)
    assert report.ok and report.ingested == [] and len(report.unchanged) == 5
    after = contents(folder)
    assert after["units"] == before["units"] and after["docs"] == before["docs"]


def test_bad_files_on_ray_are_reported_by_name_and_the_good_ones_stored(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "kock.txt").write_text("Kock\n\nArbetsuppgifter:\n- laga mat\n- diska\n", encoding="utf-8")
    (articles / "empty.txt").write_text("", encoding="utf-8")
    (articles / "binary.txt").write_bytes(bytes(range(256)) * 4)
    report = ingest([articles], kb_dir=tmp_path / "kb", engine="ray", workers=1)
    assert report.ok and report.ingested == ["kock"]
    assert {entry.path.rsplit("/", 1)[-1] for entry in report.refused} == {"empty.txt", "binary.txt"}
    assert "refused: " in report.summary() and "binary.txt" in report.summary()
    local = ingest([articles / "kock.txt"], kb_dir=tmp_path / "local")
    assert local.ingested == ["kock"]
    with KnowledgeBase.open(tmp_path / "kb") as kb, KnowledgeBase.open(tmp_path / "local") as alone:
        assert [doc["doc_id"] for doc in kb.docs()] == ["kock"]
        items = [item["text"] for item in kb.items()]
        assert "laga mat" in items and items == [item["text"] for item in alone.items()]  # as the local engine


def test_an_error_in_a_stage_skips_only_its_file():
    import pandas as pd

    from ingest.engines.ray import each_row

    def step(text: str) -> str:
        if text == "bad":
            raise KBError("cannot use this text", hint="fix it")
        if text == "bug":
            raise ZeroDivisionError("division by zero")
        return text.upper()

    earlier = Failure(Refused("c.txt", "refused before"), refused=True)
    batch = pd.DataFrame({"position": [0, 1, 2, 3], "path": ["a.txt", "b.txt", "c.txt", "d.txt"],
                          "payload": [pickle.dumps(value) for value in ("good", "bad", earlier, "bug")]})
    out = [pickle.loads(payload) for payload in each_row(batch, step)["payload"]]
    assert out[0] == "GOOD" and out[2] == earlier
    assert out[1] == Failure(Refused("b.txt", "cannot use this text; fix it"), refused=True)
    assert out[3] == Failure(Refused("d.txt", "ZeroDivisionError: division by zero"), refused=False)


def test_rows_run_together_and_a_failure_among_them_runs_each_alone():
    import pandas as pd

    from ingest.engines.ray import each_row

    calls = []

    def together(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        if "bad" in texts:
            raise KBError("cannot use this text", hint="fix it")
        return [text.upper() for text in texts]

    def batch(*texts: str):
        return pd.DataFrame({"position": list(range(len(texts))), "path": [f"{t}.txt" for t in texts],
                             "payload": [pickle.dumps(text) for text in texts]})

    out = [pickle.loads(p) for p in each_row(batch("a", "b", "c"), str.upper, together)["payload"]]
    assert out == ["A", "B", "C"] and calls == [["a", "b", "c"]]  # one call for the three rows

    def step(text: str) -> str:
        if text == "bad":
            raise KBError("cannot use this text", hint="fix it")
        return text.upper()

    out = [pickle.loads(p) for p in each_row(batch("a", "bad", "c"), step, together)["payload"]]
    assert out[0] == "A" and out[2] == "C"  # the batch failed, so each row ran alone: only "bad" fails
    assert out[1] == Failure(Refused("bad.txt", "cannot use this text; fix it"), refused=True)


def test_a_ray_failure_after_retries_rolls_back_and_names_the_file(tmp_path, monkeypatch, e5):
    """The first article comes back, then Ray gives up: the transaction rolls back, nothing is visible."""
    from ray.exceptions import RayError

    from ingest.engines.ray import RayEngine
    from ingest.compute import prepare
    from kb.embedding.embedders import memo_for
    from kb.embedding.tokens import encoder_for

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a_kock.txt").write_text("Kock\n\nArbetsuppgifter:\n- laga mat\n- diska\n", encoding="utf-8")
    (articles / "b_kucharz.txt").write_text("Kucharz\n\nObowiązki:\n- gotowanie\n", encoding="utf-8")

    class GivesUp:
        def __init__(self, sent):
            self.sent = sent

        def iter_rows(self):
            first = prepare(self.sent[0], memo_for(e5, encoder_for("e5")), None)
            yield {"position": 0, "path": self.sent[0].path, "payload": pickle.dumps(first)}
            raise RayError("the actor died 4 times")

    monkeypatch.setattr(RayEngine, "_dataset", lambda self, sent, *args: GivesUp(sent))
    with pytest.raises(KBError, match=r"b_kucharz\.txt: Ray failed .* after 3 retries .*nothing was written"):
        ingest([articles], kb_dir=tmp_path / "kb", engine="ray", workers=1)
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        assert kb.docs() == [] and kb.store.counts()["sentences"] == 0


def test_an_unreachable_ray_address_is_refused_and_nothing_is_written(tmp_path, capsys):
    from ingest.__main__ import main

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "kb"
    assert main([str(CORPUS), "--kb", str(folder), "--engine", "ray", "--address", f"127.0.0.1:{port}",
                 "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: --address: cannot reach the Ray cluster at '127.0.0.1:{port}'")
    assert "nothing was written" in error
    assert not folder.exists()


def test_ray_options_without_the_ray_engine_are_refused(tmp_path, capsys):
    from ingest.__main__ import main

    assert main([str(CORPUS), "--kb", str(tmp_path / "kb"), "--workers", "2"]) == 1
    assert "add --engine ray" in capsys.readouterr().err and not (tmp_path / "kb").exists()


def test_the_default_ingest_and_search_never_import_ray(tmp_path, corpus_kb_dir):
    folder, corpus = tmp_path / "kb", tmp_path / "corpus"
    shutil.copytree(corpus_kb_dir, folder)
    shutil.copytree(CORPUS, corpus)
    (corpus / "kucharz.txt").write_text("Kucharz\n\nObowiązki:\n- gotowanie zup\n", encoding="utf-8")
    runner = ("import runpy, sys\n"
              "def run(module, *args):\n"
              "    sys.argv = [module, *args]\n"
              "    try:\n        runpy.run_module(module, run_name='__main__')\n"
              "    except SystemExit as exit:\n        assert not exit.code, exit.code\n"
              "    print(module.upper() + '_RAY=' + str('ray' in sys.modules))\n"
              f"run('ingest', {str(corpus)!r}, '--kb', {str(folder)!r}, '--quiet')\n"
              f"run('kb', 'search', 'gotowanie', '--kb', {str(folder)!r})\n")
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "1 ingested, 5 unchanged" in result.stdout
    assert "INGEST_RAY=False" in result.stdout and "KB_RAY=False" in result.stdout
