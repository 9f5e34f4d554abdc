"""Export of the extracted duties and skills to CSV, JSON, JSONL, Excel or Parquet.

``export_bytes`` makes the file's bytes; the CLI, ``KnowledgeBase.export`` and the
Skills page download button all use it, so they give the same file. Each file
carries the knowledge-base version (its store generation) and the export time:
a first ``#`` comment line in CSV, a ``"_meta"`` key beside the ``"rows"`` in
JSON, a first ``{"_meta": ...}`` line in JSONL, a
``metadata`` sheet in Excel and the schema metadata in Parquet.
``read_export`` reads any of them back as (metadata, rows).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from kb.errors import KBError
from kb.storage.store import now

FORMATS = ("csv", "json", "jsonl", "xlsx", "parquet")
COLUMNS = ("doc_id", "title", "lang", "kind", "subtype", "text", "sentence", "start", "end", "confidence",
           "group_id", "group_label")
INTEGER_COLUMNS = ("start", "end")
SHEETS = {"duty": "duties", "skill": "skills"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "jsonl": "application/jsonl",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "parquet": "application/vnd.apache.parquet"}
META_KEY = b"kb_export"


def check_format(format: str | None) -> str:
    """The format name, or a KBError that lists the valid ones."""
    if format not in FORMATS:
        raise KBError(f"unknown export format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    return format


def export_rows(kb, kind: str | None = None, lang: str | None = None, doc: str | None = None) -> list[dict]:
    """One row per duty or skill with its group, in document order."""
    from kb.analysis.skills import ensure_groups

    items = kb.items(doc=doc, kind=kind, lang=lang)
    ensure_groups(kb)
    groups = kb.store.unit_groups()
    rows = []
    for item in items:
        group_id, group_label = groups.get(item["id"], ("", ""))
        rows.append({**{column: item[column] for column in COLUMNS[:10]},
                     "group_id": group_id, "group_label": group_label})
    return rows


def export_metadata(kb, rows: list[dict], kind: str | None, lang: str | None, doc: str | None) -> dict:
    """The version and export time written into the file."""
    return {"kb": str(kb.folder), "kb_version": kb.store.generation, "kb_updated_at": kb.store.get_meta("updated_at"),
            "embedder": kb.settings.embedder, "exported_at": now(), "rows": len(rows),
            "filters": {"kind": kind, "lang": lang, "doc": doc}}


def export_bytes(kb, format: str, kind: str | None = None, lang: str | None = None, doc: str | None = None) -> bytes:
    """The export file's content in one format (what the file export and the download button write)."""
    check_format(format)
    rows = export_rows(kb, kind=kind, lang=lang, doc=doc)
    metadata = export_metadata(kb, rows, kind, lang, doc)
    kinds = (kind,) if kind else ("duty", "skill")
    return WRITERS[format](rows, metadata, kinds)


def export(kb, path: Path, format: str | None = None, kind: str | None = None, lang: str | None = None,
           doc: str | None = None) -> Path:
    """Write the export to ``path`` (format from the suffix when not given); returns the path."""
    format = format or path.suffix.lower().lstrip(".")
    if format not in FORMATS:
        raise KBError(f"unknown export format {format!r}", where=str(path),
                      hint=f"use --format with one of {', '.join(FORMATS)} or a file name ending in one")
    content = export_bytes(kb, format, kind=kind, lang=lang, doc=doc)
    try:
        path.write_bytes(content)
    except OSError as error:
        raise KBError(f"cannot write the export ({error.strerror or error})", where=str(path),
                      hint="choose a path in an existing folder you can write to") from error
    return path


def _csv(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Polish and Vietnamese letters) and a metadata comment line."""
    buffer = io.StringIO(newline="")
    buffer.write("# " + json.dumps(metadata, ensure_ascii=False) + "\r\n")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _json(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """One JSON document: ``{"_meta": ..., "rows": [...]}``."""
    return (json.dumps({"_meta": metadata, "rows": rows}, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _jsonl(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """One JSON object per line, after a first ``{"_meta": ...}`` line."""
    lines = [json.dumps({"_meta": metadata}, ensure_ascii=False)]
    lines += [json.dumps(row, ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xlsx(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """A workbook with one sheet per kind (frozen header, filters) and a metadata sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    widths = {"text": 50, "sentence": 80, "title": 30, "group_label": 40}
    for kind in kinds:
        sheet = workbook.create_sheet(SHEETS[kind])
        sheet.append(list(COLUMNS))
        for row in rows:
            if row["kind"] == kind:
                sheet.append([_cell(row[column]) for column in COLUMNS])
                for cell in sheet[sheet.max_row]:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.data_type = "s"  # text, never a formula
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(sheet.max_row, 1)}"
        for number, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(number)].width = widths.get(column, 12)
    info = workbook.create_sheet("metadata")
    for key, value in metadata.items():
        info.append([key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _parquet(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """A Parquet table with the metadata in its schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {column: pa.string() for column in COLUMNS}
    types.update(start=pa.int64(), end=pa.int64(), confidence=pa.float64())
    schema = pa.schema([(column, types[column]) for column in COLUMNS],
                       metadata={META_KEY: json.dumps(metadata, ensure_ascii=False).encode("utf-8")})
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _cell(value: object) -> object:
    """A value Excel accepts (control characters removed)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", value)


WRITERS = {"csv": _csv, "json": _json, "jsonl": _jsonl, "xlsx": _xlsx, "parquet": _parquet}


def read_export(path: str | Path) -> tuple[dict, list[dict]]:
    """Read an export file back as (metadata, rows), whatever its format."""
    path = Path(path)
    format = check_format(path.suffix.lower().lstrip("."))
    if format == "csv":
        lines = path.read_bytes().decode("utf-8-sig").split("\r\n", 1)
        rows = list(csv.DictReader(io.StringIO(lines[1], newline="")))
        return json.loads(lines[0][2:]), [_typed(row) for row in rows]
    if format == "json":
        document = json.loads(path.read_text(encoding="utf-8"))
        return document["_meta"], document["rows"]
    if format == "jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        return records[0]["_meta"], records[1:]
    if format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return json.loads(table.schema.metadata[META_KEY]), table.to_pylist()
    return _read_xlsx(path)


def _read_xlsx(path: Path) -> tuple[dict, list[dict]]:
    """Rows of every kind sheet and the metadata sheet of a workbook."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    metadata = {key: value for key, value in workbook["metadata"].iter_rows(values_only=True)}
    metadata["filters"] = json.loads(metadata["filters"])
    rows = []
    for name in SHEETS.values():
        if name in workbook.sheetnames:
            values = list(workbook[name].iter_rows(values_only=True))
            rows += [_typed(dict(zip(values[0], row))) for row in values[1:]]
    return metadata, rows


def _typed(row: dict) -> dict:
    """A row read from text cells with numbers and empty strings restored."""
    row = {key: ("" if value is None else value) for key, value in row.items()}
    for column in INTEGER_COLUMNS:
        row[column] = int(row[column])
    row["confidence"] = float(row["confidence"])
    return row
