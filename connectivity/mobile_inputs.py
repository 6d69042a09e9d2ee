"""Reading what mobile coverage is judged from: DEM, measurements, transmitters, calibration.

The pipeline's mobile stage: each source read through the run's :class:`~connectivity.reading.
Inputs` (checked and recorded), then :func:`connectivity.mobile.mobile_coverage`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from connectivity import grid, measured, mobile, propagation
from connectivity.columns import TABLE_SUFFIXES, to_number
from connectivity.errors import LayerError
from connectivity.files import layer_files
from connectivity.layers import read_dem
from connectivity.reading import Inputs
from connectivity.scenario import MeasuredSpec, MobileSpec

logger = logging.getLogger("connectivity.pipeline")


def mobile_coverage(
    inputs: Inputs, mob: MobileSpec, cells: gpd.GeoDataFrame
) -> tuple[mobile.MobileCoverage, propagation.Terrain | None]:
    """Existing mobile coverage per published cell (radio reach is kilometres: per cell)."""
    terrain_model = None
    if mob.terrain is not None:
        terrain_model = read_dem(mob.terrain, metric_crs=inputs.metric)
        inputs.files.append(mob.terrain)
    sources = []
    for i, mspec in enumerate(mob.measured):
        shapes, quality = _read_measured(mspec, f"mobile.measured[{i}]", inputs)
        inputs.files.extend(layer_files(mspec))
        sources.append((mspec, measured.measured_on_cells(cells, shapes, quality)))
    transmitters: list[propagation.Transmitter] = []
    if mob.transmitters is not None:
        spec_t = mob.transmitters
        points, report = inputs.layer_with_report(spec_t, "mobile.transmitters", geometry="point")
        transmitters = mobile.transmitters_from_points(points, spec_t, mob, rows=report.file_rows)
    calibrations = {}
    if mob.calibration is not None:
        cal = mob.calibration
        samples, report = inputs.layer_with_report(cal, "mobile.calibration", geometry="point")
        dbm = to_number(
            samples[cal.dbm_column], path=cal.path, role="mobile.calibration", rows=report.file_rows
        ).to_numpy()
        radio = mob.radio_for(cal.technology)
        assert radio is not None  # checked with the scenario
        calibrations[radio.technology] = mobile.calibrate(
            samples, dbm, transmitters, radio.technology
        )
    centres = grid.cell_centres(cells)
    cov = mobile.mobile_coverage(
        mob, cells, centres, transmitters, sources, terrain_model, calibrations
    )
    return cov, terrain_model


def _read_measured(
    spec: MeasuredSpec, role: str, inputs: Inputs
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Read one measured source as polygons (metric CRS) with a quality per polygon."""
    rows = None
    if spec.kind == "places":
        return _read_places(spec, role, inputs)
    if spec.kind == "speedtest" and spec.path.suffix.lower() in TABLE_SUFFIXES:
        table = inputs.table(
            spec, role, [spec.quadkey_column, spec.download_column, spec.tests_column or ""]
        )
        tiles = measured.tiles_from_quadkeys(table, spec.quadkey_column, source=str(spec.path))
        shapes = tiles.to_crs(inputs.metric)
    else:
        shapes, report = inputs.layer_with_report(spec, role, geometry="polygon")
        rows = report.file_rows
    if spec.kind == "polygons":
        return shapes, np.full(len(shapes), measured.QUALITY[spec.coverage_class])
    download = to_number(
        shapes[spec.download_column], path=spec.path, role=role, rows=rows
    ).to_numpy()
    if spec.speed_unit == "kbps":
        download = download / 1000.0
    keep = np.isfinite(download)
    if spec.tests_column:
        tests = to_number(
            shapes[spec.tests_column], path=spec.path, role=role, rows=rows
        ).to_numpy()
        keep &= tests >= spec.min_tests
    classes = measured.speed_class(
        download[keep], basic_mbps=spec.basic_mbps, good_mbps=spec.good_mbps
    )
    quality = np.array([measured.QUALITY[c] for c in classes], dtype=float)
    return shapes.loc[keep].reset_index(drop=True), quality


def _read_places(
    spec: MeasuredSpec, role: str, inputs: Inputs
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Read a coverage-by-place table onto its places: polygons, or points with an extent."""
    assert spec.places is not None  # checked with the scenario
    columns = spec.place_table_columns
    table = inputs.table(spec, role, columns)
    places = inputs.layer(spec.places, f"{role}.places", expected=[spec.places_code_column])
    quality = measured.quality_by_place(
        table,
        place_column=spec.place_column,
        period_columns=spec.period_columns,
        good_columns=spec.good_columns,
        basic_columns=spec.basic_columns,
        available=spec.available_value,
    )
    codes = measured.place_codes(places[spec.places_code_column])
    width = max(int(codes.str.len().max() or 0), int(quality.index.str.len().max() or 0))
    codes = codes.str.zfill(width)
    quality.index = quality.index.str.zfill(width)
    known = codes.isin(quality.index).to_numpy()
    shapes = places.loc[known].reset_index(drop=True)
    if len(shapes) and shapes.geom_type.isin(["Point", "MultiPoint"]).any():
        if spec.places_radius_m is None:
            raise LayerError(
                f"{spec.places.path}: the places are points; give {role}.places_radius_m, the "
                "extent each place's coverage is taken to have"
            )
        shapes = shapes.set_geometry(shapes.buffer(spec.places_radius_m))
    values = quality.reindex(codes[known]).to_numpy(dtype=float)
    logger.info(
        "%s: %d places with measured coverage (%d good, %d basic, %d none) of %d in the table",
        role,
        len(shapes),
        int((values == 1).sum()),
        int((values == 0.5).sum()),
        int((values == 0).sum()),
        len(quality),
    )
    return shapes[["geometry"]], values
