"""Demand: population and priority groups spread onto a regular grid of cells.

The demographic units (census sectors, comunas) are joined to their table, then their counts
are spread onto square cells by area weighting: a cell receives from each unit the share of the
unit's area that it holds. Counts are conserved exactly (every unit's shares add up to one).

Each cell's *demand weight* is the number of people without home internet times a priority
multiplier::

    multiplier = 1 + sum_g m_g * share_g + m_rural * rural

where ``share_g`` is the cell's share of people in priority group ``g`` (women, young people,
older people; or a 0–1 share such as households in strata 1–2) and ``m_g`` the weight the
scenario gives that group.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from connectivity.errors import LayerError
from connectivity.layers import require_columns, to_number
from connectivity.scenario import DemandSpec, GroupSpec
from connectivity.territory import Territory, assign_area

logger = logging.getLogger(__name__)


def units_from_layers(
    layer: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    spec: DemandSpec,
    *,
    path: str = "",
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """Join the demographic layer to its table and keep the columns demand needs.

    Parameters
    ----------
    layer
        Polygons of the demographic units (metric CRS).
    table
        The joined table, or ``None`` when the layer carries every column itself.
    spec
        The scenario's demand section.
    path
        File name used in messages.
    strict
        Make units without a table row an error rather than a warning.

    Returns
    -------
    GeoDataFrame
        Columns ``unit_id``, ``population``, ``internet_share`` (NaN if unknown), one column per
        priority group (persons for ``count`` groups, 0–1 for ``share`` groups), ``geometry``.

    Raises
    ------
    LayerError
        The join matches no row, a key repeats, or a value is negative or not a number.
    """
    frame = layer.copy()
    require_columns(frame, [spec.id_column], spec.layer.path, "demand.layer")
    frame[spec.id_column] = frame[spec.id_column].astype(str).str.strip()
    dup_ids = frame[spec.id_column].duplicated()
    if dup_ids.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(dup_ids.to_numpy())[:5])
        first = frame.loc[dup_ids, spec.id_column].iloc[0]
        raise LayerError(
            f"{spec.layer.path} (demand.layer): the id column '{spec.id_column}' repeats "
            f"{int(dup_ids.sum())} ids (rows {rows}; first {first!r})"
        )
    source = frame
    if spec.join is not None and table is not None:
        key = spec.join.key
        tkey = spec.join.table_key or spec.join.key
        require_columns(frame, [key], spec.layer.path, "demand.layer")
        table = table.copy()
        table[tkey] = table[tkey].astype(str).str.strip()
        frame[key] = frame[key].astype(str).str.strip()
        dup = table[tkey].duplicated()
        if dup.any():
            raise LayerError(
                f"{spec.join.table.path} (demand.join.table): the key '{tkey}' repeats "
                f"({int(dup.sum())} duplicates, first {table.loc[dup, tkey].iloc[0]!r})"
            )
        wanted = [c for c in value_columns(spec) if c != tkey]
        table_cols = table[[tkey, *wanted]].rename(columns={tkey: "__key"})
        # the table's columns win over same-named layer columns
        frame = frame.drop(columns=[c for c in wanted if c in frame.columns])
        source = frame.merge(table_cols, left_on=key, right_on="__key", how="left")
        matched = source["__key"].notna()
        if not matched.any():
            raise LayerError(
                f"demand.join: no row of {spec.join.table.path.name} matches "
                f"{spec.layer.path.name} on '{key}' = '{tkey}' (layer keys look like "
                f"{frame[key].iloc[0]!r}, table keys like {table[tkey].iloc[0]!r})"
            )
        if not matched.all() and strict:
            raise LayerError(
                f"demand.join: {int((~matched).sum())} of {len(source)} units of "
                f"{spec.layer.path.name} have no row in {spec.join.table.path.name} "
                f"(first {source.loc[~matched, key].iloc[0]!r}); --strict turns this into an error"
            )
        if not matched.all():
            logger.warning(
                "demand.join: %d of %d units of %s have no row in %s; they get no population",
                int((~matched).sum()),
                len(source),
                spec.layer.path.name,
                spec.join.table.path.name,
            )
        unused = len(table) - int(matched.sum())
        if unused:
            logger.info(  # normal for a study area: a line, not a warning
                "demand.join: %d rows of %s match no unit", unused, spec.join.table.path.name
            )
    require_columns(source, value_columns(spec), spec.layer.path, "demand")

    out = gpd.GeoDataFrame(
        {"unit_id": source[spec.id_column].to_numpy()},
        geometry=source.geometry.to_numpy(),
        crs=layer.crs,
    )
    src = path or str(spec.layer.path)
    out["population"] = _numbers(source, spec.population_column, src).fillna(0.0).to_numpy()
    if spec.internet_share_column:
        share = _numbers(source, spec.internet_share_column, src)
        _check_share(share, spec.internet_share_column, src)
        out["internet_share"] = share.to_numpy()
    else:
        logger.warning(
            "demand: no internet_share_column in the scenario; every resident counts as a "
            "person without home internet"
        )
        out["internet_share"] = np.nan
    for name, group in spec.groups.items():
        values = pd.concat(
            [_numbers(source, c, src).fillna(0.0) for c in group.columns], axis=1
        ).sum(axis=1)
        if group.kind == "share":
            _check_share(values, "+".join(group.columns), src)
        out[name] = np.asarray(values, dtype=float)
    negative = (out.drop(columns=["unit_id", "geometry"]) < 0).any(axis=1)
    if negative.any():
        raise LayerError(
            f"{src}: negative population or group values in unit "
            f"{out.loc[negative, 'unit_id'].iloc[0]!r}"
        )
    return out


def value_columns(spec: DemandSpec) -> list[str]:
    """Columns demand reads: population, internet share and every group's columns."""
    cols = [spec.population_column]
    if spec.internet_share_column:
        cols.append(spec.internet_share_column)
    for group in spec.groups.values():
        cols += group.columns
    return list(dict.fromkeys(cols))


def _numbers(frame: pd.DataFrame, column: str, path: str) -> pd.Series:
    from pathlib import Path

    return to_number(frame[column], path=Path(path), role="demand")


def _check_share(values: pd.Series, column: str, path: str) -> None:
    bad = (values < 0) | (values > 1 + 1e-9)
    if bad.any():
        raise LayerError(
            f"{path} (demand): '{column}' must be a share between 0 and 1; "
            f"found {float(values[bad].iloc[0])!r} at row {int(np.flatnonzero(bad.to_numpy())[0])}"
        )


def grid_pairs(
    geoms: np.ndarray, cell_size_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intersect polygons with the square grid whose lines are multiples of ``cell_size_m``.

    Returns
    -------
    unit, ix, iy, area_m2
        One entry per (polygon, cell) pair with a positive intersection area.
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
    return unit[keep], ix[keep], iy[keep], area[keep]


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

    Parameters
    ----------
    units
        Output of :func:`units_from_layers` (metric CRS).
    territory
        Areas each cell is assigned to (by the cell's centre) and the rural land.
    cell_size_m
        Side of the square cells, in metres. Cells are aligned on multiples of it.
    groups
        Priority groups (kind and multiplier); their columns must be in ``units``.
    rural_multiplier
        Added to the priority multiplier of rural cells.
    snap_distance_m
        A cell whose centre is in no area joins the nearest area within this distance; beyond
        it the cell (and its population) is left out and logged.

    Returns
    -------
    GeoDataFrame
        One row per populated cell: ``cell_id``, ``ix``, ``iy``, ``area_code``, ``area_name``,
        ``rural``, ``population``, one column per count group (persons), ``<group>_share`` per
        share group, ``no_internet_share``, ``people_without_internet``,
        ``priority_multiplier``, ``demand_weight``, ``geometry`` (the cell square).
    """
    groups = groups or {}
    geoms = units.geometry.to_numpy()
    unit, ix, iy, area = grid_pairs(geoms, cell_size_m)
    unit_area = np.bincount(unit, weights=area, minlength=len(units))
    frac = area / unit_area[unit]
    pop_unit = units["population"].to_numpy(dtype=float)
    pop = pop_unit[unit] * frac
    internet = units["internet_share"].to_numpy(dtype=float)
    no_internet_unit = np.where(np.isnan(internet), 1.0, 1.0 - internet)
    data: dict[str, np.ndarray] = {
        "ix": ix,
        "iy": iy,
        "population": pop,
        "people_without_internet": pop * no_internet_unit[unit],
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
    return out


def priority_multiplier(
    cells: pd.DataFrame, groups: dict[str, GroupSpec], rural_multiplier: float
) -> np.ndarray:
    """Return ``1 + sum_g m_g * share_g + m_rural * rural`` for each cell."""
    pop = cells["population"].to_numpy(dtype=float)
    mult = np.ones(len(cells))
    for name, group in groups.items():
        if group.kind == "count":
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(pop > 0, cells[name].to_numpy(dtype=float) / pop, 0.0)
            share = np.clip(share, 0.0, 1.0)
        else:
            share = cells[f"{name}_share"].to_numpy(dtype=float)
        mult += group.multiplier * share
    mult += rural_multiplier * cells["rural"].to_numpy(dtype=float)
    return mult


def cell_centres(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Return the (n, 2) array of cell centre coordinates."""
    c = cells.geometry.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])
