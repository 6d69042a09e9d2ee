"""Mobile coverage on the demand grid: modelled, measured, and new rural tower sites.

Pure functions between the pipeline's reading and writing: transmitters and radio settings in,
per-cell coverage quality out (0 none, 0.5 basic, 1 good), measured sources overriding the
model where they exist. :func:`propose_towers` clusters the demand still without coverage
(weighted k-means, scikit-learn) into candidate tower sites; :func:`tower_coverage` models
what each candidate would cover, for the optimiser to choose among them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from connectivity import measured, propagation
from connectivity.errors import LayerError
from connectivity.measured import QUALITY
from connectivity.scenario import (
    MeasuredSpec,
    MobileSpec,
    NewTowersSpec,
    RadioSpec,
    TransmitterLayerSpec,
)
from connectivity.sites import SITE_COLUMNS
from connectivity.territory import Territory, assign_area

logger = logging.getLogger(__name__)

TOWER_TYPE = "torre_nueva"


def transmitters_from_points(
    points: gpd.GeoDataFrame,
    spec: TransmitterLayerSpec,
    mob: MobileSpec,
    *,
    rows: np.ndarray | None = None,
) -> list[propagation.Transmitter]:
    """Transmitters at points (metric CRS) with their technology's radio, or per-row columns.

    ``rows`` gives each point's row in its file (from 1), for messages.

    Raises
    ------
    LayerError
        Naming the rows whose technology has no radio in the scenario.
    """
    from connectivity.columns import to_number

    n = len(points)
    file_rows = np.asarray(rows) if rows is not None else np.arange(1, n + 1)
    if spec.technology_column:
        techs = points[spec.technology_column].astype("string").str.strip().fillna("")
        radios = [mob.radio_for(str(t)) for t in techs]
        unknown = [i for i, r in enumerate(radios) if r is None]
        if unknown:
            known = ", ".join(r.technology for r in [mob.radio, *mob.radios])
            first = ", ".join(str(int(file_rows[i])) for i in unknown[:5])
            raise LayerError(
                f"{spec.path}: column '{spec.technology_column}' has technologies with no radio "
                f"in the scenario (rows {first}; radios: {known}); add them under mobile.radios"
            )
    else:
        radios = [mob.radio] * n
    by_row = [r for r in radios if r is not None]
    power = np.array([r.power_dbm for r in by_row], dtype=float).reshape(n)
    height = np.array([r.height_m for r in by_row], dtype=float).reshape(n)
    if spec.power_column:
        power = to_number(
            points[spec.power_column], path=spec.path, role="mobile.transmitters", rows=file_rows
        ).to_numpy()
    if spec.height_column:
        height = to_number(
            points[spec.height_column], path=spec.path, role="mobile.transmitters", rows=file_rows
        ).to_numpy()
    return [
        propagation.Transmitter(
            x=float(p.x),
            y=float(p.y),
            power_dbm=float(pw),
            frequency_mhz=r.frequency_mhz,
            height_m=float(h),
            technology=r.technology,
        )
        for p, pw, h, r in zip(points.geometry, power, height, by_row, strict=True)
    ]


def calibrate(
    samples: gpd.GeoDataFrame,
    dbm: np.ndarray,
    transmitters: list[propagation.Transmitter],
    technology: str,
) -> propagation.Calibration:
    """Fit the log-distance model to signal samples, each paired with its nearest transmitter."""
    from scipy.spatial import cKDTree

    own = [t for t in transmitters if t.technology == technology]
    if not own:
        raise propagation.PropagationRangeError(
            f"calibration: no transmitter of technology {technology!r} to measure from"
        )
    tx_xy = np.array([[t.x, t.y] for t in own])
    xy = np.column_stack([samples.geometry.x, samples.geometry.y])
    dist, idx = cKDTree(tx_xy).query(xy)
    power = np.array([own[i].power_dbm for i in idx])
    return propagation.calibrate_log_distance(dist, dbm, transmit_power_dbm=power)


def radio_loss(
    radio: RadioSpec,
    *,
    rural: bool = True,
    calibration: propagation.Calibration | None = None,
) -> propagation.LossFunction:
    """Return the radio's path-loss function for receivers on rural or urban land."""
    return propagation.loss_function(
        radio.model,
        area=radio.area if rural else radio.urban_area,
        exponent=radio.exponent,
        receiver_height_m=radio.receiver_height_m,
        calibration=calibration,
    )


def signal_on_points(
    points_xy: np.ndarray,
    transmitters: list[propagation.Transmitter],
    radio: RadioSpec,
    terrain: propagation.Terrain | None,
    rural: np.ndarray | None = None,
    calibration: propagation.Calibration | None = None,
) -> propagation.Signal:
    """Best received power at points from the transmitters, with the radio's model.

    ``rural`` marks the points on rural land (the radio's ``area``); the others get its
    ``urban_area``. Without it every point counts as rural.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    on_rural = np.ones(len(pts), dtype=bool) if rural is None else np.asarray(rural, dtype=bool)
    power = np.full(len(pts), propagation.NODATA_DBM)
    los = np.zeros(len(pts), dtype=bool)
    best = np.full(len(pts), -1, dtype=np.int64)
    for is_rural in (True, False):
        idx = np.flatnonzero(on_rural == is_rural)
        if not len(idx):
            continue
        part = propagation.received_power_at(
            pts[idx],
            transmitters,
            loss_db=radio_loss(radio, rural=is_rural, calibration=calibration),
            max_range_m=radio.max_range_m,
            terrain=terrain,
            receiver_height_m=radio.receiver_height_m,
        )
        power[idx], los[idx], best[idx] = part.power_dbm, part.line_of_sight, part.best_transmitter
    return propagation.Signal(power_dbm=power, line_of_sight=los, best_transmitter=best)


def best_coverage(
    points_xy: np.ndarray,
    transmitters: list[propagation.Transmitter],
    mob: MobileSpec,
    terrain: propagation.Terrain | None,
    rural: np.ndarray | None = None,
    calibrations: dict[str, propagation.Calibration] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best power, coverage quality and line of sight over every technology's transmitters.

    Each technology is modelled with its own radio and judged by its own thresholds; a point's
    quality is the best any technology gives it.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    power = np.full(len(pts), propagation.NODATA_DBM)
    quality = np.zeros(len(pts))
    los = np.zeros(len(pts), dtype=bool)
    for radio in [mob.radio, *mob.radios]:
        default = radio is mob.radio  # a transmitter without a technology uses the default radio
        own = [
            t
            for t in transmitters
            if t.technology == radio.technology or (default and not t.technology)
        ]
        if not own:
            continue
        cal = (calibrations or {}).get(radio.technology)
        signal = signal_on_points(pts, own, radio, terrain, rural, cal)
        np.maximum(power, signal.power_dbm, out=power)
        np.maximum(quality, quality_from_power(signal.power_dbm, radio), out=quality)
        los |= signal.line_of_sight
    return power, quality, los


def quality_from_power(power_dbm: np.ndarray, radio: RadioSpec) -> np.ndarray:
    """Coverage quality from received power: 0, 0.5 (basic) or 1 (good)."""
    cls = propagation.coverage_class(power_dbm, basic_dbm=radio.basic_dbm, good_dbm=radio.good_dbm)
    return np.choose(cls, [QUALITY["none"], QUALITY["basic"], QUALITY["good"]])


def propose_towers(
    cells: gpd.GeoDataFrame,
    centres: np.ndarray,
    existing_quality: np.ndarray,
    territory: Territory,
    spec: NewTowersSpec,
) -> gpd.GeoDataFrame:
    """Candidate tower sites at the centres of the uncovered priority-weighted demand.

    Weighted k-means over the cells whose existing coverage is below good (on rural land with
    ``rural_only``); the weight is the demand still uncovered. Returns candidates with the
    columns of :func:`connectivity.sites.candidates_from_layers` (empty when no demand is left).
    """
    from sklearn.cluster import KMeans

    gap = cells["demand_weight"].to_numpy() * (1.0 - np.asarray(existing_quality))
    use = gap > 0
    if spec.rural_only:
        use &= cells["rural"].to_numpy(dtype=bool)
    xy, w = centres[use], gap[use]
    k = min(spec.count, len(xy))
    columns = SITE_COLUMNS[:-1]
    if k == 0:
        logger.warning("new towers: no uncovered demand to place towers on")
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=cells.crs)
    km = KMeans(n_clusters=k, n_init=10, random_state=spec.seed).fit(xy, sample_weight=w)
    sites = km.cluster_centers_
    area = assign_area(sites[:, 0], sites[:, 1], territory.areas, snap_distance_m=5000.0)
    ok = area >= 0
    sites, area = sites[ok], area[ok]
    order = np.argsort(-np.bincount(km.labels_, weights=w, minlength=k)[ok], kind="stable")
    sites, area = sites[order], area[order]
    n = np.arange(1, len(sites) + 1)
    towers = gpd.GeoDataFrame(
        {
            "site_id": [f"{TOWER_TYPE}-{i}" for i in n],
            "name": [f"Torre propuesta {i}" for i in n],
            "type": TOWER_TYPE,
            "area_code": territory.areas["area_code"].to_numpy()[area],
            "area_name": territory.areas["area_name"].to_numpy()[area],
            "cost": float(spec.cost),
            "site_capex": np.nan if spec.capex is None else float(spec.capex),
            "site_opex_per_year": np.nan if spec.opex_per_year is None else spec.opex_per_year,
            "capacity_users": np.nan,  # a tower's capacity is not modelled
        },
        geometry=gpd.points_from_xy(sites[:, 0], sites[:, 1]),
        crs=cells.crs,
    )
    logger.info(
        "new towers: %d candidate sites from weighted k-means over %d uncovered cells",
        len(towers),
        int(use.sum()),
    )
    return towers


def tower_transmitter(x: float, y: float, radio: RadioSpec) -> propagation.Transmitter:
    """Return a new tower at a point, with the radio's power, frequency, height, technology."""
    return propagation.Transmitter(
        x=x,
        y=y,
        power_dbm=radio.power_dbm,
        frequency_mhz=radio.frequency_mhz,
        height_m=radio.height_m,
        technology=radio.technology,
    )


def tower_coverage(
    towers_xy: np.ndarray,
    centres: np.ndarray,
    radio: RadioSpec,
    terrain: propagation.Terrain | None,
    rural: np.ndarray | None = None,
) -> sparse.csr_array:
    """Site × cell coverage quality of candidate towers from the propagation model."""
    rows = []
    for x, y in np.asarray(towers_xy, dtype=float).reshape(-1, 2):
        t = propagation.Transmitter(
            x=x,
            y=y,
            power_dbm=radio.power_dbm,
            frequency_mhz=radio.frequency_mhz,
            height_m=radio.height_m,
            technology=radio.technology,
        )
        quality = quality_from_power(
            signal_on_points(centres, [t], radio, terrain).power_dbm, radio
        )
        rows.append(sparse.csr_array(quality.reshape(1, -1)))
    if not rows:
        return sparse.csr_array((0, len(centres)), dtype=float)
    matrix = sparse.vstack(rows, format="csr")
    matrix.eliminate_zeros()
    return sparse.csr_array(matrix)


@dataclass
class MobileCoverage:
    """Existing mobile coverage per cell and where each value comes from.

    Attributes
    ----------
    quality
        0–1 per cell (0 where unknown).
    source
        Per cell: ``"measured: <file>"``, ``"model"`` or ``"unknown"``.
    sources
        One row per source: name, kind, share of the territory's cells it covers and share of
        the people.
    known
        Whether any transmitter or measured source was given.
    terrain
        Whether a DEM was used.
    transmitters
        Existing transmitters.
    line_of_sight
        With a DEM: whether a cell sees a transmitter in range.
    calibrations
        Log-distance models fitted to measured samples, by technology.
    """

    quality: np.ndarray
    source: np.ndarray
    sources: pd.DataFrame
    known: bool
    terrain: bool
    transmitters: list[propagation.Transmitter] = field(default_factory=list)
    line_of_sight: np.ndarray | None = None
    calibrations: dict[str, propagation.Calibration] = field(default_factory=dict)


def source_summary(
    name: str, kind: str, measured: np.ndarray, cells: gpd.GeoDataFrame
) -> dict[str, object]:
    """How much of the territory (cells, area and people) a source says something about."""
    pop = cells["population"].to_numpy()
    share_cells = float(measured.mean()) if len(measured) else 0.0
    share_people = float(pop[measured].sum() / pop.sum()) if pop.sum() > 0 else 0.0
    logger.info(
        "mobile coverage: %s (%s) covers %.1f%% of the cells and %.1f%% of the people",
        name,
        kind,
        100 * share_cells,
        100 * share_people,
    )
    return {
        "source": name,
        "kind": kind,
        "pct_cells": round(100 * share_cells, 2),
        "pct_people": round(100 * share_people, 2),
    }


def mobile_coverage(
    mob: MobileSpec,
    cells: gpd.GeoDataFrame,
    centres: np.ndarray,
    transmitters: list[propagation.Transmitter],
    sources: list[tuple[MeasuredSpec, measured.MeasuredCells]],
    terrain: propagation.Terrain | None,
    calibrations: dict[str, propagation.Calibration],
) -> MobileCoverage:
    """Existing mobile coverage per cell: the model, overridden where measured."""
    summary = []
    line_of_sight = None
    if transmitters:
        power, modelled, los = best_coverage(
            centres, transmitters, mob, terrain, cells["rural"].to_numpy(), calibrations
        )
        line_of_sight = los if terrain is not None else None
        techs = sorted({t.technology for t in transmitters})
        summary.append(
            source_summary(
                f"{len(transmitters)} transmitters ({', '.join(techs)})",
                "model",
                power > propagation.NODATA_DBM,
                cells,
            )
        )
    else:
        modelled = np.zeros(len(cells))
    quality, source_idx = measured.override(modelled, [m for _, m in sources])
    names = [f"measured: {spec.path.name}" for spec, _ in sources]
    by_index = np.array([*names, "model" if transmitters else "unknown"], dtype=object)
    source = by_index[source_idx]  # index -1, where nothing was measured, is the model
    for (spec, m), name in zip(sources, names, strict=True):
        summary.append(source_summary(name, spec.kind, m.measured, cells))
    known = bool(transmitters or sources)
    if not known:
        logger.warning(
            "mobile coverage: no transmitters and no measurements given; existing mobile "
            "coverage is unknown and counted as none"
        )
    return MobileCoverage(
        quality=quality,
        source=source,
        sources=pd.DataFrame(summary, columns=["source", "kind", "pct_cells", "pct_people"]),
        known=known,
        terrain=terrain is not None,
        transmitters=transmitters,
        line_of_sight=line_of_sight,
        calibrations=calibrations,
    )


def signal_raster(
    territory: Territory,
    cell_size_m: float,
    transmitters: list[propagation.Transmitter],
    mob: MobileSpec,
    terrain: propagation.Terrain | None,
    calibrations: dict[str, propagation.Calibration],
) -> propagation.SignalRaster:
    """Received power from the best of ``transmitters`` on the demand grid (dBm, float32)."""
    grid = propagation.Grid.covering(territory.outline.bounds, cell_size_m)
    rural = territory.rural

    def power_at(xy: np.ndarray) -> np.ndarray:
        on_rural = shapely.contains_xy(rural, xy[:, 0], xy[:, 1])
        power, _, _ = best_coverage(xy, transmitters, mob, terrain, on_rural, calibrations)
        return power

    rows = [values for _, values in propagation.power_windows(grid, power_at)]
    return propagation.SignalRaster(grid=grid, power=np.vstack(rows).astype("float32"))
