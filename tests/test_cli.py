"""The command-line contract of python -m ingest and python -m kb."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
HIT_KEYS = {"rank", "score", "doc_id", "title", "lang", "kind", "text", "sentence", "start", "end"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_search_json_hits_follow_the_contract_and_slice_the_file_text(corpus_kb_dir):
    result = run("-m", "kb", "search", "organise the director's diary", "--kb", str(corpus_kb_dir), "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits and HIT_KEYS <= set(hits[0])
    assert [hit["rank"] for hit in hits] == list(range(1, len(hits) + 1))
    assert all(a["score"] >= b["score"] for a, b in zip(hits, hits[1:]))
    for hit in hits:
        text = (ROOT / "corpus" / f"{hit['doc_id']}.txt").read_text(encoding="utf-8")
        assert text[hit["start"]:hit["end"]] == hit["text"]
        assert hit["text"] in hit["sentence"]
    senior_coordinator = {"000_8c161820aec857f8", "001_05aa3d396a738bf4"}
    assert any(hit["lang"] == "sv" and hit["doc_id"] in senior_coordinator for hit in hits[:5])


def test_search_filters_by_language_and_kind_from_kb_dir_variable(corpus_kb_dir):
    result = run("-m", "kb", "search", "quản lý ngân sách sự kiện", "--lang", "pl", "--kind", "sentence",
                 "-k", "3", "--json", env={"KB_DIR": str(corpus_kb_dir)})
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 0 < len(hits) <= 3
    assert {hit["lang"] for hit in hits} == {"pl"} and {hit["kind"] for hit in hits} == {"sentence"}


def test_docs_json_lists_every_article_with_counts(corpus_kb_dir):
    result = run("-m", "kb", "docs", "--kb", str(corpus_kb_dir), "--json")
    docs = json.loads(result.stdout)
    assert [doc["doc_id"] for doc in docs] == sorted(p.stem for p in (ROOT / "corpus").glob("*.txt"))
    assert all({"doc_id", "title", "lang", "path", "sentences", "duties", "skills"} <= set(doc) for doc in docs)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_kb_command_has_help_with_an_example(command):
    result = run("-m", "kb", command, "--help")
    assert result.returncode == 0 and "example: python -m kb " + command in result.stdout


def test_ingest_help_has_an_example():
    result = run("-m", "ingest", "--help")
    assert result.returncode == 0 and "example: python -m ingest" in result.stdout


def test_user_error_prints_one_line_and_exits_1(tmp_path):
    result = run("-m", "kb", "search", "anything", "--kb", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "python -m ingest" in result.stderr


def test_ingest_cli_reports_refused_files_and_succeeds(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "nurse.md").write_text("# What does a nurse do?\n\nA nurse cares for patients and gives "
                                     "medication. She needs a nursing degree.\n", encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02binary\x00")
    result = run("-m", "ingest", str(folder), "--kb", str(tmp_path / "kb"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "1 files read" in result.stdout and "broken.txt" in result.stdout
    again = run("-m", "ingest", str(folder), "--kb", str(tmp_path / "kb"), "--quiet")
    assert "0 ingested, 1 unchanged" in again.stdout


def test_a_sentence_hit_matched_by_its_part_shows_the_whole_sentence_with_the_part_marked():
    from kb.cli import shown_text
    from kb.records import Hit

    sentence = "I rollen ingår att planera utskrivningar och att handleda sjuksköterskestudenter varje vecka."
    start = 100 + sentence.index("att handleda")
    part = Hit(rank=1, score=0.5, doc_id="d", title="t", lang="sv", kind="sentence",
               text="att handleda sjuksköterskestudenter", sentence=sentence, start=start, end=start + 35,
               sentence_start=100, sentence_end=100 + len(sentence))
    assert shown_text(part) == ("I rollen ingår att planera utskrivningar och [att handleda sjuksköterskestudenter]"
                                " varje vecka.")
    whole = Hit(rank=1, score=0.5, doc_id="d", title="t", lang="sv", kind="sentence", text=sentence, sentence=sentence,
                start=100, end=100 + len(sentence), sentence_start=100, sentence_end=100 + len(sentence))
    duty = Hit(rank=1, score=0.5, doc_id="d", title="t", lang="sv", kind="duty", text="handleda studenter",
               sentence=sentence, start=start + 4, end=start + 22, sentence_start=100, sentence_end=100 + len(sentence))
    assert shown_text(whole) == sentence and shown_text(duty) == "handleda studenter"
