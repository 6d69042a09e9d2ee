"""Reading input layers: vector files, CSV points, OpenStreetMap features, rasters.

Every layer is read, cleaned and brought into one metric CRS here, and every cleaning step is
logged as counts (rows dropped for sentinel coordinates, points outside the territory,
repaired polygons, byte-order marks, stray spaces in column names). What lies downstream can
then assume valid geometries, numeric columns and a single projected CRS.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from connectivity.columns import (
    TABLE_SUFFIXES,
    LoadReport,
    apply_filter,
    is_table,
    read_columns,
    read_csv,
    read_vector,
    require_columns,
    to_number,
)
from connectivity.errors import (
    InputFileError,
    LayerError,
    NoCRSError,
)
from connectivity.files import (
    check_input_file,
    no_sidecar_files,
)
from connectivity.scenario import LayerSpec

if TYPE_CHECKING:
    from connectivity.propagation import Terrain

logger = logging.getLogger(__name__)

_SENTINEL_ABS = 1e30


def geometry_summary(
    spec: LayerSpec, *, metric_crs: str, within: shapely.Geometry | None = None
) -> tuple[np.ndarray, float, float]:
    """Return a polygon layer's bounds per feature, total area and outline length, in metres.

    Reads the geometries only (for estimating a run's size before it starts). With ``within``
    (a polygon in ``metric_crs``: a study area) only the features that reach into it count.

    Raises
    ------
    InputFileError, LayerError
        The file is missing or unreadable.
    """
    check_input_file(spec.path, allow_folder=True)
    try:
        with no_sidecar_files():
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
    if within is not None:
        geoms = geoms[shapely.intersects(geoms, within)]
    return (
        shapely.bounds(geoms),
        float(shapely.area(geoms).sum()),
        float(shapely.length(geoms).sum()),
    )


def count_rows(spec: LayerSpec) -> int:
    """Return how many rows a layer has before any filter (an upper bound on what is kept)."""
    check_input_file(spec.path, allow_folder=not is_table(spec))
    if is_table(spec):
        return len(read_csv(spec, None))
    try:
        with no_sidecar_files():
            return int(pyogrio.read_info(spec.path, layer=spec.layer)["features"])
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise LayerError(f"{spec.path}: cannot read as a vector layer: {exc}") from None


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
    if is_table(spec):
        gdf = _points_from_table(spec, report, expected)
    else:
        gdf = read_vector(spec, report, expected)
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
        gdf = apply_filter(gdf, spec, report)
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
            with np.errstate(all="ignore"):  # degenerate rings (GEOS divides by ~0)
                repaired = shapely.make_valid(gdf.geometry[invalid].to_numpy())
            gdf.loc[invalid, "geometry"] = repaired
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
    frame = read_csv(spec, report, expected=wanted)
    report.rows_read = len(frame)
    if not spec.x_column or not spec.y_column:
        raise LayerError(
            f"{spec.path} ({report.role}): a CSV layer needs 'x_column' and 'y_column' "
            f"(for example LONGITUD and LATITUD). Columns there: {', '.join(frame.columns)}"
        )
    require_columns(frame, [spec.x_column, spec.y_column], spec.path, report.role)
    frame = apply_filter(frame, spec, report)
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
    if path.suffix.lower() in TABLE_SUFFIXES:
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
        with no_sidecar_files():
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
    if not is_table(spec):
        with no_sidecar_files():
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
