"""The skill list: groups with label, subtype, roles, languages and examples."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import KBError
from kb_builder import build_kb

DOCS = {
    "sv1": ("sv", [("skill", "skill", "kommunikationsförmåga"), ("skill", "trait", "noggrann"),
                   ("duty", "", "hantera korrespondens")]),
    "sv2": ("sv", [("skill", "skill", "Kommunikationsförmåga."), ("skill", "education", "B-körkort")]),
    "pl1": ("pl", [("skill", "education", "prawo jazdy kat. B")]),
}


@pytest.fixture
def skills_kb(tmp_path: Path, fake_embedder):
    with build_kb(tmp_path / "kb", fake_embedder, DOCS) as kb:
        yield kb


def test_skill_list_counts_roles_and_languages(skills_kb) -> None:
    groups = skills_kb.skills()
    top = groups[0]
    assert top["label"] == "kommunikationsförmåga" and top["roles"] == 2 and top["mentions"] == 2
    assert top["languages"] == ["sv"] and top["members"]["sv"] == ["kommunikationsförmåga", "Kommunikationsförmåga."]
    assert all(group["subtype"] for group in groups)
    assert "hantera korrespondens" not in {group["label"] for group in groups}


def test_skill_list_filters(skills_kb) -> None:
    assert {g["label"] for g in skills_kb.skills(subtype="trait")} == {"noggrann"}
    assert {g["label"] for g in skills_kb.skills(lang="pl")} == {"prawo jazdy kat. B"}
    assert len(skills_kb.skills(top=1)) == 1


@pytest.mark.parametrize("kwargs, message", [({"subtype": "hobby"}, "unknown skill subtype 'hobby'; use one of"),
                                             ({"top": 0}, "--top must be at least 1")])
def test_skill_list_refuses_bad_options(skills_kb, kwargs: dict, message: str) -> None:
    with pytest.raises(KBError, match=message):
        skills_kb.skills(**kwargs)


def test_cli_skills_json(skills_kb, capsys) -> None:
    assert main(["skills", "--kb", str(skills_kb.folder), "--json", "--top", "2"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert len(groups) == 2 and {"group_id", "label", "subtype", "roles", "languages", "members"} <= set(groups[0])


def test_cli_skills_text(skills_kb, capsys) -> None:
    assert main(["skills", "--kb", str(skills_kb.folder)]) == 0
    assert "kommunikationsförmåga [skill] 2 roles, 1 language (sv)" in capsys.readouterr().out


@pytest.mark.slow
def test_corpus_skill_list_spans_languages(corpus_kb) -> None:
    groups = corpus_kb.skills()
    assert groups and {lang for group in groups for lang in group["languages"]} >= {"sv", "vi"}


@pytest.mark.slow
def test_an_article_that_states_no_requirement_gives_no_skill(corpus_kb) -> None:
    # the Polish corpus article describes what a meeting coordinator does and asks for nothing
    polish = [doc["doc_id"] for doc in corpus_kb.docs() if doc["lang"] == "pl"]
    assert polish and corpus_kb.items(doc=polish[0], kind="duty")
    assert not corpus_kb.items(doc=polish[0], kind="skill")
