"""The one orchestration: scenario → layers → demand & sites → coverage → ranking → outputs."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from connectivity import (
    coverage,
    demand,
    gaps,
    measured,
    mobile,
    network,
    optimise,
    propagation,
    sites,
    territory,
)
from connectivity.errors import LayerError, ScenarioError
from connectivity.layers import (
    LoadReport,
    layer_files,
    read_dem,
    read_layer,
    read_osm_features,
    read_table,
    to_number,
)
from connectivity.scenario import (
    CandidatesSpec,
    LayerSpec,
    MeasuredSpec,
    MethodSpec,
    MobileSpec,
    Scenario,
)

logger = logging.getLogger(__name__)

ProgressFactory = Callable[[str, int], Any]
"""Makes a progress bar: called with a label and a total, returns an object with
``update(n)`` and ``close()`` (a ``tqdm`` bar fits)."""


@dataclass
class Results:
    """Everything a run produced, in the scenario's metric CRS.

    Attributes
    ----------
    scenario
        The resolved scenario.
    territory
        Areas and rural land.
    cells
        Demand cells with ``covered_before``, ``covered_after`` and ``covered_by_rank``
        (0 when not covered by a new site).
    existing_wifi
        Existing public Wi-Fi zones used for coverage.
    candidates
        Every candidate site, with ``rank`` (0 when not chosen).
    selected
        The chosen sites in rank order with their gains.
    gaps
        Uncovered demand after the plan, dissolved.
    gaps_before
        Uncovered demand before the plan, dissolved.
    solution
        The optimiser's answer (objective, bound, gap, method).
    tables
        Extra tables written as ``<name>.csv``: ``plan_comparison`` (with equity floors) and
        ``reach_comparison`` (with walking reach).
    stage_seconds
        Wall time of each stage.
    counts
        Row counts worth reporting (cells, candidates, pairs ...).
    load_reports
        What reading each layer cleaned.
    input_files
        Every file read.
    mobile
        Existing mobile coverage (with a ``mobile`` section in the scenario).
    terrain
        The DEM used for propagation, if any.
    """

    scenario: Scenario
    territory: territory.Territory
    cells: gpd.GeoDataFrame
    existing_wifi: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    selected: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    gaps_before: gpd.GeoDataFrame
    solution: optimise.Solution | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    load_reports: list[LoadReport] = field(default_factory=list)
    input_files: list[Path] = field(default_factory=list)
    mobile: mobile.MobileCoverage | None = None
    terrain: propagation.Terrain | None = None

    @property
    def transmitters(self) -> list[propagation.Transmitter]:
        """Existing transmitters and the new towers the plan chose (for the signal raster)."""
        if self.scenario.mobile is None or self.mobile is None:
            return []
        radio = self.scenario.mobile.radio
        towers = self.selected[self.selected["type"] == mobile.TOWER_TYPE]
        new = [mobile.tower_transmitter(float(p.x), float(p.y), radio) for p in towers.geometry]
        return [*self.mobile.transmitters, *new]

    @property
    def rural_coverage(self) -> dict[str, float]:
        """People on rural land and how many of them are covered before and after the plan."""
        c = self.cells
        rural = c["rural"].to_numpy(dtype=bool)
        people = c["population"].to_numpy()[rural]
        return {
            "people": float(people.sum()),
            "covered_before": float(people @ c["coverage_before"].to_numpy()[rural]),
            "covered_after": float(people @ c["coverage_after"].to_numpy()[rural]),
        }

    @property
    def summary(self) -> dict[str, float]:
        """City-wide key figures: people, coverage before/after, sites and cost."""
        c = self.cells
        pop = float(c["population"].sum())
        weight = float(c["demand_weight"].sum())
        before = c["coverage_before"].to_numpy()
        after = c["coverage_after"].to_numpy()
        people = c["population"].to_numpy()
        w = c["demand_weight"].to_numpy()
        return {
            "population": pop,
            "people_without_internet": float(c["people_without_internet"].sum()),
            "demand_weight": weight,
            "people_covered_before": float(people @ before),
            "people_covered_after": float(people @ after),
            "pct_people_covered_before": _pct(float(people @ before), pop),
            "pct_people_covered_after": _pct(float(people @ after), pop),
            "pct_weight_covered_before": _pct(float(w @ before), weight),
            "pct_weight_covered_after": _pct(float(w @ after), weight),
            "sites_selected": float(len(self.selected)),
            "total_cost": float(self.selected["cost"].sum()) if len(self.selected) else 0.0,
        }


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole > 0 else 0.0


class _Stages:
    def __init__(self, progress: ProgressFactory | None) -> None:
        self.seconds: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        logger.info("stage %s done in %.2f s", name, self.seconds[name])


def run_scenario(
    scenario: Scenario,
    *,
    out_dir: Path | None = None,
    write: bool = True,
    progress: ProgressFactory | None = None,
    strict: bool = False,
) -> Results:
    """Run a scenario end to end and (by default) write its outputs.

    Parameters
    ----------
    scenario
        A scenario from :func:`connectivity.load_scenario`.
    out_dir
        Folder for the outputs; default ``<output.folder>/<scenario name>``.
    write
        Write the outputs (atomically: all of them or none).
    progress
        Optional progress-bar factory for the long stages (the CLI passes ``tqdm``).
    strict
        Turn every warning about input rows left out (bad coordinates, points outside the
        territory, units without a table row) into an error.

    Returns
    -------
    Results

    Raises
    ------
    ConnectivityError
        On any bad input; nothing is written then and earlier outputs stay as they were.
    """
    stages = _Stages(progress)
    reports: list[LoadReport] = []
    files: list[Path] = []
    metric = scenario.territory.metric_crs

    left_out: list[shapely.Geometry] = []  # the territory's parts outside a study area

    def load(spec: LayerSpec, role: str, **kwargs: Any) -> gpd.GeoDataFrame:
        if "clip_to" in kwargs and left_out:
            kwargs["left_out"] = left_out[0]
        gdf, report = read_layer(spec, role=role, metric_crs=metric, strict=strict, **kwargs)
        reports.append(report)
        files.extend(layer_files(spec))
        return gdf

    t = scenario.territory
    with stages.stage("territory"):
        bounds = load(
            t.boundaries,
            "territory.boundaries",
            geometry="polygon",
            expected=[t.id_column, t.name_column],
        )
        for col in (t.id_column, t.name_column):
            if col not in bounds.columns:
                raise LayerError(f"{t.boundaries.path}: column '{col}' not found")
        rural_layer = (
            load(t.rural_layer, "territory.rural_layer", geometry="polygon")
            if t.rural_layer
            else None
        )
        terr = territory.territory_from_layers(
            bounds,
            id_column=t.id_column,
            name_column=t.name_column,
            include=t.include,
            rural_ids=t.rural_ids,
            rural_layer=rural_layer,
            bbox=t.bbox,
        )
        outline = terr.outline
        shapely.prepare(outline)
        left_out.append(terr.excluded)

    d = scenario.demand
    with stages.stage("demand"):
        layer_cols = [d.id_column] + (
            [d.join.key] if d.join is not None else demand.value_columns(d)
        )
        layer = load(d.layer, "demand.layer", geometry="polygon", expected=layer_cols)
        table = None
        if d.join is not None:
            table, report = read_table(
                d.join.table,
                role="demand.join.table",
                strict=strict,
                expected=[d.join.table_key or d.join.key, *demand.value_columns(d)],
            )
            reports.append(report)
            files.extend(layer_files(d.join.table))
        if t.include:  # a study area: keep the units that reach into it
            layer = layer[layer.intersects(outline)].reset_index(drop=True)
        units = demand.units_from_layers(layer, table, d, strict=strict)
        cells = demand.cells_from_units(
            units,
            terr,
            cell_size_m=d.cell_size_m,
            groups=d.groups,
            rural_multiplier=d.rural_multiplier,
            snap_distance_m=d.snap_distance_m,
        )
        if len(cells) == 0:
            raise LayerError(f"{d.layer.path}: no populated cell falls inside the territory")
        centres = demand.cell_centres(cells)

    e = scenario.existing_coverage
    with stages.stage("existing_coverage"):
        if e.wifi is not None:
            wifi_raw = load(
                e.wifi,
                "existing_coverage.wifi",
                geometry="point",
                clip_to=outline,
                expected=[e.name_column] if e.name_column else [],
            )
            name = (
                wifi_raw[e.name_column].astype(str)
                if e.name_column
                else pd.Series([""] * len(wifi_raw))
            )
            wifi = gpd.GeoDataFrame(
                {"name": name.to_numpy()}, geometry=wifi_raw.geometry, crs=wifi_raw.crs
            )
        else:
            wifi = gpd.GeoDataFrame({"name": []}, geometry=[], crs=metric)
        wifi_xy = (
            np.column_stack([wifi.geometry.x, wifi.geometry.y]) if len(wifi) else (np.zeros((0, 2)))
        )
        wifi_before = coverage.covered_by_points(centres, wifi_xy, e.radius_m)
        logger.info("existing coverage: %d zones cover %d cells", len(wifi), int(wifi_before.sum()))

    mob = scenario.mobile
    mobile_cov: mobile.MobileCoverage | None = None
    terrain_model: propagation.Terrain | None = None
    existing = wifi_before.astype(float)
    if mob is not None:
        with stages.stage("mobile_coverage"):
            if mob.terrain is not None:
                terrain_model = read_dem(mob.terrain, metric_crs=metric)
                files.append(mob.terrain)
            sources = []
            for i, mspec in enumerate(mob.measured):
                shapes, quality = _read_measured(
                    mspec, f"mobile.measured[{i}]", load, reports, metric
                )
                files.extend(layer_files(mspec))
                sources.append((mspec, measured.measured_on_cells(cells, shapes, quality)))
            transmitters: list[propagation.Transmitter] = []
            if mob.transmitters is not None:
                spec_t = mob.transmitters
                points = load(spec_t, "mobile.transmitters", geometry="point")
                transmitters = mobile.transmitters_from_points(points, spec_t, mob)
            calibrations = {}
            if mob.calibration is not None:
                cal = mob.calibration
                samples = load(cal, "mobile.calibration", geometry="point")
                dbm = to_number(
                    samples[cal.dbm_column], path=cal.path, role="mobile.calibration"
                ).to_numpy()
                radio = mob.radio_for(cal.technology)
                assert radio is not None  # checked with the scenario
                calibrations[radio.technology] = mobile.calibrate(
                    samples, dbm, transmitters, radio.technology
                )
            mobile_cov = _mobile_coverage(
                mob, cells, centres, transmitters, sources, terrain_model, calibrations
            )
        existing = np.maximum(existing, mobile_cov.quality)
    covered_before = existing > 0

    c = scenario.candidates
    with stages.stage("candidates"):
        loaded = []
        for i, spec in enumerate(c.layers):
            role = f"candidates.layers[{i}] ({spec.type})"
            if spec.osm_tags:
                points, report = read_osm_features(
                    spec, spec.osm_tags, role=role, metric_crs=metric, clip_to=outline
                )
                reports.append(report)
                files.append(spec.path)
                spec = dataclasses.replace(spec, name_column="name")
            else:
                points = load(
                    spec,
                    role,
                    geometry="point",
                    clip_to=outline,
                    expected=[spec.name_column] if spec.name_column else [],
                )
            loaded.append((spec, points))
        cand = sites.candidates_from_layers(loaded, terr, merge_distance_m=c.merge_distance_m)
        if mob is not None and mob.new_towers is not None:
            towers = mobile.propose_towers(cells, centres, existing, terr, mob.new_towers)
            cand = (
                gpd.GeoDataFrame(
                    pd.concat([cand, towers], ignore_index=True), geometry="geometry", crs=metric
                )
                if len(cand)
                else towers
            )
        if scenario.method.sites is not None and scenario.method.sites > len(cand):
            raise ScenarioError(
                [
                    f"method.sites: {scenario.method.sites} is more than the {len(cand)} candidate "
                    "sites inside the territory"
                ],
                str(scenario.source or ""),
            )
        if len(cand) == 0:
            raise LayerError("candidates: no candidate site falls inside the territory")

    with stages.stage("coverage_matrix"):
        is_tower = (cand["type"] == mobile.TOWER_TYPE).to_numpy()
        all_xy = np.column_stack([cand.geometry.x, cand.geometry.y])
        cand_xy = all_xy[~is_tower]  # towers come last, after the Wi-Fi candidates
        matrix = coverage.coverage_matrix(cand_xy, centres, c.radius_m, decay=c.decay)
        straight = matrix
        if c.reach == "walking":
            assert c.network is not None
            streets = network.street_graph_from_osm(
                c.network, metric_crs=metric, cache_dir=network.default_cache_dir()
            )
            files.append(c.network)
            matrix = network.walking_coverage(
                streets, cand_xy, centres, c.walk_cutoff_m or c.radius_m
            )
        if is_tower.any():
            assert mob is not None
            on_rural = cells["rural"].to_numpy(dtype=bool)
            rows = mobile.tower_coverage(
                all_xy[is_tower], centres, mob.radio, terrain_model, on_rural
            )
            if mob.new_towers is not None and mob.new_towers.rural_only:
                rows = sparse.csr_array(rows @ sparse.diags_array(on_rural.astype(float)))
                rows.eliminate_zeros()
            matrix = sparse.csr_array(sparse.vstack([matrix, rows], format="csr"))
            straight = sparse.csr_array(sparse.vstack([straight, rows], format="csr"))

    m = scenario.method
    with stages.stage("optimise"):
        weights = cells["demand_weight"].to_numpy()
        plan = _solve(m, matrix, weights, existing, cand, cells, terr, progress, equity=True)
        tables: dict[str, pd.DataFrame] = {}
        if m.compare_unconstrained and m.constraints.any_floor:
            free = _solve(m, matrix, weights, existing, cand, cells, terr, None, equity=False)
            tables["plan_comparison"] = _comparison_table(plan, free, cand, cells)
        if c.reach == "walking":
            by_line = _solve(m, straight, weights, existing, cand, cells, terr, None, equity=True)
            tables["reach_comparison"] = _reach_table(
                plan, by_line, matrix, straight, cells, c, existing
            )
        ranking = plan.ranking
        cells["coverage_before"] = existing
        cells["coverage_after"] = ranking.covered
        cells["covered_before"] = covered_before
        if mobile_cov is not None:
            cells["mobile_quality_before"] = mobile_cov.quality
            cells["mobile_source"] = mobile_cov.source
        cells["covered_after"] = ranking.covered > 0
        by_rank = np.zeros(len(cells), dtype=np.int64)
        for rank, newly in enumerate(ranking.newly_covered, start=1):
            by_rank[newly] = rank
        cells["covered_by_rank"] = by_rank
        selected = _selected_table(cand, cells, ranking, matrix)
        cand = cand.copy()
        cand["rank"] = 0
        cand.loc[ranking.sites, "rank"] = np.arange(1, len(ranking.sites) + 1)

    with stages.stage("gaps"):
        gaps_after = gaps.gaps_from_cells(cells, cells["covered_after"].to_numpy())
        gaps_before = gaps.gaps_from_cells(cells, cells["covered_before"].to_numpy())

    results = Results(
        scenario=scenario,
        territory=terr,
        cells=cells,
        existing_wifi=wifi,
        candidates=cand,
        selected=selected,
        gaps=gaps_after,
        gaps_before=gaps_before,
        solution=plan,
        tables=tables,
        stage_seconds=stages.seconds,
        counts={
            "areas": len(terr.areas),
            "demand_cells": len(cells),
            "existing_wifi": len(wifi),
            "candidates": len(cand),
            "coverage_pairs": int(matrix.nnz),
            "sites_selected": len(selected),
            "gap_polygons": len(gaps_after),
        },
        load_reports=reports,
        input_files=sorted(set(files)),
        mobile=mobile_cov,
        terrain=terrain_model,
    )
    if write:
        from connectivity.outputs import write_outputs  # only outputs writes

        start = time.perf_counter()
        write_outputs(results, out_dir or scenario.output_dir, progress=progress)
        logger.info("stage outputs done in %.2f s", time.perf_counter() - start)
    return results


def _read_measured(
    spec: MeasuredSpec,
    role: str,
    load: Callable[..., gpd.GeoDataFrame],
    reports: list[LoadReport],
    metric_crs: str,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Read one measured source as polygons (metric CRS) with a quality per polygon."""
    if spec.kind == "speedtest" and spec.path.suffix.lower() in (".csv", ".txt", ".tsv"):
        table, report = read_table(
            spec,
            role=role,
            expected=[spec.quadkey_column, spec.download_column, spec.tests_column or ""],
        )
        reports.append(report)
        tiles = measured.tiles_from_quadkeys(table, spec.quadkey_column, source=str(spec.path))
        shapes = tiles.to_crs(metric_crs)
    else:
        shapes = load(spec, role, geometry="polygon")
    if spec.kind == "polygons":
        return shapes, np.full(len(shapes), measured.QUALITY[spec.coverage_class])
    download = to_number(shapes[spec.download_column], path=spec.path, role=role).to_numpy()
    if spec.speed_unit == "kbps":
        download = download / 1000.0
    keep = np.isfinite(download)
    if spec.tests_column:
        tests = to_number(shapes[spec.tests_column], path=spec.path, role=role).to_numpy()
        keep &= tests >= spec.min_tests
    classes = measured.speed_class(
        download[keep], basic_mbps=spec.basic_mbps, good_mbps=spec.good_mbps
    )
    quality = np.array([measured.QUALITY[c] for c in classes], dtype=float)
    return shapes.loc[keep].reset_index(drop=True), quality


def _mobile_coverage(
    mob: MobileSpec,
    cells: gpd.GeoDataFrame,
    centres: np.ndarray,
    transmitters: list[propagation.Transmitter],
    sources: list[tuple[MeasuredSpec, measured.MeasuredCells]],
    terrain: propagation.Terrain | None,
    calibrations: dict[str, propagation.Calibration],
) -> mobile.MobileCoverage:
    """Existing mobile coverage per cell: the model, overridden where measured."""
    summary = []
    line_of_sight = None
    if transmitters:
        power, modelled, los = mobile.best_coverage(
            centres, transmitters, mob, terrain, cells["rural"].to_numpy(), calibrations
        )
        line_of_sight = los if terrain is not None else None
        techs = sorted({t.technology for t in transmitters})
        summary.append(
            mobile.source_summary(
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
        summary.append(mobile.source_summary(name, spec.kind, m.measured, cells))
    known = bool(transmitters or sources)
    if not known:
        logger.warning(
            "mobile coverage: no transmitters and no measurements given; existing mobile "
            "coverage is unknown and counted as none"
        )
    return mobile.MobileCoverage(
        quality=quality,
        source=source,
        sources=pd.DataFrame(summary, columns=["source", "kind", "pct_cells", "pct_people"]),
        known=known,
        terrain=terrain is not None,
        transmitters=transmitters,
        line_of_sight=line_of_sight,
        calibrations=calibrations,
    )


def _solve(
    m: MethodSpec,
    matrix: sparse.csr_array,
    weights: np.ndarray,
    existing: np.ndarray,
    cand: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    terr: territory.Territory,
    progress: ProgressFactory | None,
    *,
    equity: bool,
) -> optimise.Solution:
    c = m.constraints
    ids = pd.Index(cand["site_id"])

    def positions(site_ids: list[str], key: str) -> list[int]:
        unknown = [s for s in site_ids if s not in ids]
        if unknown:
            raise ScenarioError(
                [
                    f"method.constraints.{key}: unknown site ids {', '.join(unknown)} (ids look "
                    f"like {', '.join(ids[:3])}; see candidates in connectivity.gpkg)"
                ]
            )
        return [int(ids.get_loc(s)) for s in site_ids]

    limits: list[optimise.GroupLimit] = []
    if equity:
        cand_xy = np.column_stack([cand.geometry.x, cand.geometry.y])
        site_rural = (
            shapely.contains_xy(terr.rural, cand_xy[:, 0], cand_xy[:, 1])
            if not terr.rural.is_empty
            else np.zeros(len(cand), dtype=bool)
        )
        limits = optimise.equity_limits(
            cand["area_code"].to_numpy(),
            cells["area_code"].to_numpy(),
            area_names=dict(zip(terr.areas["area_code"], terr.areas["area_name"], strict=True)),
            site_rural=site_rural,
            cell_rural=cells["rural"].to_numpy(),
            min_sites_per_area=c.min_sites_per_area,
            max_sites_per_area=c.max_sites_per_area,
            min_share_per_area=c.min_share_per_area,
            rural_min_sites=c.rural_min_sites,
            rural_min_share=c.rural_min_share,
        )
    model = optimise.build_model(
        m.resolved_model,
        matrix,
        weights,
        k=m.sites,
        budget=m.budget,
        target_share=m.target_coverage,
        costs=cand["cost"].to_numpy(),
        existing=existing,
        mandatory=positions(c.mandatory_sites, "mandatory_sites"),
        excluded=positions(c.excluded_sites, "excluded_sites"),
        limits=limits,
    )
    total = m.sites or len(cand)
    bar = progress("choosing sites", total) if progress and m.algorithm == "greedy" else None
    model.solve(
        m.algorithm,
        time_limit_s=m.time_limit_s,
        mip_gap=m.mip_gap,
        progress=bar.update if bar is not None else None,
    )
    if bar is not None:
        bar.close()
    assert model.solution is not None
    return model.solution


def _comparison_table(
    plan: optimise.Solution,
    free: optimise.Solution,
    cand: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Compare the plan with equity constraints against the plan without (their cost)."""
    pop = cells["population"].to_numpy()
    weight = cells["demand_weight"].to_numpy()
    areas = cells["area_code"].to_numpy()
    rows: list[dict[str, float | int | str]] = []
    for label, sol in (("with_equity_constraints", plan), ("without_equity_constraints", free)):
        cov = sol.ranking.covered
        by_area = (
            pd.Series(weight * cov).groupby(areas).sum() / pd.Series(weight).groupby(areas).sum()
        )
        chosen_areas = cand["area_code"].to_numpy()[sol.ranking.sites]
        rows.append(
            {
                "plan": label,
                "sites": len(sol.ranking.sites),
                "cost": round(sol.total_cost, 3),
                "people_covered": round(float(pop @ cov), 1),
                "weight_covered": round(float(weight @ cov), 1),
                "pct_weight_covered": round(100 * float(weight @ cov) / float(weight.sum()), 3),
                "areas_with_a_site": len(set(chosen_areas)),
                "lowest_area_pct_covered": round(100 * float(by_area.min()), 3),
                "objective": round(sol.objective, 3),
                "bound": round(sol.bound, 3),
                "gap_pct": round(100 * sol.gap, 3),
            }
        )
    free_weight = float(rows[1]["weight_covered"])
    cost = free_weight - float(rows[0]["weight_covered"])
    logger.info(
        "optimise: the equity constraints cost %.1f of priority-weighted demand covered "
        "(%.2f%% of the unconstrained plan's)",
        cost,
        100 * cost / free_weight if free_weight else 0.0,
    )
    return pd.DataFrame(rows)


def _reach_table(
    walk: optimise.Solution,
    line: optimise.Solution,
    walk_matrix: sparse.csr_array,
    line_matrix: sparse.csr_array,
    cells: gpd.GeoDataFrame,
    c: CandidatesSpec,
    existing: np.ndarray,
) -> pd.DataFrame:
    """Compare walking reach with the straight-line radius: each plan judged both ways."""
    pop = cells["population"].to_numpy()
    weight = cells["demand_weight"].to_numpy()
    rows = []
    for label, sol in (("chosen_by_walking_reach", walk), ("chosen_by_straight_line", line)):
        row: dict[str, float | int | str] = {"plan": label, "sites": len(sol.ranking.sites)}
        for reach, m in (("walking", walk_matrix), ("straight_line", line_matrix)):
            cov = (
                np.minimum(1.0, existing + np.asarray(m[sol.ranking.sites].sum(axis=0)).ravel())
                if len(sol.ranking.sites)
                else existing
            )
            row[f"people_covered_{reach}"] = round(float(pop @ cov), 1)
            row[f"pct_weight_covered_{reach}"] = round(
                100 * float(weight @ cov) / float(weight.sum()), 3
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["walk_cutoff_m"] = c.walk_cutoff_m or c.radius_m
    table["radius_m"] = c.radius_m
    table["site_cell_pairs_walking"] = walk_matrix.nnz
    table["site_cell_pairs_straight_line"] = line_matrix.nnz
    logger.info(
        "network: the walking plan covers %.0f people on foot; the straight-line plan claims "
        "%.0f but reaches %.0f on foot",
        table.loc[0, "people_covered_walking"],
        table.loc[1, "people_covered_straight_line"],
        table.loc[1, "people_covered_walking"],
    )
    return table


def _selected_table(
    cand: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    ranking: optimise.Ranking,
    matrix: sparse.csr_array,
) -> gpd.GeoDataFrame:
    pop = cells["population"].to_numpy()
    weight = cells["demand_weight"].to_numpy()
    total_weight = float(weight.sum())
    before = cells["coverage_before"].to_numpy()
    base = float(weight @ before)
    cumulative = base + np.cumsum(ranking.gains)
    # people newly covered by a site: the rise in coverage it gave, times the people there
    coverage = before.copy()
    new_people = []
    for site in ranking.sites:
        lo, hi = matrix.indptr[site], matrix.indptr[site + 1]
        idx = matrix.indices[lo:hi]
        old = coverage[idx]
        coverage[idx] = np.minimum(1.0, old + matrix.data[lo:hi])
        new_people.append(float(pop[idx] @ (coverage[idx] - old)))
    sel = cand.iloc[ranking.sites].reset_index(drop=True)
    lonlat = sel.geometry.to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(sel) + 1),
            "site_id": sel["site_id"].to_numpy(),
            "name": sel["name"].to_numpy(),
            "type": sel["type"].to_numpy(),
            "area_code": sel["area_code"].to_numpy(),
            "locality": sel["area_name"].to_numpy(),
            "lon": lonlat.x.round(6).to_numpy(),
            "lat": lonlat.y.round(6).to_numpy(),
            "cost": sel["cost"].to_numpy(),
            "new_people_covered": new_people,
            "new_priority_weight": ranking.gains,
            "cumulative_coverage_pct": 100.0 * cumulative / total_weight if total_weight else 0.0,
        },
        geometry=sel.geometry.to_numpy(),
        crs=cand.crs,
    )
