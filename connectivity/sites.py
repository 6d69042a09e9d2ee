"""Candidate sites: combine the scenario's site layers into one clean, de-duplicated table."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from connectivity.columns import to_number
from connectivity.errors import LayerError
from connectivity.scenario import CandidateLayerSpec
from connectivity.territory import Territory, assign_area

logger = logging.getLogger(__name__)

SITE_COLUMNS = [
    "site_id",
    "name",
    "type",
    "area_code",
    "area_name",
    "cost",
    "site_capex",
    "site_opex_per_year",
    "capacity_users",
    "geometry",
]
"""The candidate table's columns: ``site_capex``, ``site_opex_per_year`` (money, in the
scenario's currency) and ``capacity_users`` (simultaneous users) are NaN where not given."""


def layer_values(
    spec: CandidateLayerSpec, gdf: gpd.GeoDataFrame, rows: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Return each site's capex, opex per year and capacity: the layer's value or column.

    Raises
    ------
    LayerError
        A per-site column with a blank, non-numeric or negative value (or a capacity of 0),
        naming the file, column and rows (counted from 1 after the header).
    """
    out = {}
    for name, value, column in (
        ("site_capex", spec.capex, spec.capex_column),
        ("site_opex_per_year", spec.opex_per_year, spec.opex_column),
        ("capacity_users", spec.capacity_users, spec.capacity_column),
    ):
        if column is None:
            out[name] = np.full(len(gdf), np.nan if value is None else float(value))
            continue
        if column not in gdf.columns:
            raise LayerError(f"{spec.path}: column '{column}' not found")
        numbers = to_number(
            gdf[column], path=spec.path, role=f"candidates ({spec.type})", rows=rows
        )
        values = numbers.to_numpy(dtype=float)
        low = 0.0 if name != "capacity_users" else 1e-12
        bad = ~np.isfinite(values) | (values < low)
        if bad.any():
            where = (np.arange(1, len(values) + 1) if rows is None else np.asarray(rows))[bad]
            shown = ", ".join(str(int(r)) for r in where[:5])
            more = f" and {bad.sum() - 5} more" if bad.sum() > 5 else ""
            what = "above 0" if name == "capacity_users" else "0 or more"
            raise LayerError(
                f"{spec.path}: column '{column}' must hold a number {what} on every row; "
                f"blank, negative or zero at rows {shown}{more}"
            )
        out[name] = values
    return out


def candidates_from_layers(
    layers: Sequence[tuple[CandidateLayerSpec, gpd.GeoDataFrame]],
    territory: Territory,
    *,
    merge_distance_m: float = 5.0,
    values: Sequence[dict[str, np.ndarray]] | None = None,
) -> gpd.GeoDataFrame:
    """Combine point layers into one table of candidate sites.

    Sites closer than ``merge_distance_m`` to each other (for example a school listed twice, or
    a library inside a park) merge into one: the one from the layer listed first in the scenario
    is kept and its cost applies. Each site gets a stable id ``<type>-<n>``, a name, its type,
    its area and cost.

    The table comes out in a canonical order (layer, then easting, northing and name), not in
    the files' row order, so shuffling a file's rows changes neither which site a merge keeps nor
    how the optimiser breaks ties: the plan is the same sites whatever order the rows come in.

    Parameters
    ----------
    layers
        Each candidate layer's scenario entry with its points (metric CRS, inside the territory).
    territory
        Areas that sites are assigned to.
    merge_distance_m
        Sites closer than this merge.
    values
        Per layer, each site's money and capacity (:func:`layer_values`); default: the
        layers' own values.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`SITE_COLUMNS`.
    """
    frames = []
    for layer_index, (spec, gdf) in enumerate(layers):
        if spec.name_column and spec.name_column in gdf.columns:
            names = gdf[spec.name_column].astype("string").str.strip().fillna("")
        else:
            names = pd.Series([""] * len(gdf), dtype="string")
        n = np.arange(1, len(gdf) + 1)
        money = values[layer_index] if values is not None else layer_values(spec, gdf)
        names = names.to_numpy(dtype=object)
        names = np.where(names == "", [f"{spec.type} {i}" for i in n], names)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "site_id": [f"{spec.type}-{i}" for i in n],
                    "name": names,
                    "type": spec.type,
                    "cost": float(spec.cost),
                    **money,
                    "_layer": layer_index,
                },
                geometry=gdf.geometry.to_numpy(),
                crs=gdf.crs,
            )
        )
    if not frames:
        return gpd.GeoDataFrame(columns=SITE_COLUMNS, geometry="geometry")
    sites = pd.concat(frames, ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=frames[0].crs)
    dup = sites["site_id"].duplicated()
    if dup.any():  # two layers with the same type: number them apart
        sites.loc[dup, "site_id"] = [f"{s}-{i}" for i, s in enumerate(sites.loc[dup, "site_id"])]
    sites = canonical_order(sites)
    sites = merge_close_sites(sites, merge_distance_m)
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    area_idx = assign_area(xy[:, 0], xy[:, 1], territory.areas, snap_distance_m=merge_distance_m)
    outside = area_idx < 0
    if outside.any():
        logger.info("candidates: %d sites outside every area left out", int(outside.sum()))
        sites, area_idx = sites.loc[~outside].reset_index(drop=True), area_idx[~outside]
    sites.insert(3, "area_code", territory.areas["area_code"].to_numpy()[area_idx])
    sites.insert(4, "area_name", territory.areas["area_name"].to_numpy()[area_idx])
    counts = sites["type"].value_counts().sort_index()
    logger.info(
        "candidates: %d sites (%s)", len(sites), ", ".join(f"{t} {n}" for t, n in counts.items())
    )
    return sites[SITE_COLUMNS]


def canonical_order(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sort sites by layer (scenario order), easting, northing and name; stable for exact ties."""
    keys = (
        sites["name"].astype(str).to_numpy(),
        sites.geometry.y.to_numpy(),
        sites.geometry.x.to_numpy(),
        sites["_layer"].to_numpy(),
    )
    return sites.iloc[np.lexsort(keys)].reset_index(drop=True)


def merge_close_sites(sites: gpd.GeoDataFrame, merge_distance_m: float) -> gpd.GeoDataFrame:
    """Merge sites within ``merge_distance_m`` of each other, keeping the first of each group.

    Groups are the connected components of the "closer than" relation, so a chain of sites a few
    metres apart becomes one site.
    """
    if len(sites) < 2 or merge_distance_m <= 0:
        return sites
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    pairs = cKDTree(xy).query_pairs(r=merge_distance_m, output_type="ndarray")
    if len(pairs) == 0:
        return sites
    graph = sparse.coo_array(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(sites), len(sites))
    )
    _, label = connected_components(graph, directed=False)
    _, first = np.unique(label, return_index=True)
    keep = np.sort(first)
    logger.info(
        "candidates: %d sites within %g m of another merged",
        len(sites) - len(keep),
        merge_distance_m,
    )
    return sites.iloc[keep].reset_index(drop=True)
