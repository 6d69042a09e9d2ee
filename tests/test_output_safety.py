"""Names from data are safe where they land: HTML and JavaScript, spreadsheets, figures."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from connectivity.outputs import write_outputs
from connectivity.outputs.safety import FORMULA_START, csv_safe, escape_html

HOSTILE = [
    "${alert(document.domain)}",
    "`); window.__pwned = 1; (`",
    "C:\\usuarios\\",
    "</script><script>window.__pwned = 2</script>",
    '<img src=x onerror="window.__pwned = 3">',
    '=HYPERLINK("http://evil", "clic")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTAB",
    "\rCR",
    "$x$ y $",
]


def hostile_results(results):
    """The subset run with hostile names on sites, Wi-Fi zones, localities and the title."""
    selected = results.selected.copy()
    selected["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(selected))]
    wifi = results.existing_wifi.copy()
    wifi["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(wifi))]
    areas = results.territory.areas.copy()
    areas["area_name"] = [HOSTILE[(i + 3) % len(HOSTILE)] for i in range(len(areas))]
    territory = dataclasses.replace(results.territory, areas=areas)
    scenario = dataclasses.replace(results.scenario, title="Plan $ de `prueba` ${x}")
    return dataclasses.replace(
        results, selected=selected, existing_wifi=wifi, territory=territory, scenario=scenario
    )


def test_escape_html_leaves_nothing_for_a_template_literal() -> None:
    for text in HOSTILE:
        out = escape_html(text)
        assert not set(out) & set("<>`$\\\"'")


def test_csv_safe_neutralises_formulas_only_in_text() -> None:
    frame = pd.DataFrame({"name": HOSTILE, "lon": [-74.1] * len(HOSTILE)})
    safe = csv_safe(frame)
    assert all(not v.startswith(FORMULA_START) for v in safe["name"])
    assert safe["lon"].tolist() == frame["lon"].tolist()  # numbers stay numbers


@pytest.fixture(scope="module")
def hostile_outputs(subset_results, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "run"
    write_outputs(hostile_results(subset_results), out)  # the atlas draws "$" as text
    return out


def test_every_csv_cell_is_safe_for_spreadsheets(hostile_outputs: Path) -> None:
    files = sorted(hostile_outputs.rglob("*.csv"))
    assert files
    seen_names = 0
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell and not _is_number(cell):
                        assert not cell.startswith(FORMULA_START), (path.name, cell)
                        seen_names += "HYPERLINK" in cell
    assert seen_names >= 1


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_figures_and_pages_hold_the_names_as_text(hostile_outputs: Path) -> None:
    assert (hostile_outputs / "atlas" / "atlas.pdf").stat().st_size > 10_000
    page = (hostile_outputs / "map.html").read_text(encoding="utf-8")
    for raw in ("`); window.__pwned", "<script>window.__pwned", "<img src=x", "${alert"):
        assert raw not in page, raw
    assert "&#36;{alert(document.domain)}" in page and "C:&#92;usuarios&#92;" in page
    report = (hostile_outputs / "report.html").read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in report and "<img src=x" not in report
