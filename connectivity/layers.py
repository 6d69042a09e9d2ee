"""Reading input layers: the only place where connectivity reads data files.

Every layer is read, cleaned and brought into one metric CRS here, and every cleaning step is
logged as counts (rows dropped for sentinel coordinates, points outside the territory,
repaired polygons, byte-order marks, stray spaces in column names). What lies downstream can
then assume valid geometries, numeric columns and a single projected CRS.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from connectivity.errors import InputFileError, LayerError, MissingColumnError, NoCRSError
from connectivity.scenario import LayerSpec

if TYPE_CHECKING:
    from connectivity.propagation import Terrain

logger = logging.getLogger(__name__)

_TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
_SENTINEL_ABS = 1e30


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


@contextmanager
def _no_sidecar_files() -> Iterator[None]:
    """Stop GDAL from writing ``.aux.xml`` files beside the files it reads.

    GDAL's GeoPackage driver writes dataset metadata to a sidecar ``.aux.xml`` when it closes
    a file opened only for reading; reading must never change the user's folders.
    """
    pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": None})


def check_input_file(path: Path, role: str = "", *, allow_folder: bool = False) -> None:
    """Refuse a path that is missing or that is not a regular file, before anything opens it.

    A FIFO, a socket or a device named as a layer would make a reader wait forever (or read
    without end); a folder is accepted only where a format is one (``allow_folder``, e.g. an
    ESRI File Geodatabase). For a Shapefile, every sidecar file (``.dbf``, ``.shx`` ...) is
    checked too.

    Raises
    ------
    InputFileError
        Naming the path, the role and what it is.
    """
    where = f" ({role})" if role else ""
    if not path.exists():
        raise InputFileError(f"{path}{where}: file not found")
    paths = [path]
    if path.suffix.lower() == ".shp":
        paths += [p for p in path.parent.glob(glob_escape(path.stem) + ".*") if p != path]
    for p in paths:
        if p.is_file() or (allow_folder and p == path and p.is_dir()):
            continue
        kind = "a folder" if p.is_dir() else "not a regular file (a FIFO, socket or device)"
        raise InputFileError(f"{p}{where}: {kind}; name a data file")


def glob_escape(text: str) -> str:
    """Escape the characters ``glob`` treats as patterns (``*?[``) in a file name."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file (for ``run.json``)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def layer_files(spec: LayerSpec) -> list[Path]:
    """Return every file on disk that makes up a layer (a Shapefile has several)."""
    path = spec.path
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(glob_escape(path.stem) + ".*") if p.is_file())
    return [path]


def _is_table(spec: LayerSpec) -> bool:
    return spec.path.suffix.lower() in _TABLE_SUFFIXES


def _has_bom(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(3) == codecs.BOM_UTF8


def _csv_encoding(spec: LayerSpec) -> str:
    if spec.encoding:
        return spec.encoding
    return "utf-8-sig"


def _read_csv(
    spec: LayerSpec,
    report: LoadReport | None,
    nrows: int | None = None,
    expected: Sequence[str] = (),
) -> pd.DataFrame:
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
    check_input_file(spec.path, allow_folder=not _is_table(spec))
    if _is_table(spec):
        return list(_read_csv(spec, None, nrows=0).columns)
    try:
        with _no_sidecar_files():
            info = pyogrio.read_info(spec.path, layer=spec.layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None
    return [str(c).strip() for c in info["fields"]]


def geometry_summary(spec: LayerSpec, *, metric_crs: str) -> tuple[np.ndarray, float, float]:
    """Return a polygon layer's bounds per feature, total area and outline length, in metres.

    Reads the geometries only (for estimating a run's size before it starts).

    Raises
    ------
    InputFileError, LayerError
        The file is missing or unreadable.
    """
    check_input_file(spec.path, allow_folder=True)
    try:
        with _no_sidecar_files():
            gdf = pyogrio.read_dataframe(
                spec.path, layer=spec.layer, columns=[], read_geometry=True
            )
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None
    if gdf.crs is None:
        if not spec.crs:
            return np.zeros((0, 4)), 0.0, 0.0
        gdf = gdf.set_crs(spec.crs)
    geoms = gdf.to_crs(metric_crs).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return (
        shapely.bounds(geoms),
        float(shapely.area(geoms).sum()),
        float(shapely.length(geoms).sum()),
    )


def count_rows(spec: LayerSpec) -> int:
    """Return how many rows a layer has before any filter (an upper bound on what is kept)."""
    check_input_file(spec.path, allow_folder=not _is_table(spec))
    if _is_table(spec):
        return len(_read_csv(spec, None))
    try:
        with _no_sidecar_files():
            return int(pyogrio.read_info(spec.path, layer=spec.layer)["features"])
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None


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
    if _is_table(spec):
        frame = _read_csv(spec, report, expected=expected)
    else:
        frame = pd.DataFrame(_read_vector(spec, report, expected).drop(columns="geometry"))
    report.rows_read = len(frame)
    frame = _apply_filter(frame, spec, report)
    report.rows_kept = len(frame)
    return frame, report


def _read_vector(
    spec: LayerSpec, report: LoadReport, expected: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    check_input_file(spec.path, report.role, allow_folder=True)
    kwargs: dict[str, Any] = {}
    if spec.layer:
        kwargs["layer"] = spec.layer
    if spec.encoding:
        kwargs["encoding"] = spec.encoding
    try:
        with _no_sidecar_files():
            gdf = gpd.read_file(spec.path, engine="pyogrio", **kwargs)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None
    return _strip_columns(gdf, report, expected)


def _apply_filter(frame: pd.DataFrame, spec: LayerSpec, report: LoadReport) -> pd.DataFrame:
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


def _parse_crs(value: Any, path: Path, role: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise LayerError(f"{path} ({role}): cannot understand the CRS {value!r}: {exc}") from None


def read_layer(
    spec: LayerSpec,
    *,
    role: str,
    metric_crs: str,
    geometry: str = "any",
    clip_to: shapely.Geometry | None = None,
    expected: Sequence[str] = (),
    strict: bool = False,
    left_out: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read a vector layer or a CSV of points, clean it and project it to ``metric_crs``.

    Cleaning, each step logged as a count: rows left out by the scenario's filter; points with
    missing, non-finite or sentinel coordinates (for example ``-1.797e308``); points that fall
    outside ``clip_to`` (bad geocodes); invalid polygons repaired with ``make_valid``; empty
    geometries; stray spaces in column names; a UTF-8 byte-order mark.

    Parameters
    ----------
    spec
        The layer in the scenario.
    role
        Name used in log lines, reports and errors, for example ``"candidates.layers[0]"``.
    metric_crs
        Projected CRS (metres) every layer is brought into.
    geometry
        ``"point"``, ``"polygon"`` or ``"any"``: the geometry type the layer must hold.
    clip_to
        Polygon in ``metric_crs``; points outside it are dropped (and counted).
    expected
        Columns the scenario names; a column that differs only in case or spaces is renamed.
    strict
        Turn warnings about dropped rows (bad coordinates, points outside the territory) into
        errors.
    left_out
        For a study area cut out of a larger territory: the part of the territory left out.
        Points there are expected, counted without a warning and never an error; points
        outside both are bad geocodes (a warning, or an error with ``strict``).

    Returns
    -------
    GeoDataFrame, LoadReport

    Raises
    ------
    InputFileError
        The file does not exist.
    NoCRSError
        The layer has no CRS and the scenario declares none.
    MissingColumnError
        A coordinate or filter column is missing.
    LayerError
        The layer is empty, holds the wrong geometry type, or cannot be read.
    """
    report = LoadReport(role=role, path=str(spec.path), strict=strict)
    if _is_table(spec):
        gdf = _points_from_table(spec, report, expected)
    else:
        gdf = _read_vector(spec, report, expected)
        report.rows_read = len(gdf)
        if spec.crs:
            declared = _parse_crs(spec.crs, spec.path, role)
            if gdf.crs is None:
                gdf = gdf.set_crs(declared)
            elif not gdf.crs.equals(declared):
                raise LayerError(
                    f"{spec.path} ({role}): the scenario declares crs {spec.crs} but the file "
                    f"says {gdf.crs.to_string()}; remove 'crs' from the scenario (it is only "
                    "for files without one)"
                )
        if gdf.crs is None:
            raise NoCRSError(
                f"{spec.path} ({role}): the layer has no CRS; add 'crs: EPSG:4326' (or the right "
                "code) for this layer in the scenario, or a .prj file beside a Shapefile"
            )
        gdf = _apply_filter(gdf, spec, report)
    if len(gdf) == 0:
        raise LayerError(f"{spec.path} ({role}): the layer has no rows (after the filter)")
    empty = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    report.drop("rows with empty geometry dropped", gdf.index[empty])
    gdf = gdf.loc[~empty]
    gdf = _check_geometry_type(gdf, geometry, spec.path, role)
    if geometry == "point":
        gdf = _drop_bad_points(gdf, report)
        if len(gdf) == 0:
            raise LayerError(f"{spec.path} ({role}): no row has usable coordinates")
    else:
        invalid = ~gdf.geometry.is_valid
        if invalid.any():
            gdf = gdf.copy()
            gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
            report.add("invalid polygons repaired (make_valid)", int(invalid.sum()))
    _check_coordinates_fit_crs(gdf, report, geometry)
    gdf = gdf.to_crs(metric_crs)
    if geometry == "polygon":
        gdf = gdf.copy()
        gdf["geometry"] = _polygonal_part(gdf.geometry.to_numpy())
    if clip_to is not None and geometry == "point":
        inside = shapely.contains_xy(clip_to, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
        elsewhere = np.zeros(len(gdf), dtype=bool)
        if left_out is not None and not left_out.is_empty:
            elsewhere = ~inside & shapely.contains_xy(
                left_out, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
            )
            report.add("points outside the study area left out", int(elsewhere.sum()))
        stray = ~inside & ~elsewhere
        if len(gdf) >= 3 and stray.mean() > 0.5:
            _explain_points_outside(gdf, clip_to, spec, role)
        report.drop("points outside the territory dropped", gdf.index[stray])
        gdf = gdf.loc[inside]
    report.file_rows = gdf.index.to_numpy(dtype=np.int64) + 1
    gdf = gdf.reset_index(drop=True)
    report.rows_kept = len(gdf)
    logger.info(
        "%s: read %d rows from %s, kept %d",
        role,
        report.rows_read,
        spec.path.name,
        report.rows_kept,
    )
    return gdf, report


def _points_from_table(
    spec: LayerSpec, report: LoadReport, expected: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    wanted = [*expected, *(c for c in (spec.x_column, spec.y_column) if c), *spec.filter]
    frame = _read_csv(spec, report, expected=wanted)
    report.rows_read = len(frame)
    if not spec.x_column or not spec.y_column:
        raise LayerError(
            f"{spec.path} ({report.role}): a CSV layer needs 'x_column' and 'y_column' "
            f"(for example LONGITUD and LATITUD). Columns there: {', '.join(frame.columns)}"
        )
    require_columns(frame, [spec.x_column, spec.y_column], spec.path, report.role)
    frame = _apply_filter(frame, spec, report)
    x = to_number(frame[spec.x_column], path=spec.path, role=report.role, report=report)
    y = to_number(frame[spec.y_column], path=spec.path, role=report.role, report=report)
    crs = _parse_crs(spec.crs or "EPSG:4326", spec.path, report.role)
    geoms = gpd.points_from_xy(x.fillna(np.nan), y.fillna(np.nan))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


def _check_geometry_type(
    gdf: gpd.GeoDataFrame, geometry: str, path: Path, role: str
) -> gpd.GeoDataFrame:
    if geometry == "any" or len(gdf) == 0:
        return gdf
    types = gdf.geometry.geom_type
    if geometry == "point":
        multi = types == "MultiPoint"
        if multi.any():  # a single-point MultiPoint is common in exports; take its centroid
            gdf = gdf.copy()
            gdf.loc[multi, "geometry"] = gdf.geometry[multi].centroid
        ok = gdf.geometry.geom_type == "Point"
    else:
        ok = types.isin(["Polygon", "MultiPolygon", "GeometryCollection"])
    if not ok.all():
        first = int(gdf.index[np.flatnonzero(~ok.to_numpy())[0]]) + 1
        raise LayerError(
            f"{path} ({role}): expected {geometry} geometries, found "
            f"{', '.join(sorted(set(types[~ok])))} (first at row {first}, counted from 1)"
        )
    return gdf


def _drop_bad_points(gdf: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    x = gdf.geometry.x.to_numpy()
    y = gdf.geometry.y.to_numpy()
    bad = (
        ~np.isfinite(x)
        | ~np.isfinite(y)
        | (np.abs(x) > _SENTINEL_ABS)
        | (np.abs(y) > _SENTINEL_ABS)
    )
    if gdf.crs is not None and gdf.crs.is_geographic:
        out_of_range = (np.abs(x) > 180) | (np.abs(y) > 90)
        plausible = np.isfinite(x) & np.isfinite(y) & (np.abs(x) < _SENTINEL_ABS)
        if (out_of_range & plausible).sum() > 0.5 * len(gdf):
            raise LayerError(
                f"{report.path} ({report.role}): most coordinates are far outside ±180/±90 "
                f"(first: {x[out_of_range][0]:.1f}, {y[out_of_range][0]:.1f}): they look like "
                f"metres, but the layer says degrees ({gdf.crs.to_string()}); set the layer's "
                "'crs' to the projected CRS they are in (for example EPSG:9377)"
            )
        bad |= out_of_range
    report.drop("rows with missing, non-finite or sentinel coordinates dropped", gdf.index[bad])
    return gdf.loc[~bad]


def _check_coordinates_fit_crs(gdf: gpd.GeoDataFrame, report: LoadReport, geometry: str) -> None:
    """Refuse coordinates that cannot be in the layer's CRS, for every geometry type.

    Degrees beyond ±180/±90 are metres labelled as degrees; in a projected CRS, coordinates
    far outside the CRS's area of use (most of them) are usually degrees labelled as metres.
    Points beyond ±180/±90 in a minority of rows were already dropped as bad rows.
    """
    if len(gdf) == 0 or gdf.crs is None:
        return
    bounds = shapely.bounds(gdf.geometry.to_numpy())
    usable = np.isfinite(bounds).all(axis=1) & (np.abs(bounds) < _SENTINEL_ABS).all(axis=1)
    if not usable.any():
        return
    rows = gdf.index.to_numpy()
    if gdf.crs.is_geographic:
        out = usable & (
            (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
            | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
        )
        if out.any():
            first = int(np.flatnonzero(out)[0])
            raise LayerError(
                f"{report.path} ({report.role}): {int(out.sum())} of {len(gdf)} geometries have "
                f"coordinates beyond ±180/±90 (first: row {int(rows[first]) + 1}, x "
                f"{bounds[first, 0]:.1f}, y {bounds[first, 1]:.1f}): they look like metres, but "
                f"the layer says degrees ({gdf.crs.to_string()}); set the layer's 'crs' to the "
                "projected CRS they are in (for example EPSG:9377)"
            )
        return
    area = _projected_area_of_use(gdf.crs.to_wkt())
    if area is None:
        return
    x0, y0, x1, y1 = area
    margin = max(x1 - x0, y1 - y0)
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    far = usable & (
        (cx < x0 - margin) | (cx > x1 + margin) | (cy < y0 - margin) | (cy > y1 + margin)
    )
    if far.sum() > 0.5 * usable.sum():
        first = int(np.flatnonzero(far)[0])
        degrees = bool((np.abs(cx[usable]) <= 180).all() and (np.abs(cy[usable]) <= 90).all())
        hint = (
            "they look like longitude and latitude: declare the layer's 'crs' as EPSG:4326"
            if degrees
            else "check the layer's 'crs'"
        )
        raise LayerError(
            f"{report.path} ({report.role}): {int(far.sum())} of {int(usable.sum())} "
            f"coordinates lie far outside where {gdf.crs.name} ({gdf.crs.to_string()}) is "
            f"used (first: row {int(rows[first]) + 1} at x {cx[first]:.6g}, y {cy[first]:.6g}; "
            f"the CRS covers x {x0:.0f} to {x1:.0f}, y {y0:.0f} to {y1:.0f}); {hint}"
        )


@functools.lru_cache(maxsize=32)
def _projected_area_of_use(crs_wkt: str) -> tuple[float, float, float, float] | None:
    """Return the bounds, in the CRS's own units, of the area where a projected CRS is used."""
    from pyproj import Transformer

    crs = CRS.from_wkt(crs_wkt)
    area = crs.area_of_use
    if area is None:
        return None
    try:
        transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        bounds = transformer.transform_bounds(
            area.west, area.south, area.east, area.north, densify_pts=21
        )
    except Exception:  # pyproj raises ProjError for areas it cannot project
        return None
    if not np.isfinite(bounds).all():
        return None
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def _explain_points_outside(
    gdf: gpd.GeoDataFrame, clip_to: shapely.Geometry, spec: LayerSpec, role: str
) -> None:
    """Raise a clear error when most points miss the territory because x and y are swapped."""
    lonlat = gdf.geometry.to_crs("EPSG:4326")
    swapped = gpd.GeoSeries(gpd.points_from_xy(lonlat.y, lonlat.x), crs="EPSG:4326").to_crs(gdf.crs)
    inside_swapped = shapely.contains_xy(clip_to, swapped.x.to_numpy(), swapped.y.to_numpy())
    if inside_swapped.mean() >= 0.5:
        raise LayerError(
            f"{spec.path} ({role}): most points fall outside the territory, but inside it with "
            "x and y exchanged: latitude and longitude look swapped; exchange 'x_column' and "
            "'y_column' in the scenario (x is the longitude)"
        )


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (make_valid may add lines or points)."""
    out = geoms.copy()
    for i, g in enumerate(geoms):
        if g.geom_type == "GeometryCollection":
            polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            out[i] = shapely.union_all(polys) if polys else shapely.Polygon()
    return out


def read_points(
    path: Path, *, role: str, crs: str | None = None, metric_crs: str | None = None
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read points for bring-your-own-layers runs, in a metric CRS.

    A CSV needs columns ``x,y`` (in the CRS given by ``crs``, metres) or ``lon,lat`` (WGS84);
    any vector file is read as is (polygons become their centroids). Without ``metric_crs``
    the layer's own CRS is used when projected, else the local UTM zone.

    Raises
    ------
    LayerError
        No usable coordinate columns, a geographic ``crs`` for ``x,y``, or empty input.
    """
    path = Path(path)
    if path.suffix.lower() in _TABLE_SUFFIXES:
        columns = read_columns(LayerSpec(path=path))
        lower = {c.lower(): c for c in columns}
        if "x" in lower and "y" in lower:
            if crs is None:
                raise LayerError(f"{path} ({role}): columns x,y need --crs (for example EPSG:9377)")
            spec = LayerSpec(path=path, x_column=lower["x"], y_column=lower["y"], crs=crs)
        elif "lon" in lower and "lat" in lower:
            spec = LayerSpec(
                path=path, x_column=lower["lon"], y_column=lower["lat"], crs=crs or "EPSG:4326"
            )
        else:
            raise LayerError(
                f"{path} ({role}): a CSV needs columns x,y (with --crs) or lon,lat. "
                f"Columns there: {', '.join(columns)}"
            )
        geometry = "point"
    else:
        with _no_sidecar_files():
            has_crs = pyogrio.read_info(path).get("crs") if path.exists() else None
        spec = LayerSpec(path=path, crs=None if has_crs else crs)
        geometry = "any"
    metric_crs = metric_crs or _native_metric_crs(spec)
    if metric_crs is None:  # geographic input: read once, then to the local UTM zone
        gdf, report = read_layer(spec, role=role, metric_crs="EPSG:4326", geometry=geometry)
        gdf = gdf.to_crs(gdf.estimate_utm_crs())
    else:
        gdf, report = read_layer(spec, role=role, metric_crs=metric_crs, geometry=geometry)
    if not (gdf.geom_type == "Point").all():
        gdf = gdf.copy()
        gdf["geometry"] = gdf.geometry.centroid
    return gdf, report


def _native_metric_crs(spec: LayerSpec) -> str | None:
    if spec.crs and _parse_crs(spec.crs, spec.path, "crs").is_projected:
        return str(spec.crs)
    if not _is_table(spec):
        with _no_sidecar_files():
            native = pyogrio.read_info(spec.path, layer=spec.layer).get("crs")
        if native and CRS.from_user_input(native).is_projected:
            return str(native)
    return None


def read_osm_features(
    spec: LayerSpec,
    tags: dict[str, Any],
    *,
    role: str,
    metric_crs: str,
    clip_to: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read OpenStreetMap features matching ``tags`` from a local XML file, as points.

    Uses :func:`osmnx.features_from_xml` (no network access). Polygons become their centroids
    in ``metric_crs``; the ``name`` tag is kept.

    Raises
    ------
    InputFileError
        The file does not exist.
    LayerError
        The file cannot be parsed or no feature matches the tags.
    """
    import osmnx as ox

    report = LoadReport(role=role, path=str(spec.path))
    check_input_file(spec.path, role)
    try:
        features = ox.features_from_xml(spec.path, tags=tags)
    except Exception as exc:  # osmnx raises its own error when nothing matches
        raise LayerError(
            f"{spec.path} ({role}): no OpenStreetMap feature matches {tags}: {exc}"
        ) from None
    report.rows_read = len(features)
    points = features.to_crs(metric_crs).geometry.centroid
    names = features["name"] if "name" in features.columns else pd.Series([""] * len(features))
    gdf = gpd.GeoDataFrame(
        {"name": names.fillna("").astype(str).to_numpy()},
        geometry=points.to_numpy(),
        crs=metric_crs,
    )
    if clip_to is not None:
        inside = shapely.contains_xy(clip_to, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
        report.add("OpenStreetMap features outside the territory left out", int((~inside).sum()))
        gdf = gdf.loc[inside]
    gdf = gdf.reset_index(drop=True)
    report.rows_kept = len(gdf)
    logger.info("%s: %d OpenStreetMap features from %s", role, len(gdf), spec.path.name)
    return gdf, report


def read_run_folder(
    folder: Path, *, layer_names: Sequence[str]
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Read a finished run's manifest and the documented layers of its GeoPackage (for export).

    Parameters
    ----------
    folder
        An output folder written by ``connectivity run`` (it holds ``run.json`` and
        ``connectivity.gpkg``).
    layer_names
        The layers a run writes. Any other table found in the GeoPackage (one added by hand,
        or by someone tampering with the folder) is left out with a warning, never exported.

    Returns
    -------
    dict, dict of GeoDataFrame
        The manifest, and the layers by name in the order of ``layer_names``. The
        ``layer_styles`` table (QGIS styles) has no geometry and comes back as a plain
        DataFrame.

    Raises
    ------
    InputFileError
        If the folder is not a finished run or its GeoPackage cannot be read.
    """
    import json

    manifest_path = folder / "run.json"
    gpkg = folder / "connectivity.gpkg"
    if not folder.is_dir():
        raise InputFileError(f"{folder}: folder not found")
    for path in (manifest_path, gpkg):
        if not path.is_file():
            raise InputFileError(
                f"{path}: not found; {folder} is not the output folder of a finished run"
            )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with _no_sidecar_files():
            present = [str(name) for name, _ in pyogrio.list_layers(gpkg)]
            foreign = [n for n in present if n not in layer_names]
            if foreign:
                logger.warning(
                    "%s: layers that a run does not write are left out: %s",
                    gpkg,
                    ", ".join(repr(n[:60]) for n in foreign[:10]),
                )
            names = [n for n in layer_names if n in present]
            frames = {name: gpd.read_file(gpkg, layer=name, engine="pyogrio") for name in names}
    except (OSError, ValueError, pyogrio.errors.DataSourceError) as exc:
        raise InputFileError(f"{gpkg}: cannot read the run's outputs ({exc})") from exc
    layers: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None and name != "layer_styles":
            raise NoCRSError(f"{gpkg}: layer '{name}' has no CRS")
        layers[name] = frame
    return manifest, layers


_RUN_SUMMARY_FILES = ("run.json", "selected_sites.csv", "summary_by_locality.csv")


def read_run_summary(folder: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Read a finished run's manifest, selected sites and per-locality summary (for compare).

    Parameters
    ----------
    folder
        An output folder written by ``connectivity run``.

    Returns
    -------
    dict, DataFrame, DataFrame
        ``run.json``, ``selected_sites.csv`` and ``summary_by_locality.csv`` (identifiers kept
        as text).

    Raises
    ------
    InputFileError
        If a file is missing, or cannot be parsed (the message names the file).
    """
    import json

    missing = [name for name in _RUN_SUMMARY_FILES if not (folder / name).is_file()]
    if missing:
        raise InputFileError(
            f"{folder}: not a connectivity output folder (missing {', '.join(missing)})"
        )
    path = folder / "run.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "summary" not in manifest:
            raise ValueError("no 'summary' object")
        path = folder / "selected_sites.csv"
        sites = pd.read_csv(path, dtype={"site_id": str})
        path = folder / "summary_by_locality.csv"
        summary = pd.read_csv(path, dtype={"locality_code": str})
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: cannot read this run output ({exc})") from exc
    return manifest, sites, summary


def read_dem(path: Path, *, metric_crs: str) -> Terrain:
    """Read a digital elevation model (GeoTIFF or any raster GDAL reads) in the metric CRS.

    A DEM in another CRS (SRTM and Copernicus DEMs come in EPSG:4326) is reprojected with
    bilinear resampling at about its own resolution. Nodata becomes NaN.

    Raises
    ------
    InputFileError, NoCRSError
        If the file is missing or unreadable, or has no CRS.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    from connectivity.propagation import Terrain

    check_input_file(path, "mobile.terrain")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise NoCRSError(f"{path}: the DEM has no CRS; assign one (gdal_edit.py -a_srs)")
            band = src.read(1, masked=True).astype("float64").filled(np.nan)
            if CRS.from_user_input(src.crs.to_wkt()) == CRS.from_user_input(metric_crs):
                return Terrain(band, tuple(src.transform)[:6])
            transform, width, height = calculate_default_transform(
                src.crs, metric_crs, src.width, src.height, *src.bounds
            )
            out = np.full((height, width), np.nan)
            reproject(
                band,
                out,
                src_transform=src.transform,
                src_crs=src.crs,
                dst_transform=transform,
                dst_crs=metric_crs,
                src_nodata=np.nan,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    except RasterioIOError as exc:
        raise InputFileError(f"{path}: cannot read as a raster: {exc}") from None
    logger.info("terrain: %s reprojected to %s (%d × %d)", path.name, metric_crs, width, height)
    return Terrain(out, tuple(transform)[:6])
