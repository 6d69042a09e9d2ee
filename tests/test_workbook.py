"""``tables.xlsx``: the CSV tables in one workbook, Spanish headers, number formats, no formulas."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from connectivity.outputs import write_outputs
from connectivity.outputs.safety import FORMULA_START
from connectivity.outputs.workbook import HEADERS, header
from tests.test_output_safety import HOSTILE, hostile_results


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_sheet_holds_its_csv_with_spanish_headers_and_number_formats(
    subset_outputs: Path,
) -> None:
    book = openpyxl.load_workbook(subset_outputs / "tables.xlsx")
    assert book.sheetnames == ["Sitios", "Localidades", "Notas"]
    for sheet_name, csv_name in (
        ("Sitios", "selected_sites.csv"),
        ("Localidades", "summary_by_locality.csv"),
    ):
        sheet = book[sheet_name]
        rows = _csv_rows(subset_outputs / csv_name)
        columns = list(rows[0])
        assert [c.value for c in sheet[1]] == [header(c, "es") for c in columns]
        assert all(c in HEADERS for c in columns), columns  # every column has a header
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is not None
        assert sheet.max_row == len(rows) + 1
        for i, row in enumerate(rows, start=2):
            for j, column in enumerate(columns, start=1):
                cell = sheet.cell(i, j)
                text = row[column]
                if text == "":
                    assert cell.value is None, (sheet_name, i, column)
                elif text in ("True", "False"):
                    assert cell.value is (text == "True")
                elif isinstance(cell.value, str):  # text stays text: codes keep their zeros
                    assert cell.value == text, (sheet_name, i, column)
                else:
                    assert cell.value == pytest.approx(float(text)), (sheet_name, i, column)
                    assert cell.number_format != "General", (sheet_name, column)
    sites = book["Sitios"]
    lon = [c.value for c in sites[1]].index("Longitud (WGS84)") + 1
    assert sites.cell(2, lon).number_format == "0.000000"
    assert any("Privacidad" in str(c.value) for c in book["Notas"]["A"])


def test_english_headers_where_the_output_is_in_english() -> None:
    assert header("new_people_covered", "en") == "People newly covered"
    assert header("a_column_with_no_header", "es") == "a_column_with_no_header"


def test_hostile_names_are_text_never_formulas(subset_results, tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_outputs(hostile_results(subset_results), out)
    book = openpyxl.load_workbook(out / "tables.xlsx")
    names_seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), cell.value
    sites = book["Sitios"]
    name_col = [c.value for c in sites[1]].index("Nombre") + 1
    for i in range(2, sites.max_row + 1):
        value = sites.cell(i, name_col).value
        original = HOSTILE[(i - 2) % len(HOSTILE)]
        assert value.lstrip("'").strip() == original.strip(), (i, value)
        names_seen += 1
    assert names_seen == len(subset_results.selected)
