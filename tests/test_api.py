"""The README's Python API example runs against a real knowledge base."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "api_example.py"


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
