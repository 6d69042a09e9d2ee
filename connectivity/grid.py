r"""The demand grid: published cells, and the finer analysis points that coverage is computed on.

Census units are spread onto square cells of ``cell_size_m`` by area weighting (a cell receives
from each unit the share of the unit's area it holds), and figures are published on those
cells. Coverage is *not* judged on the cells' centres: a 100 m cell whose centre lies within an
80 m radius would count as covered whole, so a site near a grid corner would be credited with
four cells (40,000 m²) for a disc of 20,106 m², and an optimiser would chase grid corners.
Instead each cell is split into ``s × s`` analysis points (sub-cells of ``cell_size_m / s``),
each holding the people of its sub-cell, and a person counts as covered when their point lies
within reach. With ``s`` chosen so that the spacing is at most a quarter of the service radius
(:func:`analysis_subdivisions`), the people a plan newly covers change by well under 2 % when
the spacing is halved (see the README's method section for the measured figures).

The people of a (unit, cell) piece go to the sub-cells of the cell whose centre lies in the
unit, in equal shares (to all of the cell's sub-cells if none does, for slivers), so every
cell's and every unit's counts are conserved exactly. This is the standard treatment of demand
aggregation error in covering models (Current & Schilling 1990; Tong & Murray 2009).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from connectivity.demand import priority_multiplier
from connectivity.scenario import GroupSpec
from connectivity.territory import Territory, assign_area

logger = logging.getLogger(__name__)

SPACING_PER_RADIUS = 0.25
"""The automatic analysis spacing is at most this share of the shortest service radius."""

MAX_SUBDIVISIONS = 64
"""At most this many analysis points per cell side (beyond it, use a smaller ``cell_size_m``)."""


def analysis_subdivisions(
    cell_size_m: float, radii_m: Sequence[float], analysis_cell_size_m: float | None = None
) -> int:
    """Return ``s``, the number of analysis points per cell side (``s × s`` per cell).

    Parameters
    ----------
    cell_size_m
        Side of the published cells.
    radii_m
        Every service radius or walking cutoff whose reach is judged point by point (new
        Wi-Fi sites, existing zones); radio coverage of kilometres is computed per cell.
    analysis_cell_size_m
        The scenario's explicit analysis spacing (must divide ``cell_size_m``), if any.

    Examples
    --------
    >>> analysis_subdivisions(100, [80])
    5
    >>> analysis_subdivisions(100, [300])
    2
    >>> analysis_subdivisions(100, [80], analysis_cell_size_m=10)
    10
    """
    if analysis_cell_size_m:
        return max(1, round(cell_size_m / analysis_cell_size_m))
    radii = [r for r in radii_m if r and r > 0]
    if not radii:
        return 1
    spacing = SPACING_PER_RADIUS * min(radii)
    return int(min(MAX_SUBDIVISIONS, max(1, math.ceil(cell_size_m / spacing - 1e-9))))


@dataclass(frozen=True)
class Pieces:
    """The (unit, cell) pieces of the area weighting, kept to build analysis points.

    Attributes
    ----------
    unit, cell
        Row of the unit and of the published cell of each piece.
    population, people_without_internet
        What the unit gives the cell.
    inside
        Whether the cell lies wholly inside the unit (its points then share equally).
    """

    unit: np.ndarray
    cell: np.ndarray
    population: np.ndarray
    people_without_internet: np.ndarray
    inside: np.ndarray


@dataclass(frozen=True)
class DemandPoints:
    """Demand on the analysis grid: ``s × s`` points per published cell (populated ones only).

    Attributes
    ----------
    cell
        Row of the published cell each point lies in.
    xy
        (n, 2) point coordinates (sub-cell centres) in the metric CRS.
    population, people_without_internet
        People of each point's sub-cell.
    demand_weight
        People without internet times the cell's priority multiplier.
    subdivisions
        ``s``: points per cell side.
    spacing_m
        Distance between neighbouring points (``cell_size_m / s``).
    """

    cell: np.ndarray
    xy: np.ndarray
    population: np.ndarray
    people_without_internet: np.ndarray
    demand_weight: np.ndarray
    subdivisions: int
    spacing_m: float

    def __len__(self) -> int:
        return len(self.cell)

    @functools.cached_property
    def tree(self) -> cKDTree:
        """A KD-tree of the points, built once on first use (every reach lookup shares it)."""
        return cKDTree(self.xy)

    def per_cell(self, values: np.ndarray, n_cells: int) -> np.ndarray:
        """Sum a value per point into its cell (``n_cells`` long)."""
        return np.bincount(self.cell, weights=values, minlength=n_cells)


@dataclass(frozen=True)
class DemandGrid:
    """Published cells, their analysis points, and what is needed to refine them later."""

    cells: gpd.GeoDataFrame
    points: DemandPoints
    pieces: Pieces
    unit_geometries: np.ndarray
    cell_size_m: float


def grid_pairs(
    geoms: np.ndarray, cell_size_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intersect polygons with the square grid whose lines are multiples of ``cell_size_m``.

    Returns
    -------
    unit, ix, iy, area_m2, inside
        One entry per (polygon, cell) pair with a positive intersection area; ``inside`` is
        true where the cell lies wholly inside the polygon.
    """
    bounds = shapely.bounds(geoms)
    ix0 = np.floor(bounds[:, 0] / cell_size_m).astype(np.int64)
    iy0 = np.floor(bounds[:, 1] / cell_size_m).astype(np.int64)
    ix1 = np.ceil(bounds[:, 2] / cell_size_m).astype(np.int64)
    iy1 = np.ceil(bounds[:, 3] / cell_size_m).astype(np.int64)
    units, ixs, iys = [], [], []
    for u in range(len(geoms)):
        gx, gy = np.meshgrid(np.arange(ix0[u], ix1[u]), np.arange(iy0[u], iy1[u]))
        units.append(np.full(gx.size, u, dtype=np.int64))
        ixs.append(gx.ravel())
        iys.append(gy.ravel())
    unit = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
    ix = np.concatenate(ixs) if ixs else np.zeros(0, dtype=np.int64)
    iy = np.concatenate(iys) if iys else np.zeros(0, dtype=np.int64)
    boxes = shapely.box(
        ix * cell_size_m, iy * cell_size_m, (ix + 1) * cell_size_m, (iy + 1) * cell_size_m
    )
    shapely.prepare(geoms)
    touches = shapely.intersects(geoms[unit], boxes)
    unit, ix, iy, boxes = unit[touches], ix[touches], iy[touches], boxes[touches]
    # cells wholly inside a unit need no intersection (the costly part for detailed outlines)
    inside = shapely.contains_properly(geoms[unit], boxes)
    area = np.full(len(unit), cell_size_m * cell_size_m)
    edge = ~inside
    area[edge] = shapely.area(shapely.intersection(geoms[unit[edge]], boxes[edge]))
    keep = area > 0
    return unit[keep], ix[keep], iy[keep], area[keep], inside[keep]


def demand_grid(
    units: gpd.GeoDataFrame,
    territory: Territory,
    *,
    cell_size_m: float = 100.0,
    subdivisions: int = 1,
    groups: dict[str, GroupSpec] | None = None,
    rural_multiplier: float = 0.0,
    snap_distance_m: float = 500.0,
) -> DemandGrid:
    """Spread the units' counts onto published cells, and those onto analysis points.

    Parameters
    ----------
    units
        Output of :func:`connectivity.demand.units_from_layers` (metric CRS).
    territory
        Areas each cell is assigned to (by the cell's centre) and the rural land.
    cell_size_m
        Side of the published square cells, in metres; cells are aligned on its multiples.
    subdivisions
        Analysis points per cell side (:func:`analysis_subdivisions`).
    groups
        Priority groups (kind and multiplier); their columns must be in ``units``.
    rural_multiplier
        Added to the priority multiplier of rural cells.
    snap_distance_m
        A cell whose centre is in no area joins the nearest area within this distance; beyond
        it the cell (and its population) is left out and logged.

    Returns
    -------
    DemandGrid
        ``cells`` as from :func:`cells_from_units`, and their ``points``.
    """
    cells, pieces = _cells_and_pieces(
        units,
        territory,
        cell_size_m=cell_size_m,
        groups=groups or {},
        rural_multiplier=rural_multiplier,
        snap_distance_m=snap_distance_m,
    )
    geoms = units.geometry.to_numpy()
    points = points_in_cells(
        cells, pieces, geoms, cell_size_m=cell_size_m, subdivisions=subdivisions
    )
    logger.info(
        "demand: %d analysis points of %g m in %d cells (%d per cell side)",
        len(points),
        points.spacing_m,
        len(cells),
        subdivisions,
    )
    return DemandGrid(
        cells=cells, points=points, pieces=pieces, unit_geometries=geoms, cell_size_m=cell_size_m
    )


def cells_from_units(
    units: gpd.GeoDataFrame,
    territory: Territory,
    *,
    cell_size_m: float = 100.0,
    groups: dict[str, GroupSpec] | None = None,
    rural_multiplier: float = 0.0,
    snap_distance_m: float = 500.0,
) -> gpd.GeoDataFrame:
    """Spread the units' counts onto square cells by area weighting.

    Returns
    -------
    GeoDataFrame
        One row per populated cell: ``cell_id``, ``ix``, ``iy``, ``area_code``, ``area_name``,
        ``rural``, ``population``, one column per count group (persons), ``<group>_share`` per
        share group, ``no_internet_share``, ``people_without_internet``,
        ``priority_multiplier``, ``demand_weight``, ``geometry`` (the cell square).
    """
    return demand_grid(
        units,
        territory,
        cell_size_m=cell_size_m,
        groups=groups,
        rural_multiplier=rural_multiplier,
        snap_distance_m=snap_distance_m,
    ).cells


def _cells_and_pieces(
    units: gpd.GeoDataFrame,
    territory: Territory,
    *,
    cell_size_m: float,
    groups: dict[str, GroupSpec],
    rural_multiplier: float,
    snap_distance_m: float,
) -> tuple[gpd.GeoDataFrame, Pieces]:
    geoms = units.geometry.to_numpy()
    unit, ix, iy, area, inside = grid_pairs(geoms, cell_size_m)
    unit_area = np.bincount(unit, weights=area, minlength=len(units))
    frac = area / unit_area[unit]
    pop_unit = units["population"].to_numpy(dtype=float)
    pop = pop_unit[unit] * frac
    internet = units["internet_share"].to_numpy(dtype=float)
    no_internet_unit = np.where(np.isnan(internet), 1.0, 1.0 - internet)
    without = pop * no_internet_unit[unit]
    data: dict[str, np.ndarray] = {
        "ix": ix,
        "iy": iy,
        "population": pop,
        "people_without_internet": without,
    }
    for name, group in groups.items():
        values = units[name].to_numpy(dtype=float)
        if group.kind == "count":
            data[name] = values[unit] * frac
        else:  # population-weighted mean of a share, summed here and divided below
            data[f"{name}_share"] = values[unit] * pop
    pairs = pd.DataFrame(data)
    cells = pairs.groupby(["iy", "ix"], sort=True).sum().reset_index()
    pop_cell = cells["population"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, group in groups.items():
            if group.kind == "share":
                col = f"{name}_share"
                cells[col] = np.where(pop_cell > 0, cells[col] / pop_cell, 0.0)
        cells["no_internet_share"] = np.where(
            pop_cell > 0, cells["people_without_internet"] / pop_cell, 0.0
        )
    empty = pop_cell <= 0
    if empty.any():
        logger.info("demand: %d cells with no population left out", int(empty.sum()))
        cells = cells.loc[~empty].reset_index(drop=True)

    cx = (cells["ix"].to_numpy() + 0.5) * cell_size_m
    cy = (cells["iy"].to_numpy() + 0.5) * cell_size_m
    area_idx = assign_area(cx, cy, territory.areas, snap_distance_m=snap_distance_m)
    if not territory.excluded.is_empty:  # a study area: what lies in the other areas stays out
        area_idx[shapely.contains_xy(territory.excluded, cx, cy)] = -1
    outside = area_idx < 0
    if outside.any():
        logger.info(
            "demand: %d cells (%.0f people) lie outside the territory and are left out",
            int(outside.sum()),
            float(cells.loc[outside, "population"].sum()),
        )
        cells, cx, cy, area_idx = (
            cells.loc[~outside],
            cx[~outside],
            cy[~outside],
            area_idx[~outside],
        )
        cells = cells.reset_index(drop=True)
    areas = territory.areas
    cells.insert(0, "area_code", areas["area_code"].to_numpy()[area_idx])
    cells.insert(1, "area_name", areas["area_name"].to_numpy()[area_idx])
    rural = territory.rural
    cells.insert(
        2,
        "rural",
        shapely.contains_xy(rural, cx, cy)
        if not rural.is_empty
        else np.zeros(len(cells), dtype=bool),
    )
    cells["priority_multiplier"] = priority_multiplier(cells, groups, rural_multiplier)
    cells["demand_weight"] = cells["people_without_internet"] * cells["priority_multiplier"]
    cells.insert(0, "cell_id", np.arange(len(cells), dtype=np.int64))
    geometry = shapely.box(
        cx - cell_size_m / 2, cy - cell_size_m / 2, cx + cell_size_m / 2, cy + cell_size_m / 2
    )
    out = gpd.GeoDataFrame(cells, geometry=geometry, crs=units.crs)
    logger.info(
        "demand: %d cells of %g m, %.0f people, %.0f without home internet",
        len(out),
        cell_size_m,
        float(out["population"].sum()),
        float(out["people_without_internet"].sum()),
    )
    pieces = _pieces_on_cells(out, unit, ix, iy, pop, without, inside)
    return out, pieces


def _pieces_on_cells(
    cells: gpd.GeoDataFrame,
    unit: np.ndarray,
    ix: np.ndarray,
    iy: np.ndarray,
    pop: np.ndarray,
    without: np.ndarray,
    inside: np.ndarray,
) -> Pieces:
    """Keep the pieces of the cells that were kept, each pointing at its cell's row."""
    key_cells = _cell_keys(cells["ix"].to_numpy(), cells["iy"].to_numpy())
    key_pairs = _cell_keys(ix, iy)
    order = np.argsort(key_cells, kind="stable")
    pos = np.searchsorted(key_cells[order], key_pairs)
    pos = np.minimum(pos, len(order) - 1) if len(order) else pos
    found = (
        (key_cells[order][pos] == key_pairs) & (pop > 0)
        if len(order)
        else np.zeros(len(unit), dtype=bool)
    )
    cell = order[pos[found]] if len(order) else np.zeros(0, dtype=np.int64)
    return Pieces(
        unit=unit[found],
        cell=cell.astype(np.int64),
        population=pop[found],
        people_without_internet=without[found],
        inside=inside[found],
    )


def _cell_keys(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """One integer per (ix, iy), ordered like the cells (by iy, then ix)."""
    return iy.astype(np.int64) * (1 << 32) + (ix.astype(np.int64) + (1 << 31))


def points_in_cells(
    cells: gpd.GeoDataFrame,
    pieces: Pieces,
    unit_geometries: np.ndarray,
    *,
    cell_size_m: float,
    subdivisions: int,
    only: np.ndarray | None = None,
) -> DemandPoints:
    """Split cells into ``s × s`` analysis points holding the people of their sub-cells.

    Parameters
    ----------
    cells, pieces, unit_geometries
        From :func:`demand_grid`.
    cell_size_m
        Side of the cells.
    subdivisions
        ``s``, points per cell side.
    only
        Boolean mask over cells: build points for these cells only (for a check at a finer
        spacing); the points' ``cell`` still refers to rows of ``cells``.

    Returns
    -------
    DemandPoints
        Points with people (empty sub-cells left out), ordered by cell then row by row.
    """
    s = int(subdivisions)
    n_sub = s * s
    spacing = cell_size_m / s
    offsets = (np.arange(s) + 0.5) * spacing
    sub_dx, sub_dy = np.tile(offsets, s), np.repeat(offsets, s)
    keep = np.ones(len(pieces.cell), dtype=bool) if only is None else only[pieces.cell]
    cell, unit = pieces.cell[keep], pieces.unit[keep]
    inside = pieces.inside[keep]
    ix0 = cells["ix"].to_numpy()[cell] * cell_size_m
    iy0 = cells["iy"].to_numpy()[cell] * cell_size_m
    share = np.full((len(cell), n_sub), 1.0 / n_sub)
    edge = np.flatnonzero(~inside)
    if len(edge) and s > 1:
        px = ix0[edge, None] + sub_dx[None, :]
        py = iy0[edge, None] + sub_dy[None, :]
        hit = np.zeros((len(edge), n_sub), dtype=bool)
        shapely.prepare(unit_geometries)
        by_unit = np.argsort(unit[edge], kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(unit[edge][by_unit]) != 0])
        for lo, hi in zip(starts, [*starts[1:], len(by_unit)], strict=True):
            rows = by_unit[lo:hi]
            geom = unit_geometries[unit[edge][rows[0]]]
            hit[rows] = shapely.intersects_xy(geom, px[rows], py[rows])
        counts = hit.sum(axis=1)
        has = counts > 0
        share[edge[has]] = hit[has] / counts[has, None]
    # points are numbered cell by cell (only the cells asked for), then sub-cell by sub-cell
    used, local = np.unique(cell, return_inverse=True)
    key = (local[:, None] * n_sub + np.arange(n_sub)[None, :]).ravel()
    size = len(used) * n_sub
    population = np.bincount(
        key, weights=(pieces.population[keep][:, None] * share).ravel(), minlength=size
    )
    without = np.bincount(
        key,
        weights=(pieces.people_without_internet[keep][:, None] * share).ravel(),
        minlength=size,
    )
    populated = np.flatnonzero(population > 0)
    point_cell = used[populated // n_sub]
    sub = populated % n_sub
    x = cells["ix"].to_numpy()[point_cell] * cell_size_m + sub_dx[sub]
    y = cells["iy"].to_numpy()[point_cell] * cell_size_m + sub_dy[sub]
    multiplier = cells["priority_multiplier"].to_numpy(dtype=float)[point_cell]
    return DemandPoints(
        cell=point_cell.astype(np.int64),
        xy=np.column_stack([x, y]),
        population=population[populated],
        people_without_internet=without[populated],
        demand_weight=without[populated] * multiplier,
        subdivisions=s,
        spacing_m=spacing,
    )


def cell_centres(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Return the (n, 2) array of cell centre coordinates."""
    c = cells.geometry.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])
