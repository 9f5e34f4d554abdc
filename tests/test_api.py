"""The README's Python API example runs against a real knowledge base."""
from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "api_example.py"


def readme_example() -> str:
    """The python code block of the README's 'Python API' section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python block in its Python API section"
    return match.group(1)


def test_readme_example_is_the_runnable_example_file() -> None:
    assert readme_example().strip() in EXAMPLE.read_text(encoding="utf-8")


@pytest.mark.slow
def test_api_example_runs(corpus_kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("KB_DIR", str(corpus_kb_dir))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert (tmp_path / "items.xlsx").stat().st_size > 0
    assert "wrote items.xlsx" in capsys.readouterr().out


def test_knowledge_base_is_importable_from_the_package() -> None:
    from kb import KnowledgeBase

    assert callable(KnowledgeBase.open) and callable(KnowledgeBase.compare) and callable(KnowledgeBase.export)


def test_a_unique_prefix_of_a_document_id_filters_items_and_search(tmp_path: Path, fake_embedder) -> None:
    from kb.errors import KBError
    from kb_builder import build_kb

    docs = {"000_aa": ("sv", [("duty", "", "hantera korrespondens")]),
            "001_bb": ("sv", [("duty", "", "boka resor åt chefen")]),
            "010_cc": ("pl", [("duty", "", "rezerwować sale konferencyjne")])}
    with build_kb(tmp_path / "kb", fake_embedder, docs) as kb:
        assert [item["doc_id"] for item in kb.items(doc="001")] == ["001_bb"]
        assert {hit.doc_id for hit in kb.search("boka resor", doc="01", k=5)} == {"010_cc"}
        with pytest.raises(KBError, match="ambiguous document id '00'.*000_aa, 001_bb"):
            kb.items(doc="00")
