"""Export: every format reads back the same rows and metadata; Excel sheets; CSV with a BOM; user errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import KBError
from kb.export import COLUMNS, FORMATS, export_bytes, read_export
from kb_builder import build_kb

DOCS = {
    "pl1": ("pl", [("duty", "", "oszacować koszty spotkania"), ("skill", "skill", "umiejętności komunikacyjne")]),
    "vi1": ("vi", [("duty", "", "giữ các hồ sơ chính xác"), ("skill", "trait", "kiên nhẫn")]),
    "sv1": ("sv", [("skill", "education", "=kandidatexamen i företagsekonomi")]),
}


@pytest.fixture
def export_kb(tmp_path: Path, fake_embedder):
    with build_kb(tmp_path / "kb", fake_embedder, DOCS) as kb:
        yield kb


def _key(row: dict) -> tuple:
    return tuple(row[column] for column in COLUMNS)


@pytest.mark.parametrize("format", FORMATS)
def test_every_format_round_trips(export_kb, tmp_path: Path, format: str) -> None:
    path = export_kb.export(tmp_path / f"items.{format}", format=format)
    metadata, rows = read_export(path)
    expected = [{column: row[column] for column in COLUMNS} for row in _expected(export_kb)]
    assert sorted(map(_key, rows)) == sorted(map(_key, expected))
    assert metadata["kb_version"] == export_kb.store.generation and metadata["exported_at"]
    assert all(row["group_id"].startswith("g") and row["group_label"] for row in rows)


def _expected(kb) -> list[dict]:
    from kb.export import export_rows

    return export_rows(kb)


def test_export_bytes_equal_the_file(export_kb, tmp_path: Path) -> None:
    path = export_kb.export(tmp_path / "items.jsonl")
    strip = lambda data: [line for line in data.splitlines() if b'"_meta"' not in line]  # noqa: E731
    assert strip(path.read_bytes()) == strip(export_bytes(export_kb, "jsonl"))


def test_excel_has_a_sheet_per_kind_with_frozen_header_and_filter(export_kb, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(export_kb.export(tmp_path / "items.xlsx"))
    assert workbook.sheetnames == ["duties", "skills", "metadata"]
    for name in ("duties", "skills"):
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    formula_like = [c for c in workbook["skills"]["F"] if str(c.value).startswith("=")]
    assert formula_like and all(cell.data_type == "s" for cell in formula_like)  # text, never a formula
    assert load_workbook(export_kb.export(tmp_path / "s.xlsx", kind="skill")).sheetnames == ["skills", "metadata"]


def test_csv_starts_with_a_bom_and_keeps_polish_and_vietnamese(export_kb, tmp_path: Path) -> None:
    data = export_kb.export(tmp_path / "items.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# {")
    text = data.decode("utf-8-sig")
    assert "oszacować koszty spotkania" in text and "giữ các hồ sơ chính xác" in text


def test_filters(export_kb, tmp_path: Path) -> None:
    _, rows = read_export(export_kb.export(tmp_path / "x.jsonl", kind="duty", lang="vi"))
    assert [row["text"] for row in rows] == ["giữ các hồ sơ chính xác"]
    _, rows = read_export(export_kb.export(tmp_path / "y.jsonl", doc="pl1"))
    assert {row["doc_id"] for row in rows} == {"pl1"}


@pytest.mark.parametrize("kwargs, message", [
    ({"path": "items.txt"}, "unknown export format 'txt'; use --format with one of csv, json, jsonl, xlsx, parquet"),
    ({"path": "items.csv", "format": "pdf"}, "unknown export format 'pdf'"),
    ({"path": "items.csv", "doc": "nope"}, "no article 'nope'"),
    ({"path": "missing/dir/items.csv"}, "cannot write the export.*choose a path in an existing folder"),
])
def test_user_errors_say_what_to_do(export_kb, tmp_path: Path, kwargs: dict, message: str) -> None:
    kwargs = {**kwargs, "path": tmp_path / kwargs["path"]}
    with pytest.raises(KBError, match=message):
        export_kb.export(**kwargs)


def test_cli_export_and_its_error_line(export_kb, tmp_path: Path, capsys) -> None:
    assert main(["export", "--kb", str(export_kb.folder), "--format", "parquet", "--out", str(tmp_path / "a.parquet")]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    assert main(["export", "--kb", str(export_kb.folder), "--out", str(tmp_path / "no" / "a.csv")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
