"""Language data: one folder a language, loaded into a typed LangData and checked against a schema."""
from __future__ import annotations

import json

import pytest

from ingest import langdata
from kb.errors import KBError


@pytest.mark.parametrize("code", langdata.codes())
def test_every_shipped_language_folder_loads_and_passes_the_schema(code):
    data = langdata.load(code)
    assert data.code == code
    assert data.rules is not None or data.abbreviations or data.boilerplate


def test_a_language_without_a_folder_has_empty_data():
    data = langdata.load("sw")
    assert data.rules is None and data.abbreviations == frozenset() and data.boilerplate == ()


@pytest.mark.parametrize("lang, text", [("sv", "t.ex."), ("pl", "np."), ("en", "e.g.")])
def test_abbreviations_come_from_the_language_folder_and_the_shared_one(lang, text):
    from ingest.sentences import _abbreviations

    assert text in _abbreviations(lang)


def _broken(tmp_path, change) -> tuple:
    data = json.loads((langdata.LANG_DIR / "sv" / langdata.RULES_FILE).read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "sv" / langdata.RULES_FILE
    path.parent.mkdir()
    path.write_text(json.dumps(data), encoding="utf-8")
    return data, path


@pytest.mark.parametrize("change, key", [
    (lambda data: data.pop("frames"), "frames"),
    (lambda data: data["frames"][2].update(kind="task"), "frames[2].kind"),
    (lambda data: data["frames"][0].update(cues="ansvarar för"), "frames[0].cues"),
    (lambda data: data.update(strip=["du", 3]), "strip"),
    (lambda data: data.update(lang="nb"), "lang"),
])
def test_a_schema_error_names_the_file_and_the_key(tmp_path, change, key):
    data, path = _broken(tmp_path, change)
    with pytest.raises(KBError) as error:
        langdata.check_rules(data, path, "sv")
    assert str(path) in str(error.value) and repr(key) in str(error.value)
    assert "fix the language data file" in str(error.value)


def test_shipped_rules_cannot_be_changed_by_a_caller():
    with pytest.raises(TypeError):
        langdata.load("sv").rules["strip"] = []
