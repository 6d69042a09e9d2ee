"""Gaps: the demand that stays without coverage, as dissolved polygons."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)


def gaps_from_cells(cells: gpd.GeoDataFrame, covered: np.ndarray) -> gpd.GeoDataFrame:
    """Dissolve the uncovered cells into contiguous polygons within each area.

    Parameters
    ----------
    cells
        Demand cells (:func:`connectivity.demand.cells_from_units`).
    covered
        Boolean per cell: covered after the plan.

    Returns
    -------
    GeoDataFrame
        One row per contiguous uncovered patch: ``gap_id``, ``area_code``, ``area_name``,
        ``rural``, ``n_cells``, ``area_km2``, ``population``, ``people_without_internet``,
        ``demand_weight``, geometry. Sorted by area then by descending demand weight.
    """
    open_cells = cells.loc[~np.asarray(covered, dtype=bool)]
    frames: list[gpd.GeoDataFrame] = []
    for (code, name), group in open_cells.groupby(["area_code", "area_name"], sort=True):
        union = shapely.coverage_union_all(group.geometry.to_numpy())
        parts = shapely.get_parts(union)
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
        tree = shapely.STRtree(parts)
        centres = shapely.centroid(group.geometry.to_numpy())
        cell_idx, part_idx = tree.query(centres, predicate="within")
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
    logger.info("gaps: %d uncovered patches, %.0f people", len(gaps), gaps["population"].sum())
    return gaps
