"""The knowledge base's settings: a knowledge base of another format is refused, never misread."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.settings import FORMAT_VERSION, SETTINGS_FILE

ROOT = Path(__file__).resolve().parent.parent


def _with_format(folder: Path, fake_embedder, version: int | None) -> Path:
    KnowledgeBase.create_or_open(folder, embedder=fake_embedder).close()
    settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    if version is None:
        del settings["format_version"]
    else:
        settings["format_version"] = version
    (folder / SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")
    return folder


@pytest.mark.parametrize("version", [1, None])  # None: the first versions wrote no format number
def test_an_old_format_knowledge_base_is_refused_with_how_to_rebuild_it(tmp_path, fake_embedder, version):
    folder = _with_format(tmp_path / "old", fake_embedder, version)
    for opening in (lambda: KnowledgeBase.open(folder), lambda: KnowledgeBase.create_or_open(folder)):
        with pytest.raises(KBError) as raised:
            opening()
        message = str(raised.value)
        assert str(folder) in message and "format 1" in message and "older version" in message
        assert f"reads format {FORMAT_VERSION}" in message and "python -m ingest" in message


def test_a_newer_format_is_refused_too(tmp_path, fake_embedder):
    folder = _with_format(tmp_path / "new", fake_embedder, FORMAT_VERSION + 1)
    with pytest.raises(KBError, match="newer version"):
        KnowledgeBase.open(folder)


def test_the_cli_refuses_an_old_knowledge_base_in_one_line_and_exits_1(tmp_path, fake_embedder):
    folder = _with_format(tmp_path / "old", fake_embedder, 1)
    result = subprocess.run([sys.executable, "-m", "kb", "docs", "--kb", str(folder)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "format 1" in result.stderr and "Traceback" not in result.stderr
