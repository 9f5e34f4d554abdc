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


def test_a_language_filter_is_case_blind_and_one_nothing_is_in_is_refused_with_the_ones_there(
        tmp_path: Path, fake_embedder) -> None:
    from kb.errors import KBError
    from kb_builder import build_kb

    docs = {"000_aa": ("sv", [("duty", "", "hantera korrespondens"), ("skill", "knowledge", "kunskaper i Excel")]),
            "010_cc": ("pl", [("duty", "", "rezerwować sale konferencyjne")])}
    with build_kb(tmp_path / "kb", fake_embedder, docs) as kb:
        assert [item["text"] for item in kb.items(lang="SV", kind="duty")] == ["hantera korrespondens"]
        assert {hit.lang for hit in kb.search("korrespondens", lang=" PL ", k=5)} == {"pl"}
        for call in (lambda: kb.search("korrespondens", lang="de"), lambda: kb.items(lang="de"),
                     lambda: kb.skills(lang="de"), lambda: kb.export(tmp_path / "x.csv", lang="de")):
            with pytest.raises(KBError, match="nothing in language 'de' here.*use one of pl, sv"):
                call()
        assert not (tmp_path / "x.csv").exists()
