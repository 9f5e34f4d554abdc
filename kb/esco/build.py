"""``python -m kb.esco.build``: derive the compact ESCO tables the product ships from the official CSVs."""
from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from kb.esco.source import Concept, Source, read_source

TABLES_FILE = "esco.json.gz"
FORMAT = 1
URI_PREFIX = "http://data.europa.eu/esco/"
DEFAULT_SOURCE = Path("/work/shared/data/esco")
DEFAULT_OUT = Path(__file__).resolve().parent / "data"


def _short(uri: str) -> str:
    return uri[len(URI_PREFIX):] if uri.startswith(URI_PREFIX) else uri


def _columns(concepts: list[Concept], languages: list[str], attributes: dict[str, str]) -> dict:
    """Column-wise table: uris, attributes, labels[lang][i] (preferred first) and descriptions[lang][i]."""
    table: dict = {"uri": [_short(concept.uri) for concept in concepts]}
    for column, attribute in attributes.items():
        table[column] = [concept.attributes.get(attribute, "") for concept in concepts]
    table["labels"] = {lang: [concept.labels.get(lang, []) for concept in concepts] for lang in languages
                       if any(lang in concept.labels for concept in concepts)}
    table["descriptions"] = {lang: [concept.descriptions.get(lang, "") for concept in concepts] for lang in languages
                             if any(lang in concept.descriptions for concept in concepts)}
    return table


def compact_tables(source: Source) -> dict:
    """The shipped table set as one JSON-ready dict (concepts sorted by URI, relations as integer indices)."""
    occupations = sorted(source.occupations.values(), key=lambda concept: concept.uri)
    skills = sorted(source.skills.values(), key=lambda concept: concept.uri)
    isco = sorted(source.isco.values(), key=lambda concept: concept.attributes.get("code", concept.uri))
    languages = sorted({lang for table in (occupations, skills) for concept in table for lang in concept.labels})
    occupation_index = {concept.uri: number for number, concept in enumerate(occupations)}
    skill_index = {concept.uri: number for number, concept in enumerate(skills)}
    relations = sorted({(occupation_index[o], skill_index[s], 1 if kind == "essential" else 0)
                        for o, s, kind in source.relations if o in occupation_index and s in skill_index})
    return {
        "format": FORMAT,
        "versions": dict(sorted(source.versions.items())),
        "languages": languages,
        "uri_prefix": URI_PREFIX,
        "occupations": _columns(occupations, languages, {"code": "code", "isco": "iscoGroup"}),
        "skills": _columns(skills, languages, {"type": "skillType", "reuse": "reuseLevel"}),
        "isco": _columns(isco, languages, {"code": "code"}),
        "relations": {"occupation": [r[0] for r in relations], "skill": [r[1] for r in relations],
                      "essential": [r[2] for r in relations]},
    }


def write_tables(tables: dict, folder: Path) -> Path:
    """Write the tables as gzip JSON with a fixed header, so a rerun gives the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(tables, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(payload)
    target = folder / TABLES_FILE
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, target)
    return target


def build(source_dir: Path, out_dir: Path, with_vectors: bool = True, cache_dir: Path | None = None) -> Path:
    """Read an official download, write the tables (and label vectors) into ``out_dir`` through a temp folder."""
    from kb.esco.data import EscoData

    tables = compact_tables(read_source(source_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".esco-", dir=out_dir.parent))
    try:
        write_tables(tables, staging)
        if with_vectors:
            from kb.esco.vectors import build_vectors

            build_vectors(EscoData.open(staging), staging, cache_dir=cache_dir)
        _replace_folder(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _replace_folder(staging: Path, target: Path) -> None:
    """Swap ``staging`` in for ``target`` so a reader never sees a half-written folder."""
    if target.exists():
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m kb.esco.build", description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder of the official ESCO CSVs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default kb/esco/data)")
    parser.add_argument("--no-vectors", action="store_true", help="write the tables only")
    parser.add_argument("--cache", type=Path, help="folder of cached label vectors (speeds up a rebuild)")
    args = parser.parse_args(argv)
    from kb.errors import run_cli

    return run_cli(lambda: print(build(args.source, args.out, not args.no_vectors, args.cache)))


if __name__ == "__main__":
    raise SystemExit(main())
