"""Export of the extracted duties and skills to CSV, JSON, JSONL, Excel or Parquet.

``export_bytes`` makes the file's bytes; the CLI, ``KnowledgeBase.export`` and the
Skills page download button all use it, so they give the same file. CSV and JSONL
hold the rows only (header first, then one row per item; one JSON object per line),
so that ``pandas.read_csv`` and Excel open them as they are. The metadata (the
knowledge base by its folder name, never an absolute path, its version, the export
time and the filters) goes where a format has room for it: a ``"_meta"`` key beside
the ``"rows"`` in JSON, a ``metadata`` sheet in Excel, the schema metadata in
Parquet, and a ``<file>.meta.json`` sidecar beside a CSV or JSONL file written to disk.

Spreadsheet formula injection (OWASP "CSV Injection"): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any apostrophes) gets a
leading apostrophe in CSV and Excel, so a spreadsheet shows it as text and never runs
it. Only text columns are touched (the numbers are never negative); JSON, JSONL and
Parquet keep the text verbatim. ``read_export`` reads any format back as
(metadata, rows), with the apostrophe taken off again.
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
           "group_id", "group_label", "esco_uri", "esco_label", "esco_type", "esco_score")
ITEM_COLUMNS = COLUMNS[:10]
ESCO_COLUMNS = COLUMNS[12:]
INTEGER_COLUMNS = ("start", "end")
FLOAT_COLUMNS = ("confidence", "esco_score")  # esco_score is empty (null, NaN in pandas) where no concept fits
SHEETS = {"duty": "duties", "skill": "skills"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "jsonl": "application/jsonl",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "parquet": "application/vnd.apache.parquet"}
META_KEY = b"kb_export"
SIDECAR_SUFFIX = ".meta.json"  # items.csv -> items.csv.meta.json
# First characters a spreadsheet reads as the start of a formula (OWASP CSV-injection guidance).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def check_format(format: str | None) -> str:
    """The format name, or a KBError that lists the valid ones."""
    if format not in FORMATS:
        raise KBError(f"unknown export format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    return format


def export_rows(kb, kind: str | None = None, lang: str | None = None, doc: str | None = None,
                label_lang: str = "en", min_confidence: float = 0.0, min_esco_score: float = 0.0) -> list[dict]:
    """One row per duty or skill with its group and ESCO concept (label in ``label_lang``, else English),
    in document order; the ESCO text columns are "" and ``esco_score`` None where no concept fits, or where the
    link scores under ``min_esco_score``; items the extractor is less sure of than ``min_confidence`` are left
    out."""
    from kb.analysis.skills import ensure_groups

    items = kb.items(doc=doc, kind=kind, lang=lang, label_lang=label_lang, min_confidence=min_confidence,
                     min_esco_score=min_esco_score)
    ensure_groups(kb)
    groups = kb.store.unit_groups()
    rows = []
    for item in items:
        group_id, group_label = groups.get(item["id"], ("", ""))
        esco = {column: item[column] or "" for column in ESCO_COLUMNS[:3]}
        rows.append({**{column: item[column] for column in ITEM_COLUMNS}, "group_id": group_id,
                     "group_label": group_label, **esco, "esco_score": item["esco_score"]})
    return rows


def export_metadata(kb, rows: list[dict], kind: str | None, lang: str | None, doc: str | None,
                    label_lang: str = "en", min_confidence: float = 0.0, min_esco_score: float = 0.0) -> dict:
    """The version and export time written into the file."""
    return {"kb": kb_name(kb.folder), "kb_version": kb.store.generation,
            "kb_updated_at": kb.store.get_meta("updated_at"),
            "embedder": kb.settings.embedder, "exported_at": now(), "rows": len(rows),
            "filters": {"kind": kind, "lang": lang, "doc": doc, "min_confidence": min_confidence,
                        "min_esco_score": min_esco_score},
            "label_lang": label_lang}


def kb_name(folder: Path) -> str:
    """A knowledge base as exports and listings name it: its folder name, never an absolute path."""
    return Path(folder).resolve().name


def export_bytes(kb, format: str, kind: str | None = None, lang: str | None = None, doc: str | None = None,
                 label_lang: str = "en", min_confidence: float = 0.0, min_esco_score: float = 0.0) -> bytes:
    """The export file's content in one format (what the file export and the download button write)."""
    return _content(kb, check_format(format), kind, lang, doc, label_lang, min_confidence, min_esco_score)[0]


def _content(kb, format: str, kind: str | None, lang: str | None, doc: str | None,
             label_lang: str, min_confidence: float = 0.0, min_esco_score: float = 0.0) -> tuple[bytes, dict]:
    """The file's bytes and its metadata."""
    rows = export_rows(kb, kind=kind, lang=lang, doc=doc, label_lang=label_lang, min_confidence=min_confidence,
                       min_esco_score=min_esco_score)
    metadata = export_metadata(kb, rows, kind, lang, doc, label_lang, min_confidence, min_esco_score)
    return WRITERS[format](rows, metadata, (kind,) if kind else ("duty", "skill")), metadata


def export(kb, path: Path, format: str | None = None, kind: str | None = None, lang: str | None = None,
           doc: str | None = None, label_lang: str = "en", min_confidence: float = 0.0,
           min_esco_score: float = 0.0) -> Path:
    """Write the export to ``path`` (format from the suffix when not given); returns the path."""
    format = format or path.suffix.lower().lstrip(".")
    if format not in FORMATS:
        raise KBError(f"unknown export format {format!r}", where=str(path),
                      hint=f"use --format with one of {', '.join(FORMATS)} or a file name ending in one")
    content, metadata = _content(kb, format, kind, lang, doc, label_lang, min_confidence, min_esco_score)
    try:
        path.write_bytes(content)
        if format in ("csv", "jsonl"):
            sidecar(path).write_text(json.dumps(metadata, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise KBError(f"cannot write the export ({error.strerror or error})", where=str(path),
                      hint="choose a path in an existing folder you can write to") from error
    return path


def sidecar(path: Path) -> Path:
    """The metadata file written beside a CSV or JSONL export."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def needs_quote(value: object) -> bool:
    """Whether a spreadsheet could run this cell as a formula: text that starts, after any apostrophes,
    with a formula trigger (apostrophes count so that ``unquote`` can always take off exactly one)."""
    return isinstance(value, str) and value.lstrip("'").startswith(FORMULA_TRIGGERS)


def quote_formula(value: object) -> object:
    """A cell value made safe for CSV and Excel: a leading apostrophe before a formula trigger."""
    return "'" + value if needs_quote(value) else value


def unquote_formula(value: object) -> object:
    """The text ``quote_formula`` was given back (its apostrophe taken off)."""
    if isinstance(value, str) and value.startswith("'") and needs_quote(value[1:]):
        return value[1:]
    return value


def csv_bytes(rows: list[dict], columns: tuple[str, ...] | list[str]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Polish and Vietnamese letters): the header, then one line per
    row, text cells quoted against formula injection."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: quote_formula(row[column]) for column in columns} for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _csv(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """The rows as CSV (the metadata goes to the sidecar file)."""
    return csv_bytes(rows, COLUMNS)


def _json(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """One JSON document: ``{"_meta": ..., "rows": [...]}``."""
    return (json.dumps({"_meta": metadata, "rows": rows}, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _jsonl(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """One JSON object per row and line (the metadata goes to the sidecar file)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _xlsx(rows: list[dict], metadata: dict, kinds: tuple[str, ...]) -> bytes:
    """A workbook with one sheet per kind (frozen header, filters) and a metadata sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    widths = {"text": 50, "sentence": 80, "title": 30, "group_label": 40, "esco_uri": 30, "esco_label": 40}
    for kind in kinds:
        sheet = workbook.create_sheet(SHEETS[kind])
        sheet.append(list(COLUMNS))
        for row in rows:
            if row["kind"] == kind:
                sheet.append([quote_formula(_cell(row[column])) for column in COLUMNS])
                for cell in sheet[sheet.max_row]:
                    if isinstance(cell.value, str):
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
    types.update(start=pa.int64(), end=pa.int64(), confidence=pa.float64(), esco_score=pa.float64())
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
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
        return _sidecar_metadata(path), [_typed(row) for row in rows]
    if format == "json":
        document = json.loads(path.read_text(encoding="utf-8"))
        return document["_meta"], document["rows"]
    if format == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
        return _sidecar_metadata(path), rows
    if format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return json.loads(table.schema.metadata[META_KEY]), table.to_pylist()
    return _read_xlsx(path)


def _sidecar_metadata(path: Path) -> dict:
    """The metadata beside a CSV or JSONL file, or {} without a sidecar (a download)."""
    meta = sidecar(path)
    return json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}


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
    """A row read from text cells with numbers, empty strings and quoted formulas restored."""
    row = {key: unquote_formula("" if value is None else value) for key, value in row.items()}
    for column in INTEGER_COLUMNS:
        row[column] = int(row[column])
    for column in FLOAT_COLUMNS:
        row[column] = float(row[column]) if row[column] != "" else None
    return row
