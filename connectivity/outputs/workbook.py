"""``tables.xlsx``: the run's tables in one Excel workbook, for officials who live in spreadsheets.

One sheet per table (the chosen sites, the localities, and the plan or reach comparison when
the scenario makes one) plus a notes sheet. Headers are in the output language, numbers keep
a number format (thousands, decimals, coordinates), the header row is frozen and filterable.
Text is written as text, never as a formula (XlsxWriter's ``strings_to_formulas`` is off), and
text that a spreadsheet would read as a formula once edited is neutralised as in the CSVs
(:func:`connectivity.outputs.safety.csv_safe`). Hidden counts (privacy) are empty cells, as
in the CSVs. Written with XlsxWriter.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from connectivity import __version__
from connectivity.outputs.i18n import LABELS, Language
from connectivity.outputs.published import Published
from connectivity.outputs.safety import csv_safe
from connectivity.results import Results

_MONEY_LABELS = {
    "capex": "capex",
    "opex_per_year": "opex",
    "tco": "tco",
    "npc": "npc",
    "npc_per_new_person": "npc_per_person",
    "backhaul": "backhaul",
}
"""Money columns whose headers are the labels the report and the map use."""

HEADERS: dict[str, dict[str, str]] = {
    "rank": {"es": "Prioridad", "en": "Rank"},
    "site_id": {"es": "Id del sitio", "en": "Site id"},
    "name": {"es": "Nombre", "en": "Name"},
    "type": {"es": "Tipo", "en": "Type"},
    "locality": {"es": "Localidad", "en": "Locality"},
    "locality_code": {"es": "Código de localidad", "en": "Locality code"},
    "lon": {"es": "Longitud (WGS84)", "en": "Longitude (WGS84)"},
    "lat": {"es": "Latitud (WGS84)", "en": "Latitude (WGS84)"},
    "new_people_covered": {"es": "Personas nuevas con cobertura", "en": "People newly covered"},
    "new_priority_weight": {"es": "Demanda ponderada nueva", "en": "New priority-weighted demand"},
    "cumulative_coverage_pct": {
        "es": "% de la demanda ponderada cubierta (acumulado)",
        "en": "% of weighted demand covered (cumulative)",
    },
    "population": {"es": "Población", "en": "Population"},
    "people_without_internet": {
        "es": "Personas sin internet en el hogar",
        "en": "People without home internet",
    },
    "covered_before": {"es": "Personas con cobertura antes", "en": "People covered before"},
    "covered_after": {"es": "Personas con cobertura después", "en": "People covered after"},
    "pct_covered_before": {"es": "% cubierto antes", "en": "% covered before"},
    "pct_covered_after": {"es": "% cubierto después", "en": "% covered after"},
    "sites_selected": {"es": "Sitios elegidos", "en": "Sites chosen"},
    "suppressed": {"es": "Cifras ocultas (privacidad)", "en": "Figures hidden (privacy)"},
    "plan": {"es": "Plan", "en": "Plan"},
    "sites": {"es": "Sitios", "en": "Sites"},
    "cost": {"es": "Costo", "en": "Cost"},
    "people_covered": {"es": "Personas con cobertura", "en": "People covered"},
    "weight_covered": {"es": "Demanda ponderada cubierta", "en": "Weighted demand covered"},
    "pct_weight_covered": {
        "es": "% de la demanda ponderada cubierta",
        "en": "% of weighted demand covered",
    },
    "areas_with_a_site": {"es": "Localidades con un sitio", "en": "Localities with a site"},
    "lowest_area_pct_covered": {
        "es": "% cubierto en la localidad más baja",
        "en": "% covered in the lowest locality",
    },
    "objective": {"es": "Objetivo", "en": "Objective"},
    "bound": {"es": "Cota", "en": "Bound"},
    "gap_pct": {"es": "Brecha de optimalidad (%)", "en": "Optimality gap (%)"},
    **{column: LABELS[key] for column, key in _MONEY_LABELS.items()},
    "capacity_users": {
        "es": "Capacidad (usuarios simultáneos)",
        "en": "Capacity (simultaneous users)",
    },
    "served_users": {
        "es": "Usuarios simultáneos atendidos",
        "en": "Simultaneous users served",
    },
    "people_unserved_in_reach": {
        "es": "Personas al alcance sin atender (capacidad)",
        "en": "People in reach left unserved (capacity)",
    },
}
SHEETS: dict[str, dict[str, str]] = {
    "selected_sites": {"es": "Sitios", "en": "Sites"},
    "summary_by_locality": {"es": "Localidades", "en": "Localities"},
    "plan_comparison": {"es": "Comparación de planes", "en": "Plan comparison"},
    "reach_comparison": {"es": "Comparación de alcance", "en": "Reach comparison"},
    "notes": {"es": "Notas", "en": "Notes"},
}
_INTEGER_COLUMNS = {"rank", "population", "sites_selected", "sites", "areas_with_a_site"}
_COORDINATE_COLUMNS = {"lon", "lat"}


def header(column: str, language: Language) -> str:
    """Return a column's header in ``language`` (the column name when it has none)."""
    return HEADERS.get(column, {}).get(language, column)


def _number_format(column: str, values: pd.Series) -> str:
    if column in _COORDINATE_COLUMNS:
        return "0.000000"
    if column in _INTEGER_COLUMNS or pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if "pct" in column:
        return "0.000"
    return "#,##0.0"


def _notes(results: Results, published: Published, language: Language) -> list[str]:
    s = results.scenario
    if language == "es":
        return [
            f"Escenario: {s.name} — {s.title}",
            f"Territorio: {s.territory.name}",
            f"Generado por connectivity {__version__} el {dt.date.today().isoformat()}",
            f"Privacidad: las cifras de menos de {published.min_population} personas, y las "
            "que permitirían deducirlas, quedan vacías (columna «Cifras ocultas»).",
            "Las mismas tablas están en los archivos CSV de la carpeta; run.json describe "
            "las fuentes y el método.",
        ]
    return [
        f"Scenario: {s.name} — {s.title}",
        f"Territory: {s.territory.name}",
        f"Made by connectivity {__version__} on {dt.date.today().isoformat()}",
        f"Privacy: figures of fewer than {published.min_population} people, and those that "
        "would give them away, are empty (column 'Figures hidden').",
        "The same tables are in the folder's CSV files; run.json records sources and method.",
    ]


def workbook_tables(results: Results, published: Published) -> dict[str, pd.DataFrame]:
    """Return the tables of the workbook, by sheet key, in sheet order."""
    tables = {
        "selected_sites": published.selected,
        "summary_by_locality": published.summary,
    }
    tables.update({name: table for name, table in results.tables.items() if name in SHEETS})
    return tables


def write_workbook(results: Results, published: Published, path: Path) -> None:
    """Write ``tables.xlsx``."""
    import xlsxwriter

    language = results.scenario.output.language
    options = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": False}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"title": results.scenario.title, "created": dt.datetime(2000, 1, 1)})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    formats: dict[str, object] = {}
    for key, table in workbook_tables(results, published).items():
        sheet = book.add_worksheet(SHEETS[key][language][:31])
        safe = csv_safe(table)
        for col, column in enumerate(table.columns):
            text = header(str(column), language)
            sheet.write_string(0, col, text, bold)
            values = table[column]
            width = max(10, min(45, len(text) // 2 + 4))
            if pd.api.types.is_bool_dtype(values):
                for row, value in enumerate(values, start=1):
                    sheet.write_boolean(row, col, bool(value))
            elif pd.api.types.is_numeric_dtype(values):
                pattern = _number_format(str(column), values)
                fmt = formats.setdefault(pattern, book.add_format({"num_format": pattern}))
                for row, value in enumerate(values.to_numpy(dtype=float), start=1):
                    if np.isfinite(value):
                        sheet.write_number(row, col, float(value), fmt)
                    # hidden or missing: an empty cell, as in the CSV
            else:
                longest = 0
                for row, value in enumerate(safe[column], start=1):
                    if value is None or (isinstance(value, float) and np.isnan(value)):
                        continue
                    text_value = str(value)
                    longest = max(longest, len(text_value))
                    sheet.write_string(row, col, text_value)
                width = max(width, min(45, longest + 2))
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(table), 1), max(len(table.columns) - 1, 0))
    notes = book.add_worksheet(SHEETS["notes"][language])
    for row, line in enumerate(_notes(results, published, language)):
        notes.write_string(row, 0, csv_safe(pd.DataFrame({"t": [line]}))["t"].iloc[0])
    notes.set_column(0, 0, 110)
    book.close()
