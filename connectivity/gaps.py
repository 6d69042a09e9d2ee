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
    GeoDataFrame
        One row per contiguous patch: ``gap_id``, ``area_code``, ``area_name``, ``rural``,
        ``n_cells``, ``area_km2``, ``population``, ``people_without_internet``,
        ``demand_weight`` (of the people out of reach), geometry. Sorted by area then by
        descending demand weight.
    """
    values = pd.DataFrame(
        {
            "population": np.asarray(population, dtype=float),
            "people_without_internet": np.asarray(people_without_internet, dtype=float),
            "demand_weight": np.asarray(demand_weight, dtype=float),
        },
        index=cells.index,
    )
    open_cells = cells[["area_code", "area_name", "rural", "geometry"]].join(values)
    open_cells = open_cells.loc[np.asarray(in_gap, dtype=bool)]
    frames: list[gpd.GeoDataFrame] = []
    for (code, name), group in open_cells.groupby(["area_code", "area_name"], sort=True):
        union = shapely.coverage_union_all(group.geometry.to_numpy())
        parts = shapely.get_parts(union)
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
        centres = shapely.centroid(group.geometry.to_numpy())
        cell_idx, part_idx = points_within(centres, parts)
        which = np.full(len(group), -1)
        which[cell_idx] = part_idx
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
    gaps = gaps.sort_values(
        ["area_code", "demand_weight"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
    gaps.insert(0, "gap_id", np.arange(1, len(gaps) + 1))
    logger.info(
        "gaps: %d patches where most people are out of reach, %.0f people out of reach there",
        len(gaps),
        gaps["population"].sum(),
    )
    return gaps


def cell_gap_ids(cells: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame) -> np.ndarray:
    """Return the ``gap_id`` of the gap each cell lies in (0 for a cell in no gap)."""
    out = np.zeros(len(cells), dtype=np.int64)
    if len(gaps) == 0 or len(cells) == 0:
        return out
    centres = shapely.centroid(cells.geometry.to_numpy())
    cell_idx, gap_idx = points_within(centres, gaps.geometry.to_numpy())
    out[cell_idx] = gaps["gap_id"].to_numpy()[gap_idx]
    return out
