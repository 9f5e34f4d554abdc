"""Reader of an official ESCO CSV download (any language) into one plain ``Source`` record."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import KBError

FILE_NAME = re.compile(r"^(?:v(?P<version>\d+(?:\.\d+)*)_)?(?P<name>[A-Za-z]+?)(?:_(?P<lang>[a-z]{2,3}(?:-[A-Za-z]+)?))?"
                       r"\.(?P<ext>csv|tsv)$")
REQUIRED = {
    "occupations": ("conceptUri", "iscoGroup", "preferredLabel", "altLabels", "description", "code"),
    "skills": ("conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels", "description"),
    "ISCOGroups": ("conceptUri", "code", "preferredLabel"),
    "occupationSkillRelations": ("occupationUri", "relationType", "skillUri"),
    "Collection": ("conceptUri", "preferredLabel", "altLabels"),
    "labels": ("concept_uri", "concept_type", "label_{lang}"),
}
csv.field_size_limit(1 << 24)


@dataclass(frozen=True)
class SourceFile:
    """One file of a download: its kind (``occupations``, ``skills``...), language and ESCO version."""

    path: Path
    kind: str
    lang: str
    version: str


@dataclass
class Concept:
    """A concept while reading: labels and descriptions by language (preferred label first)."""

    uri: str
    labels: dict[str, list[str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    def add_labels(self, lang: str, preferred: str, alternatives: list[str]) -> None:
        """Merge labels of one language, keeping the first preferred label and no duplicates."""
        current = self.labels.setdefault(lang, [])
        for label in [preferred, *alternatives]:
            label = " ".join(label.split())
            if label and label not in current:
                current.append(label)


@dataclass
class Source:
    """Everything read from a download: concepts by URI, relations and versions."""

    occupations: dict[str, Concept] = field(default_factory=dict)
    skills: dict[str, Concept] = field(default_factory=dict)
    isco: dict[str, Concept] = field(default_factory=dict)
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


def list_files(folder: Path) -> list[SourceFile]:
    """The ESCO files of a folder, recognised by name (``v1.2.1_occupations_pl.csv``, ``skills_sv.csv``)."""
    if not folder.is_dir():
        raise KBError("not a folder", where=str(folder), hint="give the folder of an ESCO CSV download")
    found = []
    for path in sorted(folder.iterdir()):
        match = FILE_NAME.match(path.name)
        if not match:
            continue
        name = match["name"]
        kind = "Collection" if name.endswith("Collection") else name
        if kind not in REQUIRED:
            continue
        found.append(SourceFile(path, kind, match["lang"] or "", match["version"] or ""))
    return found


def read_rows(source: SourceFile) -> list[dict[str, str]]:
    """The rows of one file, after checking that it has every column this reader needs."""
    delimiter = "\t" if source.path.suffix == ".tsv" else ","
    with source.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        columns = set(reader.fieldnames or ())
        for column in REQUIRED[source.kind]:
            column = column.format(lang=source.lang)
            if column not in columns:
                raise KBError(f"missing column {column!r}", where=str(source.path),
                              hint="give the unchanged CSV files of the official ESCO download")
        return list(reader)


def split_labels(value: str) -> list[str]:
    """ESCO lists alternative labels one per line (collections sometimes with ' | ')."""
    return [part.strip() for line in (value or "").splitlines() for part in line.split(" | ") if part.strip()]


def _concept(table: dict[str, Concept], uri: str) -> Concept:
    concept = table.get(uri)
    if concept is None:
        concept = table[uri] = Concept(uri)
    return concept


def read_source(folder: Path) -> Source:
    """Read a download folder; raises KBError naming the file when a file lacks a column."""
    files = list_files(folder)
    kinds = {file.kind for file in files}
    for needed in ("occupations", "skills"):
        if needed not in kinds:
            raise KBError(f"no {needed}_<lang>.csv file", where=str(folder),
                          hint="give the folder of an ESCO CSV download (occupations_en.csv, skills_en.csv, ...)")
    source = Source()
    # Full tables first, so collections and label lists only add labels of concepts already known.
    for file in sorted(files, key=lambda f: ("occupations", "skills", "ISCOGroups", "occupationSkillRelations",
                                              "Collection", "labels").index(f.kind)):
        rows = read_rows(file)
        if file.version:
            source.versions.setdefault(file.kind if file.kind != "occupationSkillRelations" else "relations",
                                       file.version)
        _read_file(source, file, rows)
    return source


def _read_file(source: Source, file: SourceFile, rows: list[dict[str, str]]) -> None:
    lang = file.lang or "en"
    if file.kind == "occupationSkillRelations":
        source.relations.extend((row["occupationUri"], row["skillUri"], row["relationType"]) for row in rows)
        return
    if file.kind == "labels":
        tables = {"occupation": source.occupations, "skill": source.skills, "isco_group": source.isco}
        for row in rows:
            table = tables.get(row["concept_type"])
            if table is not None and row["concept_uri"] in table:
                table[row["concept_uri"]].add_labels(lang, row[f"label_{lang}"], [])
        return
    if file.kind == "Collection":
        for row in rows:
            if row["conceptUri"] in source.skills:
                concept = source.skills[row["conceptUri"]]
                concept.add_labels(lang, row["preferredLabel"], split_labels(row["altLabels"]))
                if row.get("description", "").strip():
                    concept.descriptions.setdefault(lang, " ".join(row["description"].split()))
        return
    table = {"occupations": source.occupations, "skills": source.skills, "ISCOGroups": source.isco}[file.kind]
    for row in rows:
        if row.get("status", "released") not in ("released", ""):
            continue
        concept = _concept(table, row["conceptUri"])
        concept.add_labels(lang, row["preferredLabel"], split_labels(row.get("altLabels", "")))
        description = " ".join((row.get("description") or "").split())
        if description:
            concept.descriptions[lang] = description
        for key in ("code", "iscoGroup", "skillType", "reuseLevel"):
            if row.get(key):
                concept.attributes.setdefault(key, row[key].strip())
