"""Export: every format reads back the same rows and metadata; Excel sheets; CSV with a BOM; user errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import KBError
from kb.records import EscoLink
from kb.storage import esco_links
from kb.export import COLUMNS, FORMATS, export_bytes, read_export
from kb_builder import build_kb

DOCS = {
    "pl1": ("pl", [("duty", "", "oszacować koszty spotkania"), ("skill", "skill", "umiejętności komunikacyjne")]),
    "vi1": ("vi", [("duty", "", "giữ các hồ sơ chính xác"), ("skill", "trait", "kiên nhẫn")]),
    "sv1": ("sv", [("skill", "education", "=kandidatexamen i företagsekonomi")]),
}


FORKLIFT = "http://data.europa.eu/esco/skill/28cb374e-6261-4133-8371-f9a5470145da"  # operate forklift
COMMUNICATION = "http://data.europa.eu/esco/skill/15d76317-c71a-4fa2-aadc-2ecc34e627b7"  # knowledge
LINKS = {"oszacować koszty spotkania": EscoLink(FORKLIFT, "skill/competence", 0.61234),
         "umiejętności komunikacyjne": EscoLink(COMMUNICATION, "knowledge", 0.9)}


@pytest.fixture
def export_kb(tmp_path: Path, fake_embedder):
    with build_kb(tmp_path / "kb", fake_embedder, DOCS) as kb:
        ids = {item["text"]: item["id"] for item in kb.items()}
        with kb.store.transaction():
            esco_links.add_unit_links(kb.store.connection, [ids[text] for text in LINKS], list(LINKS.values()))
        yield kb


def _key(row: dict) -> tuple:
    """A row's values in column order, a missing score (None, or NaN from pandas) as None."""
    return tuple(None if row[column] is None or row[column] != row[column] else row[column] for column in COLUMNS)


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


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("label_lang, forklift", [("en", "operate forklift"), ("sv", "köra gaffeltruck"),
                                                  ("pl", "operate forklift")])  # no Polish label: English
def test_every_format_has_the_esco_concept_of_each_item_in_the_chosen_language(export_kb, tmp_path: Path, format: str,
                                                                               label_lang: str, forklift: str) -> None:
    metadata, rows = read_export(export_kb.export(tmp_path / f"items.{format}", format=format, label_lang=label_lang))
    by_text = {row["text"]: row for row in rows}
    linked = by_text["oszacować koszty spotkania"]
    assert (linked["esco_uri"], linked["esco_label"], linked["esco_type"], linked["esco_score"]) == (
        FORKLIFT, forklift, "skill/competence", 0.612)
    assert by_text["umiejętności komunikacyjne"]["esco_type"] == "knowledge"
    unlinked = by_text["kiên nhẫn"]
    assert (unlinked["esco_uri"], unlinked["esco_label"], unlinked["esco_type"], unlinked["esco_score"]) == (
        "", "", "", None)
    if metadata:  # CSV and JSONL downloads have no sidecar; files written to disk do
        assert metadata["label_lang"] == label_lang


def test_cli_export_takes_the_label_language(export_kb, tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    assert main(["export", "--kb", str(export_kb.folder), "--out", str(out), "--label-lang", "sv"]) == 0
    _, rows = read_export(out)
    assert {row["esco_label"] for row in rows} == {"köra gaffeltruck", "kommunikation", ""}


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
    formula_like = [c for c in workbook["skills"]["F"] if str(c.value).startswith("'=")]  # quoted (OWASP)
    assert formula_like and all(cell.data_type == "s" for cell in formula_like)  # text, never a formula
    assert load_workbook(export_kb.export(tmp_path / "s.xlsx", kind="skill")).sheetnames == ["skills", "metadata"]


def test_csv_starts_with_a_bom_and_keeps_polish_and_vietnamese(export_kb, tmp_path: Path) -> None:
    data = export_kb.export(tmp_path / "items.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfdoc_id,title,lang,")  # the header first: no metadata line
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


# -- files that open clean in pandas and Excel -------------------------------------------

TEXT_COLUMNS = [column for column in COLUMNS if column not in ("start", "end", "confidence", "esco_score")]
DOCUMENTED_DTYPES = {**{column: "string" for column in TEXT_COLUMNS}, "start": "int64", "end": "int64",
                     "confidence": "float64", "esco_score": "float64"}
NON_ASCII = ("oszacować koszty spotkania", "giữ các hồ sơ chính xác", "=kandidatexamen i företagsekonomi")


def _pandas_rows(format: str, path: Path):
    """The export read the documented way with pandas (text columns as text, empty cells as '')."""
    import pandas as pd

    text = {column: str for column in TEXT_COLUMNS}
    missing = {"esco_score": [""]}  # an item without an ESCO concept: NaN, every other empty cell ""
    if format == "csv":
        return pd.read_csv(path, dtype=text, keep_default_na=False, na_values=missing)
    if format == "xlsx":
        sheets = pd.read_excel(path, sheet_name=None, dtype=text, keep_default_na=False, na_values=missing)
        return pd.concat([sheets["duties"], sheets["skills"]], ignore_index=True)
    if format == "parquet":
        return pd.read_parquet(path)
    import json

    return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])


def _dtype(dtype) -> str:
    """'string' for text (pandas 3 says str, pandas 2 object), else the numpy name."""
    return "string" if str(dtype) in ("str", "object", "string") else str(dtype)


@pytest.mark.parametrize("format", ["csv", "xlsx", "parquet", "jsonl"])
def test_pandas_reads_every_format_with_the_documented_columns_and_dtypes(export_kb, tmp_path: Path,
                                                                          format: str) -> None:
    from kb.export import unquote_formula

    path = export_kb.export(tmp_path / f"items.{format}")
    frame = _pandas_rows(format, path)
    assert list(frame.columns) == list(COLUMNS)
    assert {column: _dtype(dtype) for column, dtype in frame.dtypes.items()} == DOCUMENTED_DTYPES
    rows = [{column: unquote_formula(value) for column, value in row.items()} for row in frame.to_dict("records")]
    assert sorted(map(_key, rows)) == sorted(map(_key, _expected(export_kb)))
    texts = set(frame["text"])
    assert {"oszacować koszty spotkania", "giữ các hồ sơ chính xác"} <= texts  # non-ASCII intact


def test_plain_read_csv_gives_the_header_as_columns(export_kb, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(export_kb.export(tmp_path / "items.csv"))
    assert list(frame.columns) == list(COLUMNS) and len(frame) == len(_expected(export_kb))


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_csv_and_jsonl_metadata_goes_to_a_sidecar_without_absolute_paths(export_kb, tmp_path: Path,
                                                                         format: str) -> None:
    import json

    path = export_kb.export(tmp_path / f"items.{format}")
    meta = json.loads((tmp_path / f"items.{format}.meta.json").read_text(encoding="utf-8"))
    assert meta["kb"] == "kb" and meta["kb_version"] == export_kb.store.generation and meta["rows"] == 5
    assert str(tmp_path) not in path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("format", ["json", "xlsx", "parquet"])
def test_metadata_inside_the_file_names_the_kb_by_its_folder_name(export_kb, tmp_path: Path, format: str) -> None:
    metadata, _ = read_export(export_kb.export(tmp_path / f"items.{format}"))
    assert metadata["kb"] == "kb"
    assert str(tmp_path) not in str(metadata) and str(tmp_path).encode() not in export_bytes(export_kb, format)


FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"klik\")", "+48 22 123 45 67", "-2+3", "@SUM(A1:A9)",
            "\tukryty tekst", "'=already quoted")


@pytest.fixture
def formula_kb(tmp_path: Path, fake_embedder):
    docs = {"evil": ("pl", [("skill", "skill", text) for text in FORMULAS])}
    with build_kb(tmp_path / "kb", fake_embedder, docs) as kb:
        yield kb


def test_formula_cells_are_quoted_in_csv(formula_kb, tmp_path: Path) -> None:
    import csv
    import io

    data = formula_kb.export(tmp_path / "x.csv").read_bytes().decode("utf-8-sig")
    texts = [row["text"] for row in csv.DictReader(io.StringIO(data, newline=""))]
    assert sorted(texts) == sorted("'" + text for text in FORMULAS)
    assert sorted(row["text"] for row in read_export(tmp_path / "x.csv")[1]) == sorted(FORMULAS)


def test_formula_cells_are_quoted_text_in_excel(formula_kb, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(formula_kb.export(tmp_path / "x.xlsx"))["skills"]
    cells = [row[COLUMNS.index("text")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(cell.value for cell in cells) == sorted("'" + text for text in FORMULAS)
    assert all(cell.data_type == "s" for cell in cells)
    assert sorted(row["text"] for row in read_export(tmp_path / "x.xlsx")[1]) == sorted(FORMULAS)


@pytest.mark.parametrize("format", ["json", "jsonl", "parquet"])
def test_formula_cells_stay_verbatim_in_json_and_parquet(formula_kb, tmp_path: Path, format: str) -> None:
    path = formula_kb.export(tmp_path / f"x.{format}")
    rows = read_export(path)[1] if format == "json" else _pandas_rows(format, path).to_dict("records")
    assert sorted(row["text"] for row in rows) == sorted(FORMULAS)


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_export_leaves_out_items_less_sure_than_the_minimum_confidence(export_kb, tmp_path: Path, format: str) -> None:
    confidences = [item["confidence"] for item in export_kb.items()]
    for bar in sorted(set(confidences)) + [max(confidences) + 0.01]:
        metadata, rows = read_export(export_kb.export(tmp_path / f"items_{bar}.{format}", min_confidence=bar))
        assert all(float(row["confidence"]) >= bar for row in rows)
        assert len(rows) == sum(value >= bar for value in confidences)
        assert metadata["filters"]["min_confidence"] == bar


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_export_blanks_the_esco_columns_of_links_under_the_minimum_esco_score(export_kb, tmp_path: Path,
                                                                            format: str) -> None:
    everything = read_export(export_kb.export(tmp_path / f"all.{format}"))[1]
    metadata, rows = read_export(export_kb.export(tmp_path / f"bar.{format}", min_esco_score=0.7))
    assert [row["text"] for row in rows] == [row["text"] for row in everything]  # every item stays
    by_text = {row["text"]: row for row in rows}
    kept = by_text["umiejętności komunikacyjne"]  # linked at 0.9
    assert kept["esco_uri"] == COMMUNICATION and float(kept["esco_score"]) == 0.9
    dropped = by_text["oszacować koszty spotkania"]  # linked at 0.612
    assert not dropped["esco_uri"] and not dropped["esco_label"] and not dropped["esco_type"]
    assert dropped["esco_score"] in (None, "") or dropped["esco_score"] != dropped["esco_score"]
    assert metadata["filters"]["min_esco_score"] == 0.7


def test_the_minimum_esco_score_compares_the_score_as_shown(export_kb) -> None:
    def linked(bar: float) -> set[str]:
        return {item["text"] for item in export_kb.items(min_esco_score=bar) if item["esco_uri"]}

    assert "oszacować koszty spotkania" in linked(0.612)  # stored 0.61234, shown 0.612
    assert "oszacować koszty spotkania" not in linked(0.613)
    assert linked(0.0) == set(LINKS) and linked(1.0) == set()


def test_cli_items_and_skills_by_esco_keep_only_links_at_the_minimum_esco_score(export_kb, capsys) -> None:
    import json

    assert main(["items", "--kb", str(export_kb.folder), "--json", "--min-esco-score", "0.7"]) in (0, None)
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 5 and [item["esco_uri"] for item in items if item["esco_uri"]] == [COMMUNICATION]
    assert main(["skills", "--kb", str(export_kb.folder), "--by", "esco", "--json"]) in (0, None)
    assert {row["uri"] for row in json.loads(capsys.readouterr().out)} == {FORKLIFT, COMMUNICATION}
    assert main(["skills", "--kb", str(export_kb.folder), "--by", "esco", "--json", "--min-esco-score", "0.7"]) in (0, None)
    assert [row["uri"] for row in json.loads(capsys.readouterr().out)] == [COMMUNICATION]


def test_cli_skills_by_group_refuses_a_minimum_esco_score_with_the_fix(export_kb, capsys) -> None:
    code = main(["skills", "--kb", str(export_kb.folder), "--min-esco-score", "0.5"])
    assert code not in (0, None)
    assert "--by esco" in capsys.readouterr().err


def test_cli_export_refuses_a_minimum_confidence_that_is_no_probability(export_kb, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--kb", str(export_kb.folder), "--out", str(tmp_path / "x.csv"), "--min-confidence", "70"])
    assert exit_info.value.code != 0 and "not a probability" in capsys.readouterr().err


def test_cli_items_says_so_when_no_item_passes_the_filters(export_kb, capsys) -> None:
    assert main(["items", "--kb", str(export_kb.folder), "--min-confidence", "1"]) in (0, None)
    captured = capsys.readouterr()
    assert captured.out == "" and "no duties or skills match" in captured.err
    assert main(["items", "--kb", str(export_kb.folder)]) in (0, None)
    captured = capsys.readouterr()
    assert captured.out.count("\n") >= 2 and captured.err == ""
