"""Per-language data, one folder a language: ``ingest/lang/<code>/``.

A folder may hold ``rules.json`` (cue words for the extractor's rules, see ``ingest.extract.rules``),
``abbreviations.txt`` (words with a full stop that do not end a sentence) and ``boilerplate.txt``
(regular expressions of site chrome: cookie banners, share bars). Adding a language means adding a
folder; none of the files is required. Everything is loaded into one typed ``LangData`` and checked
against a schema, so a mistake in a data file is reported with the file and the key, not as a
``KeyError`` deep inside the extractor.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from kb.errors import KBError

LANG_DIR = Path(__file__).resolve().parent / "lang"
RULES_FILE = "rules.json"
ABBREVIATIONS_FILE = "abbreviations.txt"
BOILERPLATE_FILE = "boilerplate.txt"
SHARED = "xx"  # abbreviations of every language (e.g., "e.g.")

FRAME_KINDS = ("duty", "skill", "any")
FRAME_POSITIONS = ("after", "before")
FRAME_FIELDS = {"name": str, "kind": str, "position": str, "prior": (int, float), "cues": list, "subtype": str,
                "needs_head": bool, "needs_copula": bool, "subject": bool}
FRAME_REQUIRED = ("name", "kind", "position", "prior", "cues")
REQUIRED = {"lang": str, "frames": list, "heads": dict, "sections": dict}
OPTIONAL = {"compounds": bool, "verb_second": bool, "trim_trailing": bool, "syllables_per_word": (int, float),
            "present_verb": dict, "dropped_subject": dict}  # every other key is a list of words


@dataclass(frozen=True)
class LangData:
    """Everything hand-written about one language."""

    code: str
    rules: Mapping | None  # the checked content of rules.json; None where the language has none
    abbreviations: frozenset[str]
    boilerplate: tuple[str, ...]


def codes() -> tuple[str, ...]:
    """The languages that have a data folder."""
    return tuple(sorted(path.name for path in LANG_DIR.iterdir() if path.is_dir() and not path.name.startswith("_")))


@lru_cache(maxsize=None)
def load(code: str) -> LangData:
    """The data of one language (empty where it has no folder)."""
    folder = LANG_DIR / code if code.replace("_", "").isalnum() else None
    if folder is None or not folder.is_dir():
        return LangData(code, None, frozenset(), ())
    rules_path = folder / RULES_FILE
    rules = check_rules(_read_json(rules_path), rules_path, code) if rules_path.is_file() else None
    abbreviations = frozenset(line.lower() for line in _lines(folder / ABBREVIATIONS_FILE))
    return LangData(code, rules, abbreviations, tuple(_lines(folder / BOILERPLATE_FILE)))


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise KBError(f"invalid JSON ({error})", where=str(path), hint="fix the language data file") from error


def _lines(path: Path) -> list[str]:
    """The non-empty, non-comment lines of a data file (none if it is missing)."""
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def check_rules(data: object, path: Path, code: str) -> Mapping:
    """The rules as a read-only mapping, or a KBError naming the file and the key that is wrong."""
    def fail(key: str, problem: str) -> KBError:
        return KBError(f"key {key!r}: {problem}", where=str(path), hint="fix the language data file")

    if not isinstance(data, dict):
        raise fail("(top level)", "expected an object")
    for key, kind in REQUIRED.items():
        if key not in data:
            raise fail(key, "missing")
        if not isinstance(data[key], kind):
            raise fail(key, f"expected {kind.__name__}")
    if data["lang"] != code:
        raise fail("lang", f"is {data['lang']!r} but the folder is {code!r}")
    for index, frame in enumerate(data["frames"]):
        _check_frame(frame, f"frames[{index}]", fail)
    for group in ("heads", "sections"):
        for name, words in data[group].items():
            _check_words(words, f"{group}.{name}", fail)
    for key, value in data.items():
        if key in REQUIRED:
            continue
        if key in OPTIONAL:
            if not isinstance(value, OPTIONAL[key]) or isinstance(value, bool) != (OPTIONAL[key] is bool):
                raise fail(key, f"expected {getattr(OPTIONAL[key], '__name__', 'a number')}")
        else:
            _check_words(value, key, fail)
    return MappingProxyType(data)


def _check_frame(frame: object, key: str, fail) -> None:
    if not isinstance(frame, dict):
        raise fail(key, "expected an object")
    for name in FRAME_REQUIRED:
        if name not in frame:
            raise fail(f"{key}.{name}", "missing")
    for name, value in frame.items():
        if name not in FRAME_FIELDS:
            raise fail(f"{key}.{name}", f"unknown field; use one of {', '.join(FRAME_FIELDS)}")
        if not isinstance(value, FRAME_FIELDS[name]):
            raise fail(f"{key}.{name}", "wrong type")
    if frame["kind"] not in FRAME_KINDS:
        raise fail(f"{key}.kind", f"use one of {', '.join(FRAME_KINDS)}")
    if frame["position"] not in FRAME_POSITIONS:
        raise fail(f"{key}.position", f"use one of {', '.join(FRAME_POSITIONS)}")
    _check_words(frame["cues"], f"{key}.cues", fail)


def _check_words(words: object, key: str, fail) -> None:
    if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
        raise fail(key, "expected a list of words")
