"""The territory: administrative areas (localities, comunas) and where the rural land is."""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from connectivity.errors import LayerError
from connectivity.spatial import points_within

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Territory:
    """Administrative areas in one metric CRS, and the rural land.

    Attributes
    ----------
    areas
        One row per area with columns ``area_code``, ``area_name``, ``area_km2``,
        ``rural_km2`` and ``geometry``.
    rural
        Union of the rural land (whole rural areas plus the rural layer), possibly empty.
    excluded
        Union of the boundary layer's areas left out of a study area (``include``); demand
        there is dropped rather than snapped to the nearest included area.
    """

    areas: gpd.GeoDataFrame
    rural: shapely.Geometry
    excluded: shapely.Geometry = dataclasses.field(default_factory=shapely.Polygon)

    @functools.cached_property
    def outline(self) -> shapely.Geometry:
        """Union of every area (computed once, prepared for fast point tests)."""
        union = shapely.union_all(self.areas.geometry.to_numpy())
        shapely.prepare(union)
        return union


def territory_from_layers(
    boundaries: gpd.GeoDataFrame,
    *,
    id_column: str,
    name_column: str,
    include: list[str] | None = None,
    rural_ids: list[str] | None = None,
    rural_layer: gpd.GeoDataFrame | None = None,
    bbox: list[float] | None = None,
) -> Territory:
    """Build a :class:`Territory` from a boundary layer and an optional rural layer.

    Parameters
    ----------
    boundaries
        Polygons of the administrative areas, in a metric CRS.
    id_column, name_column
        Columns holding each area's code and name. Codes are kept as text ("01").
    include
        Keep only these area codes (a study area); empty keeps every area.
    rural_ids
        Codes of areas that are wholly rural (for Bogotá, Sumapaz, "20").
    rural_layer
        Polygons of rural land (for Bogotá, the UPR units), same CRS as ``boundaries``.
    bbox
        ``[min_lon, min_lat, max_lon, max_lat]``: clip the areas to this study box; areas
        left empty are dropped.

    Returns
    -------
    Territory

    Raises
    ------
    LayerError
        Duplicate or unknown area codes.
    """
    areas = gpd.GeoDataFrame(
        {
            "area_code": boundaries[id_column].astype(str).str.strip().to_numpy(),
            "area_name": boundaries[name_column].astype(str).str.strip().to_numpy(),
        },
        geometry=boundaries.geometry.to_numpy(),
        crs=boundaries.crs,
    )
    dup = areas["area_code"].duplicated(keep=False)
    if dup.any():
        codes = ", ".join(sorted(set(areas.loc[dup, "area_code"])))
        raise LayerError(f"territory: the id column '{id_column}' repeats codes: {codes}")
    for label, wanted in (("include", include), ("rural_ids", rural_ids)):
        unknown = sorted(set(wanted or []) - set(areas["area_code"]))
        if unknown:
            raise LayerError(
                f"territory.{label}: unknown area codes {', '.join(unknown)}; codes in "
                f"'{id_column}': {', '.join(sorted(areas['area_code']))}"
            )
    excluded = shapely.Polygon()
    if include:
        left_out = ~areas["area_code"].isin(include)
        excluded = shapely.union_all(areas.geometry[left_out].to_numpy())
        areas = areas[~left_out]
    if bbox:
        box = gpd.GeoSeries([shapely.box(*bbox)], crs="EPSG:4326").to_crs(areas.crs).iloc[0]
        outside_box = shapely.difference(shapely.union_all(areas.geometry.to_numpy()), box)
        excluded = shapely.union_all([excluded, outside_box])
        areas = areas.assign(geometry=areas.geometry.intersection(box))
        areas = areas[~areas.geometry.is_empty]
        if len(areas) == 0:
            raise LayerError(f"territory.bbox: {bbox} does not overlap any area")
    areas = areas.sort_values("area_code").reset_index(drop=True)

    parts = list(areas.loc[areas["area_code"].isin(rural_ids or []), "geometry"])
    if rural_layer is not None and len(rural_layer):
        parts.append(shapely.union_all(rural_layer.geometry.to_numpy()))
    outline = shapely.union_all(areas.geometry.to_numpy())
    rural = shapely.intersection(shapely.union_all(parts), outline) if parts else shapely.Polygon()
    areas["area_km2"] = areas.area / 1e6
    areas["rural_km2"] = shapely.area(shapely.intersection(areas.geometry.to_numpy(), rural)) / 1e6
    areas = areas[["area_code", "area_name", "area_km2", "rural_km2", "geometry"]]
    logger.info(
        "territory: %d areas, %.1f km² of which %.1f km² rural",
        len(areas),
        float(areas["area_km2"].sum()),
        float(areas["rural_km2"].sum()),
    )
    return Territory(areas=areas, rural=rural, excluded=excluded)


def assign_area(
    points_x: np.ndarray,
    points_y: np.ndarray,
    areas: gpd.GeoDataFrame,
    *,
    snap_distance_m: float = 0.0,
) -> np.ndarray:
    """Return the area index (row position in ``areas``) of each point, or -1 if none.

    A point inside no area joins the nearest area within ``snap_distance_m`` (the edge of a
    census sector can stick out of a locality boundary drawn at another scale). A point inside
    two (overlapping outlines) joins the first of them in ``areas``' order.
    """
    n = len(points_x)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return result
    points = shapely.points(points_x, points_y)
    geoms = areas.geometry.to_numpy()
    pt_idx, area_idx = points_within(points, geoms)
    # a point on a shared edge falls "within" none; one in an overlap of two outlines (slivers
    # of a few m² where boundaries were drawn apart) goes to the first area, by code
    first = np.unique(pt_idx, return_index=True)[1]
    result[pt_idx[first]] = area_idx[first]
    missing = np.flatnonzero(result < 0)
    if len(missing) and snap_distance_m > 0:
        near_pt, near_area = shapely.STRtree(geoms).query_nearest(
            points[missing], max_distance=snap_distance_m, all_matches=False
        )
        result[missing[near_pt]] = near_area
    return result
