"""Tables and columns: CSV files, column names matched as written, numbers, filters.

Every column is read as text and converted here, so that a decimal comma, a stray space or a
byte-order mark is mended and counted (:class:`LoadReport`), and a value that is not a number
is named by file, column and row.
"""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from connectivity.errors import LayerError, MissingColumnError
from connectivity.files import check_input_file, no_sidecar_files
from connectivity.scenario import LayerSpec

logger = logging.getLogger("connectivity.layers")

TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
"""File endings read as tables (CSV; tab-separated for ``.tsv``)."""


@dataclass
class LoadReport:
    """What reading one layer did: rows in and out and every cleaning step, as counts.

    ``add`` records a repair that loses nothing (a byte-order mark, a decimal comma, a repaired
    polygon); ``drop`` records rows that are left out, logs a warning naming the first rows,
    and raises :class:`LayerError` instead when ``strict`` is set (``--strict``).
    """

    role: str
    path: str
    rows_read: int = 0
    rows_kept: int = 0
    cleaned: dict[str, int] = field(default_factory=dict)
    strict: bool = False
    file_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """For each row kept, its row number in the file (from 1 after the header)."""

    def add(self, what: str, count: int) -> None:
        """Record ``count`` rows affected by the cleaning step ``what`` (zero is ignored)."""
        if count:
            self.cleaned[what] = self.cleaned.get(what, 0) + int(count)
            logger.info("%s: %s: %d", self.role, what, count)

    def drop(self, what: str, rows: np.ndarray | pd.Index, *, hint: str = "") -> None:
        """Record rows left out (file row numbers from 1 after the header)."""
        if not len(rows):
            return
        first = ", ".join(str(int(r) + 1) for r in list(rows)[:5])
        more = "" if len(rows) <= 5 else f" and {len(rows) - 5} more"
        message = f"{self.path} ({self.role}): {what}: {len(rows)} (rows {first}{more})"
        if self.strict:
            raise LayerError(f"{message}; --strict turns this into an error{hint}")
        self.cleaned[what] = self.cleaned.get(what, 0) + len(rows)
        logger.warning("%s", message + hint)


def is_table(spec: LayerSpec) -> bool:
    """Whether a layer is a table file (CSV), by its ending."""
    return spec.path.suffix.lower() in TABLE_SUFFIXES


def _has_bom(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(3) == codecs.BOM_UTF8


def _csv_encoding(spec: LayerSpec) -> str:
    if spec.encoding:
        return spec.encoding
    return "utf-8-sig"


def read_csv(
    spec: LayerSpec,
    report: LoadReport | None,
    nrows: int | None = None,
    expected: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV layer with every column as text; undeclared Windows-1252 is detected."""
    path = spec.path
    check_input_file(path, report.role if report is not None else "")
    encoding = _csv_encoding(spec)
    sep = "\t" if path.suffix.lower() == ".tsv" else None

    def parse(enc: str) -> pd.DataFrame:
        return pd.read_csv(
            path,
            encoding=enc,
            sep=sep,
            engine="python",
            dtype=str,
            nrows=nrows,
            keep_default_na=False,
            na_values=[""],
        )

    try:
        try:
            frame = parse(encoding)
        except UnicodeDecodeError as exc:
            if spec.encoding:  # declared, and wrong: say so
                raise LayerError(
                    f"{path}: text is not valid {encoding} (byte {exc.start}); check the "
                    "layer's 'encoding' in the scenario"
                ) from None
            # Colombian portals often publish Windows-1252 / Latin-1: detect it
            frame = parse("cp1252")
            if report is not None:
                report.add("text is not UTF-8; decoded as cp1252 (declare 'encoding')", 1)
    except UnicodeDecodeError as exc:
        raise LayerError(
            f"{path}: text is neither UTF-8 nor cp1252 (byte {exc.start}); set 'encoding' for "
            "this layer in the scenario"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, csv.Error) as exc:
        raise LayerError(f"{path}: cannot read as a table: {exc}") from None
    if report is not None and encoding.lower().replace("_", "-") == "utf-8-sig" and _has_bom(path):
        report.add("UTF-8 byte-order mark removed from the header", 1)
    return _strip_columns(frame, report, expected)


def match_column(name: str, have: Sequence[str]) -> str | None:
    """Return the column in ``have`` that is ``name`` up to case and spaces, if exactly one."""
    if name in have:
        return name
    key = name.strip().casefold()
    found = [c for c in have if str(c).strip().casefold() == key]
    return found[0] if len(found) == 1 else None


def _strip_columns(
    frame: pd.DataFrame, report: LoadReport | None, expected: Sequence[str] = ()
) -> pd.DataFrame:
    stripped = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    changed = sum(a != b for a, b in zip(map(str, frame.columns), stripped, strict=True))
    if report is not None:
        report.add("column names with stray spaces trimmed", changed)
    renames = {}
    for name in expected:
        if name not in stripped:
            found = match_column(name, stripped)
            if found is not None:
                renames[found] = name
    if report is not None:
        report.add("column names matched ignoring case", len(renames))
    frame.columns = pd.Index([renames.get(c, c) for c in stripped])
    return frame


def read_columns(spec: LayerSpec) -> list[str]:
    """Return the column names of a layer (trimmed), without reading its rows.

    Raises
    ------
    InputFileError
        If the file does not exist.
    LayerError
        If the file cannot be read.
    """
    check_input_file(spec.path, allow_folder=not is_table(spec))
    if is_table(spec):
        return list(read_csv(spec, None, nrows=0).columns)
    try:
        with no_sidecar_files():
            info = pyogrio.read_info(spec.path, layer=spec.layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None
    return [str(c).strip() for c in info["fields"]]


def read_table(
    spec: LayerSpec, *, role: str, expected: Sequence[str] = (), strict: bool = False
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a table (CSV, or the attributes of a vector file) with every column as text.

    Parameters
    ----------
    spec
        The table in the scenario.
    role
        Name used in log lines and reports, for example ``"demand.join.table"``.
    expected
        Columns the scenario names; a column that differs only in case or spaces is renamed.
    strict
        Turn warnings about dropped rows into errors.

    Returns
    -------
    DataFrame, LoadReport
    """
    report = LoadReport(role=role, path=str(spec.path), strict=strict)
    if is_table(spec):
        frame = read_csv(spec, report, expected=expected)
    else:
        frame = pd.DataFrame(read_vector(spec, report, expected).drop(columns="geometry"))
    report.rows_read = len(frame)
    frame = apply_filter(frame, spec, report)
    report.rows_kept = len(frame)
    return frame, report


def read_vector(
    spec: LayerSpec, report: LoadReport, expected: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """Read a vector file (pyogrio) with its columns' names trimmed and matched."""
    check_input_file(spec.path, report.role, allow_folder=True)
    kwargs: dict[str, Any] = {}
    if spec.layer:
        kwargs["layer"] = spec.layer
    if spec.encoding:
        kwargs["encoding"] = spec.encoding
    try:
        with no_sidecar_files():
            gdf = gpd.read_file(spec.path, engine="pyogrio", **kwargs)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None
    return _strip_columns(gdf, report, expected)


def apply_filter(frame: pd.DataFrame, spec: LayerSpec, report: LoadReport) -> pd.DataFrame:
    """Keep the rows the layer's ``filter`` selects (numbers match as numbers), counted."""
    if not spec.filter:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for column, wanted in spec.filter.items():
        require_columns(frame, [column], spec.path, report.role)
        values = wanted if isinstance(wanted, list) else [wanted]
        as_text = {str(v).strip() for v in values}
        col = frame[column]
        text = col.astype(str).str.strip()
        # numbers written as 2 or 2.0 in the file both match 2 in the scenario
        numeric = pd.to_numeric(col, errors="coerce")
        wanted_num = pd.to_numeric(pd.Series(list(as_text)), errors="coerce").dropna()
        match = text.isin(as_text).to_numpy(dtype=bool, copy=True)
        if len(wanted_num):
            match = match | numeric.isin(wanted_num.to_list()).to_numpy(dtype=bool)
        keep &= match
    report.add(f"rows left out by the filter {spec.filter}", int((~keep).sum()))
    return frame.loc[keep]  # keeps the file's row numbers for messages


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path, role: str) -> None:
    """Raise :class:`MissingColumnError` naming every missing column and the ones that exist."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise MissingColumnError(
            f"{path} ({role}): column(s) {', '.join(repr(c) for c in missing)} not found. "
            f"Columns there: {have}"
        )


def to_number(
    series: pd.Series,
    *,
    path: Path,
    role: str,
    report: LoadReport | None = None,
    rows: np.ndarray | None = None,
) -> pd.Series:
    """Convert a text column to floats, mending decimal commas (``4,61``) and stray spaces.

    Parameters
    ----------
    series
        The column (text or numbers); blank cells become NaN.
    path, role
        The file that holds the column, and its role in the scenario, for messages.
    report
        Counts the mended values.
    rows
        Each value's row number in the file (from 1 after the header); default: the
        series' index + 1.

    Raises
    ------
    LayerError
        Naming the first rows (counted from 1 after the header) whose value is not a number.
    """
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("string").str.strip()
    mended = text.str.replace(r"\s+", "", regex=True)
    comma = mended.str.fullmatch(r"[-+]?\d+,\d+", na=False)
    mended = mended.where(~comma, mended.str.replace(",", ".", regex=False))
    if report is not None:
        report.add(
            f"values in '{series.name}' mended (decimal comma or stray space)",
            int((mended != text).fillna(False).sum()),
        )
    values = pd.to_numeric(mended, errors="coerce")
    bad = (values.isna() & text.notna() & (text != "")).to_numpy(dtype=bool)
    if bad.any():
        numbers = np.asarray(rows) if rows is not None else np.asarray(series.index) + 1
        first = ", ".join(str(int(r)) for r in numbers[bad][:5])
        raise LayerError(
            f"{path} ({role}): column '{series.name}' has values that are not numbers "
            f"(rows {first}, counted from 1 after the header; first: "
            f"{str(text[bad].iloc[0])[:40]!r})"
        )
    return values.astype(float)
