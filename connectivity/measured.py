"""Measured coverage: operator polygons and speed-test tiles turned into per-cell quality.

Two kinds of measured data are understood:

- **coverage polygons** (for example an operator's published 4G footprint): each polygon means
  one coverage class, ``basic`` or ``good``;
- **speed-test tiles**, as in open speed-test data sets (Ookla's *Open Data*): web-mercator
  tiles named by ``quadkey`` with average download/upload speeds and test counts. A tile's
  class follows from its average download speed and the scenario's thresholds.

Each source becomes a quality per demand cell by area-weighting (the share of the cell each
measured shape covers). Where a cell is measured, the measured value overrides the modelled
one; sources later in the scenario's list override earlier ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from connectivity.errors import LayerError

logger = logging.getLogger(__name__)

QUALITY = {"none": 0.0, "basic": 0.5, "good": 1.0}
"""Coverage quality of each class (the optimiser's partial coverage, 0–1)."""


def quadkey_bounds(quadkey: str) -> tuple[float, float, float, float]:
    """Return ``(min_lon, min_lat, max_lon, max_lat)`` of a Bing/Web-Mercator quadkey tile.

    Examples
    --------
    >>> [round(v, 4) for v in quadkey_bounds("0")]
    [-180.0, 0.0, 0.0, 85.0511]
    """
    x = y = 0
    for digit in quadkey:
        if digit not in "0123":
            raise ValueError(f"not a quadkey: {quadkey!r}")
        d = int(digit)
        x = (x << 1) | (d & 1)
        y = (y << 1) | (d >> 1)
    n = 2 ** len(quadkey)

    def lon(px: int) -> float:
        return px / n * 360.0 - 180.0

    def lat(py: int) -> float:
        return float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * py / n)))))

    return lon(x), lat(y + 1), lon(x + 1), lat(y)


def tiles_from_quadkeys(table: pd.DataFrame, column: str, *, source: str) -> gpd.GeoDataFrame:
    """Turn a table with a quadkey column into tile polygons (EPSG:4326).

    Raises
    ------
    LayerError
        Naming the first rows whose quadkey is not one.
    """
    keys = table[column].astype(str).str.strip()
    bounds = []
    bad = []
    for i, key in enumerate(keys):
        try:
            bounds.append(quadkey_bounds(key) if key else None)
        except ValueError:
            bounds.append(None)
        if bounds[-1] is None:
            bad.append(i)
    if bad:
        rows = ", ".join(str(i + 1) for i in bad[:5])
        raise LayerError(
            f"{source}: column '{column}' has {len(bad)} values that are not quadkeys "
            f"(digits 0–3; rows {rows})"
        )
    arr = np.array(bounds, dtype=float).reshape(-1, 4)
    geometry = shapely.box(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=geometry, crs="EPSG:4326")


def speed_class(download_mbps: np.ndarray, *, basic_mbps: float, good_mbps: float) -> np.ndarray:
    """Class of each tile from its download speed: ``none``, ``basic`` or ``good``."""
    d = np.asarray(download_mbps, dtype=float)
    return np.where(d >= good_mbps, "good", np.where(d >= basic_mbps, "basic", "none"))


@dataclass(frozen=True)
class MeasuredCells:
    """One source on the demand grid: quality where measured and the share measured."""

    quality: np.ndarray
    measured_share: np.ndarray

    @property
    def measured(self) -> np.ndarray:
        """Cells the source says something about."""
        return self.measured_share > 0


def measured_on_cells(
    cells: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame, quality: np.ndarray
) -> MeasuredCells:
    """Area-weight measured shapes' qualities onto the demand cells.

    Parameters
    ----------
    cells
        Demand cells (polygons) in a metric CRS.
    shapes
        Measured polygons in the same CRS.
    quality
        Quality (0–1) of each shape.

    Returns
    -------
    MeasuredCells
        A cell's quality is the area-weighted mean of the shapes over it; its measured share
        is the part of the cell they cover (at most 1).
    """
    n = len(cells)
    if len(shapes) == 0 or n == 0:
        return MeasuredCells(np.zeros(n), np.zeros(n))
    cell_geoms = cells.geometry.to_numpy()
    shape_geoms = shapes.geometry.to_numpy()
    tree = shapely.STRtree(shape_geoms)
    cell_idx, shape_idx = tree.query(cell_geoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(cell_geoms[cell_idx], shape_geoms[shape_idx]))
    covered = np.bincount(cell_idx, weights=overlap, minlength=n)
    weighted = np.bincount(
        cell_idx, weights=overlap * np.asarray(quality, dtype=float)[shape_idx], minlength=n
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(covered > 0, weighted / covered, 0.0)
    share = np.clip(covered / shapely.area(cell_geoms), 0.0, 1.0)
    return MeasuredCells(quality=q, measured_share=share)


def override(modelled: np.ndarray, sources: list[MeasuredCells]) -> tuple[np.ndarray, np.ndarray]:
    """Measured values override the modelled quality; later sources override earlier ones.

    Returns
    -------
    quality : ndarray
    source : ndarray of int
        -1 where the model (or nothing) decides, else the index of the measured source.
    """
    quality = np.asarray(modelled, dtype=float).copy()
    source = np.full(len(quality), -1, dtype=np.int64)
    for i, measured in enumerate(sources):
        where = measured.measured
        quality[where] = measured.quality[where]
        source[where] = i
    return quality, source


def place_codes(values: pd.Series, width: int = 0) -> pd.Series:
    """Return codes as text: ``11001008.0`` and ``"11001008"`` alike, left-padded with zeros.

    Codes read as numbers lose their leading zeros (``05001001`` became ``5001001.0``);
    ``width`` pads them back.
    """
    text = values.astype("string").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    whole = numeric.notna() & (numeric == numeric.round())
    text = text.where(~whole, numeric.round().astype("Int64").astype("string"))
    return text.str.zfill(width) if width else text


def quality_by_place(
    table: pd.DataFrame,
    *,
    place_column: str,
    period_columns: list[str],
    good_columns: list[str],
    basic_columns: list[str],
    available: str = "S",
) -> pd.Series:
    """Return each place's measured quality (1 good, 0.5 basic, 0 none) in its latest period.

    A place is ``good`` when any row of its latest period (any operator) marks a good
    technology as ``available``, else ``basic`` when one marks a basic one.
    """
    frame = table.copy()
    frame["_code"] = place_codes(frame[place_column])
    frame = frame[frame["_code"].notna() & (frame["_code"] != "0")]
    if period_columns:
        periods = frame[period_columns].apply(pd.to_numeric, errors="coerce")
        key = list(periods.itertuples(index=False, name=None))
        frame["_period"] = key
        latest = frame.groupby("_code")["_period"].transform("max")
        frame = frame[frame["_period"] == latest]

    def marked(columns: list[str]) -> pd.Series:
        if not columns:
            return pd.Series(False, index=frame.index)
        flags = frame[columns].astype("string").apply(lambda c: c.str.strip().str.upper())
        return (flags == available.upper()).any(axis=1)

    good = marked(good_columns).groupby(frame["_code"]).any()
    basic = marked(basic_columns).groupby(frame["_code"]).any()
    return pd.Series(
        np.where(good, QUALITY["good"], np.where(basic, QUALITY["basic"], QUALITY["none"])),
        index=good.index,
    )
