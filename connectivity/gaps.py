"""Gaps: the demand that stays without coverage, as dissolved polygons."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from connectivity.spatial import points_within

logger = logging.getLogger(__name__)


def gaps_from_cells(
    cells: gpd.GeoDataFrame,
    *,
    in_gap: np.ndarray,
    population: np.ndarray,
    people_without_internet: np.ndarray,
    demand_weight: np.ndarray,
) -> gpd.GeoDataFrame:
    """Dissolve the cells of a gap into contiguous polygons within each area.

    See :func:`gap_patches`, which also gives each cell's gap.
    """
    return gap_patches(
        cells,
        in_gap=in_gap,
        population=population,
        people_without_internet=people_without_internet,
        demand_weight=demand_weight,
    )[0]


def gap_patches(
    cells: gpd.GeoDataFrame,
    *,
    in_gap: np.ndarray,
    population: np.ndarray,
    people_without_internet: np.ndarray,
    demand_weight: np.ndarray,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Dissolve the cells of a gap into contiguous polygons within each area.

    Parameters
    ----------
    cells
        Published demand cells (:func:`connectivity.grid.demand_grid`).
    in_gap
        Boolean per cell: the cell belongs to a gap (most of its people are out of reach).
    population, people_without_internet, demand_weight
        Per cell, the people (and their demand) out of reach: what each gap counts.

    Returns
    -------
    GeoDataFrame, ndarray
        One row per contiguous patch: ``gap_id``, ``area_code``, ``area_name``, ``rural``,
        ``n_cells``, ``area_km2``, ``population``, ``people_without_internet``,
        ``demand_weight`` (of the people out of reach), geometry; sorted by area then by
        descending demand weight. And each cell's ``gap_id`` (0 for a cell in no gap).
    """
    values = pd.DataFrame(
        {
            "population": np.asarray(population, dtype=float),
            "people_without_internet": np.asarray(people_without_internet, dtype=float),
            "demand_weight": np.asarray(demand_weight, dtype=float),
        },
        index=cells.index,
    )
    size = _cell_size(cells)
    mask = np.asarray(in_gap, dtype=bool)
    open_cells = cells[["area_code", "area_name", "rural", "ix", "iy", "geometry"]].join(values)
    open_cells = open_cells.loc[mask]
    frames: list[gpd.GeoDataFrame] = []
    part_of_cell = np.full(len(cells), -1, dtype=np.int64)  # row in the gaps before sorting
    rows = np.flatnonzero(mask)
    done = 0
    for (code, name), group in open_cells.groupby(["area_code", "area_name"], sort=True):
        union = shapely.coverage_union_all(group.geometry.to_numpy())
        parts = shapely.get_parts(union)
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
        which = _part_of_cells(group["ix"].to_numpy(), group["iy"].to_numpy(), parts, size)
        table = pd.DataFrame(
            {
                "part": which,
                "n_cells": 1,
                "rural": group["rural"].to_numpy(),
                "population": group["population"].to_numpy(),
                "people_without_internet": group["people_without_internet"].to_numpy(),
                "demand_weight": group["demand_weight"].to_numpy(),
            }
        )
        agg = table.groupby("part").agg(
            n_cells=("n_cells", "sum"),
            rural=("rural", "max"),
            population=("population", "sum"),
            people_without_internet=("people_without_internet", "sum"),
            demand_weight=("demand_weight", "sum"),
        )
        agg = agg[agg.index >= 0]
        frame = gpd.GeoDataFrame(
            agg.reset_index(drop=True),
            geometry=parts[agg.index.to_numpy(dtype=np.int64)],
            crs=cells.crs,
        )
        frame.insert(0, "area_code", code)
        frame.insert(1, "area_name", name)
        frames.append(frame)
        row_of_part = np.full(len(parts), -1, dtype=np.int64)
        row_of_part[agg.index.to_numpy(dtype=np.int64)] = done + np.arange(len(agg))
        members = rows[open_cells.index.get_indexer(group.index)]
        part_of_cell[members] = np.where(which >= 0, row_of_part[np.maximum(which, 0)], -1)
        done += len(agg)
    columns = [
        "area_code",
        "area_name",
        "rural",
        "n_cells",
        "population",
        "people_without_internet",
        "demand_weight",
        "geometry",
    ]
    if frames:
        gaps = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=cells.crs)[columns]
    else:
        gaps = gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=cells.crs)
    gaps["n_cells"] = gaps["n_cells"].astype(np.int64)
    gaps["rural"] = gaps["rural"].astype(bool)
    gaps.insert(5, "area_km2", gaps.area / 1e6)
    order = np.lexsort((-gaps["demand_weight"].to_numpy(dtype=float), gaps["area_code"].to_numpy()))
    gaps = gaps.iloc[order].reset_index(drop=True)
    gaps.insert(0, "gap_id", np.arange(1, len(gaps) + 1))
    id_of_row = np.zeros(len(gaps), dtype=np.int64)
    id_of_row[order] = gaps["gap_id"].to_numpy()
    cell_ids = np.zeros(len(cells), dtype=np.int64)
    in_a_gap = part_of_cell >= 0
    cell_ids[in_a_gap] = id_of_row[part_of_cell[in_a_gap]]
    logger.info(
        "gaps: %d patches where most people are out of reach, %.0f people out of reach there",
        len(gaps),
        gaps["population"].sum(),
    )
    return gaps, cell_ids


def cell_gap_ids(cells: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame) -> np.ndarray:
    """Return the ``gap_id`` of the gap each cell lies in (0 for a cell in no gap).

    For gaps made from these cells, :func:`gap_patches` gives the same without a search.
    """
    out = np.zeros(len(cells), dtype=np.int64)
    if len(gaps) == 0 or len(cells) == 0:
        return out
    centres = shapely.centroid(cells.geometry.to_numpy())
    cell_idx, gap_idx = points_within(centres, gaps.geometry.to_numpy())
    out[cell_idx] = gaps["gap_id"].to_numpy()[gap_idx]
    return out


def _cell_size(cells: gpd.GeoDataFrame) -> float:
    """Return the side of the grid's square cells (from the first cell's bounds)."""
    if len(cells) == 0:
        return 1.0
    x0, _, x1, _ = shapely.bounds(cells.geometry.to_numpy()[0])
    return float(x1 - x0)


def _part_of_cells(ix: np.ndarray, iy: np.ndarray, parts: np.ndarray, size: float) -> np.ndarray:
    """Return the part (polygon of the cells' union) each cell belongs to, -1 for none.

    The parts of a union of grid squares are its 4-connected groups of cells (squares that
    only touch at a corner are separate parts), so the cells are labelled as such groups
    (:func:`scipy.ndimage.label`) and each group takes the part that holds a point inside it:
    a point in a part's interior lies in one of the part's cells (on a grid line, in both).
    """
    from scipy import ndimage

    out = np.full(len(ix), -1, dtype=np.int64)
    if not len(ix) or not len(parts):
        return out
    x0, y0 = ix.min(), iy.min()
    raster = np.zeros((iy.max() - y0 + 1, ix.max() - x0 + 1), dtype=bool)
    raster[iy - y0, ix - x0] = True
    labels, _ = ndimage.label(raster)  # 4-connectivity
    inner = shapely.point_on_surface(parts)
    px = np.floor(shapely.get_x(inner) / size + 1e-9).astype(np.int64) - x0
    py = np.floor(shapely.get_y(inner) / size + 1e-9).astype(np.int64) - y0
    ok = (px >= 0) & (py >= 0) & (px < raster.shape[1]) & (py < raster.shape[0])
    part_of_label = np.full(labels.max() + 1, -1, dtype=np.int64)
    found = labels[py[ok], px[ok]]
    part_of_label[found[found > 0]] = np.flatnonzero(ok)[found > 0]
    return part_of_label[labels[iy - y0, ix - x0]]
