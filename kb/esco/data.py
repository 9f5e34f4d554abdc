"""The ESCO tables: shipped with the product (``kb/esco/data``) or imported from a user's download."""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np

from kb.errors import KBError

SHIPPED_DIR = Path(__file__).resolve().parent / "data"
TABLES_FILE = "esco.json.gz"
TYPES = ("occupation", "skill")
SKILL_TYPES = ("skill/competence", "knowledge")


@dataclass(frozen=True, eq=False)
class Concept:
    """An ESCO occupation, skill or ISCO group, with its labels (preferred first) per language."""

    uri: str
    kind: str  # occupation, skill or isco
    labels: Mapping[str, tuple[str, ...]]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    code: str = ""
    isco_group: str = ""
    skill_type: str = ""  # skill/competence or knowledge (skills only)
    reuse_level: str = ""

    def label(self, lang: str = "en") -> str:
        """The preferred label in ``lang``, else in English, else in any language."""
        for language in (lang, "en", *sorted(self.labels)):
            if self.labels.get(language):
                return self.labels[language][0]
        return self.code or self.uri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Info:
    """What a table set holds: ESCO versions, languages and counts."""

    folder: str
    versions: Mapping[str, str]
    languages: tuple[str, ...]
    occupations: int
    skills: int
    isco_groups: int
    relations: int
    labels: Mapping[str, int]

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {key: (dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple)
                      else value) for key, value in self.__dict__.items()}


class EscoData:
    """The loaded tables. Concept numbers are positions in ``occupations`` / ``skills`` (sorted by URI)."""

    def __init__(self, folder: Path, raw: dict) -> None:
        prefix = raw["uri_prefix"]
        self.folder = folder
        self.versions: dict[str, str] = raw["versions"]
        self.languages: tuple[str, ...] = tuple(raw["languages"])
        self.occupations = _concepts(raw["occupations"], "occupation", prefix)
        self.skills = _concepts(raw["skills"], "skill", prefix)
        self.isco_groups = _concepts(raw["isco"], "isco", prefix)
        relations = raw["relations"]
        self.relation_occupation = np.asarray(relations["occupation"], dtype=np.int32)
        self.relation_skill = np.asarray(relations["skill"], dtype=np.int32)
        self.relation_essential = np.asarray(relations["essential"], dtype=bool)
        self.by_uri: dict[str, Concept] = {c.uri: c for c in (*self.occupations, *self.skills, *self.isco_groups)}
        self.occupation_number = {c.uri: number for number, c in enumerate(self.occupations)}

    @classmethod
    def open(cls, folder: Path | None = None) -> "EscoData":
        """Load the tables of ``folder`` (default: the shipped ones)."""
        folder = Path(folder) if folder else SHIPPED_DIR
        path = folder / TABLES_FILE
        if not path.exists():
            raise KBError("no ESCO tables here", where=str(folder),
                          hint="import a download with 'python -m kb esco import DIR' or rebuild with "
                               "'python -m kb.esco.build'")
        try:
            raw = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError) as error:
            raise KBError(f"unreadable ESCO tables ({error})", where=str(path),
                          hint="import the ESCO download again") from error
        return cls(folder, raw)

    def label(self, uri: str, lang: str = "en") -> str:
        """The preferred label of a concept in ``lang``, falling back to English."""
        concept = self.by_uri.get(uri)
        if concept is None:
            raise KBError(f"unknown ESCO concept {uri!r}", hint="give a URI from 'python -m kb esco match'")
        return concept.label(lang)

    def essential_skills(self, occupation_uri: str, optional: bool = False) -> list[tuple[str, str]]:
        """The skills an occupation needs as (skill URI, 'essential'|'optional'), essential first."""
        number = self.occupation_number.get(occupation_uri)
        if number is None:
            raise KBError(f"unknown ESCO occupation {occupation_uri!r}",
                          hint="give a URI from 'python -m kb esco match --type occupation'")
        rows = np.flatnonzero(self.relation_occupation == number)
        pairs = [(self.skills[self.relation_skill[row]].uri,
                  "essential" if self.relation_essential[row] else "optional") for row in rows]
        pairs = [pair for pair in pairs if optional or pair[1] == "essential"]
        return sorted(pairs, key=lambda pair: (pair[1] != "essential", pair[0]))

    def info(self) -> Info:
        """Versions, languages and counts."""
        labels = {lang: sum(len(c.labels.get(lang, ())) for c in (*self.occupations, *self.skills))
                  for lang in self.languages}
        return Info(str(self.folder), self.versions, self.languages, len(self.occupations), len(self.skills),
                    len(self.isco_groups), len(self.relation_skill), labels)


def _concepts(table: dict, kind: str, prefix: str) -> list[Concept]:
    count = len(table["uri"])
    blank = [""] * count
    codes, groups = table.get("code", blank), table.get("isco", blank)
    types, reuse = table.get("type", blank), table.get("reuse", blank)
    labels = list(table["labels"].items())
    descriptions = list(table.get("descriptions", {}).items())
    return [Concept(uri=prefix + uri, kind=kind,
                    labels={lang: tuple(values[n]) for lang, values in labels if values[n]},
                    descriptions={lang: values[n] for lang, values in descriptions if values[n]},
                    code=codes[n], isco_group=groups[n], skill_type=types[n], reuse_level=reuse[n])
            for n, uri in enumerate(table["uri"])]


@lru_cache(maxsize=4)
def _cached(folder: str, stamp: float) -> EscoData:
    return EscoData.open(Path(folder))


def load(folder: Path | str | None = None) -> EscoData:
    """The tables of ``folder`` (default: shipped), loaded once per process and reloaded when replaced."""
    folder = Path(folder) if folder else SHIPPED_DIR
    path = folder / TABLES_FILE
    return _cached(str(folder.resolve()), path.stat().st_mtime if path.exists() else 0.0)


def info(folder: Path | str | None = None) -> Info:
    """Versions, languages and counts of the tables in ``folder`` (default: shipped)."""
    return load(folder).info()


def label(uri: str, lang: str = "en", folder: Path | str | None = None) -> str:
    """The preferred label of a concept in ``lang`` (fallback English), never a bare URI."""
    return load(folder).label(uri, lang)


def essential_skills(occupation_uri: str, folder: Path | str | None = None) -> list[tuple[str, str]]:
    """(skill URI, relation) pairs of an occupation: essential then optional."""
    return load(folder).essential_skills(occupation_uri, optional=True)
