"""The one orchestration: scenario → layers → demand & sites → coverage → ranking → outputs.

:func:`run_scenario` reads as its stages: territory, demand, existing coverage, mobile
coverage, candidates, coverage, optimise, evaluation and gaps. Each stage is a function of what
the earlier ones made; only the reading of layers (through :class:`Inputs`) touches files.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from connectivity import (
    capacity_plan,
    coverage,
    demand,
    grid,
    mobile,
    mobile_inputs,
    network,
    planning,
    sites,
    territory,
    workload,
)
from connectivity.costing.stage import costed_candidates
from connectivity.errors import LayerError, ScenarioError
from connectivity.layers import (
    count_rows,
    geometry_summary,
    read_layer,
    read_osm_features,
)
from connectivity.reading import Inputs, Stages
from connectivity.results import Results
from connectivity.scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = [
    "PlanInputs",
    "ProgressFactory",
    "Results",
    "plan_inputs",
    "plan_results",
    "run_scenario",
]

ProgressFactory = Callable[[str, int], Any]
"""Makes a progress bar: called with a label and a total, returns an object with
``update(n)`` and ``close()`` (a ``tqdm`` bar fits)."""


@dataclass
class _Demand:
    grid: grid.DemandGrid
    missing: list[demand.MissingValues]


@dataclass
class PlanInputs:
    """What plans are chosen from: the first stages of a run (territory to coverage).

    A study (:mod:`connectivity.study`) solves many plans over one of these.
    """

    scenario: Scenario
    territory: territory.Territory
    demand: _Demand
    existing: planning.Existing
    candidates: gpd.GeoDataFrame
    reach: planning.Reach
    inputs: Inputs
    stages: Stages

    @property
    def grid(self) -> grid.DemandGrid:
        """The published cells and analysis points."""
        return self.demand.grid


def plan_inputs(
    scenario: Scenario, *, strict: bool = False, max_memory_bytes: int | None = None
) -> PlanInputs:
    """Run the stages before the plan: territory, demand, existing coverage, sites, reach.

    Raises
    ------
    ConnectivityError
        As :func:`run_scenario`.
    """
    limit = max_memory_bytes or workload.default_memory_limit_bytes()
    stages = Stages()
    inputs = Inputs(scenario, strict)
    with stages.stage("territory"):
        terr = _territory(inputs)
    with stages.stage("demand"):
        dem = _demand(inputs, terr, limit)
    with stages.stage("existing_coverage"):
        existing = _existing(inputs, terr, dem.grid)
    with stages.stage("candidates"):
        cand = _candidates(inputs, terr, dem.grid, existing)
    if scenario.money is not None:
        with stages.stage("costs"):
            cand = costed_candidates(inputs, cand, existing.wifi, existing.terrain)
    with stages.stage("coverage_matrix"):
        cov = _coverage(inputs, terr, dem.grid, cand, existing, limit)
    return PlanInputs(scenario, terr, dem, existing, cand, cov, inputs, stages)


def run_scenario(
    scenario: Scenario,
    *,
    progress: ProgressFactory | None = None,
    strict: bool = False,
    max_memory_bytes: int | None = None,
) -> Results:
    """Run a scenario end to end and return what it produced; nothing is written.

    :func:`connectivity.run_to_folder` runs and writes the outputs.

    Parameters
    ----------
    scenario
        A scenario from :func:`connectivity.load_scenario`.
    progress
        Optional progress-bar factory for the long stages (the CLI passes ``tqdm``).
    strict
        Turn every warning about input rows left out or values filled in (bad coordinates,
        points outside the territory, units without a table row, blank values) into an error.
    max_memory_bytes
        Refuse the run when its estimated memory is above this (default: half of this
        machine's memory, or ``$CONNECTIVITY_MAX_MEMORY_GB``).

    Returns
    -------
    Results

    Raises
    ------
    ConnectivityError
        On any bad input, or a run too large for the memory limit (before allocating it).

    Examples
    --------
    >>> import connectivity
    >>> scenario = connectivity.load_scenario("scenarios/bogota_public_wifi.yaml")  # doctest: +SKIP
    >>> results = connectivity.run_scenario(scenario)  # doctest: +SKIP
    >>> results.summary["pct_people_covered_after"]  # doctest: +SKIP
    """
    pre = plan_inputs(scenario, strict=strict, max_memory_bytes=max_memory_bytes)
    return plan_results(pre, progress=progress)


def plan_results(pre: PlanInputs, *, progress: ProgressFactory | None = None) -> Results:
    """Run the stages from the plan on: optimise, evaluation, gaps (and the signal raster)."""
    scenario = pre.scenario
    stages, inputs, terr, dem = pre.stages, pre.inputs, pre.territory, pre.demand
    existing, cand, cov = pre.existing, pre.candidates, pre.reach
    capacity = None
    with stages.stage("optimise"):
        if scenario.capacity is not None:
            plan, capacity = capacity_plan.capacitated_plan(scenario, cov, dem.grid, existing, cand)
            tables: dict[str, pd.DataFrame] = {}
            existing = dataclasses.replace(existing, points=capacity.served_before)
        else:
            plan, tables = planning.solve_plan(
                scenario, cov, dem.grid, existing, cand, terr, progress
            )
    with stages.stage("evaluation"):
        effects = capacity_plan.rank_effects(dem.grid, capacity) if capacity else None
        cells, selected, new_people = planning.judge_plan(
            dem.grid, cov, existing, cand, plan, effects=effects, capacity=capacity
        )
        cand = cand.copy()
        cand["rank"] = 0
        cand.loc[plan.ranking.sites, "rank"] = np.arange(1, len(plan.ranking.sites) + 1)
        served = (
            capacity_plan.served_judge(scenario, existing, cand, plan.ranking.sites)
            if capacity
            else None
        )
        check = planning.check_grid(
            scenario, dem.grid, existing, cand, plan, cov, new_people, served=served
        )
    with stages.stage("gaps"):
        gaps_after, gap_ids = planning.gaps_of(
            cells, dem.grid.points, plan.ranking.covered, "after"
        )
        gaps_before, _ = planning.gaps_of(cells, dem.grid.points, existing.points, "before")
        cells["gap_id"] = gap_ids
    points = dem.grid.points
    results = Results(
        scenario=scenario,
        territory=terr,
        cells=cells,
        points=points,
        point_coverage_before=existing.points,
        point_coverage_after=plan.ranking.covered,
        existing_wifi=existing.wifi,
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
            "analysis_points": len(points),
            "existing_wifi": len(existing.wifi),
            "candidates": len(cand),
            "coverage_pairs": int(cov.matrix.nnz),
            "sites_selected": len(selected),
            "gap_polygons": len(gaps_after),
        },
        load_reports=inputs.reports,
        missing_values=dem.missing,
        discretisation=check,
        input_files=sorted(set(inputs.files)),
        mobile=existing.mobile,
        terrain=existing.terrain,
        capacity=capacity,
    )
    if scenario.mobile is not None and scenario.mobile.raster and results.transmitters:
        with stages.stage("signal"):
            assert scenario.mobile is not None
            results.signal = mobile.signal_raster(
                terr,
                scenario.demand.cell_size_m,
                results.transmitters,
                scenario.mobile,
                existing.terrain,
                existing.mobile.calibrations if existing.mobile else {},
            )
    return results


def _territory(inputs: Inputs) -> territory.Territory:
    t = inputs.scenario.territory
    bounds = inputs.layer(
        t.boundaries,
        "territory.boundaries",
        geometry="polygon",
        expected=[t.id_column, t.name_column],
    )
    for col in (t.id_column, t.name_column):
        if col not in bounds.columns:
            raise LayerError(f"{t.boundaries.path}: column '{col}' not found")
    rural_layer = (
        inputs.layer(t.rural_layer, "territory.rural_layer", geometry="polygon")
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
    inputs.left_out = terr.excluded
    return terr


def point_radii(scenario: Scenario) -> list[float]:
    """Every reach judged point by point: new sites' radius or walking cutoff, existing zones."""
    c, e = scenario.candidates, scenario.existing_coverage
    radii = []
    if c.layers:
        radii.append(c.walk_cutoff_m or c.radius_m if c.reach == "walking" else c.radius_m)
    if e.wifi is not None:
        radii.append(e.radius_m)
    return radii


def estimate_workload(scenario: Scenario) -> tuple[workload.Workload, str]:
    """Estimate a scenario's cells, points, coverage pairs and memory from its files' sizes.

    Reads only the demand layer's geometries and the candidate layers' row counts: what
    ``connectivity validate`` reports. Returns the estimate and the settings that drive it.
    """
    d, c = scenario.demand, scenario.candidates
    subdivisions = grid.analysis_subdivisions(
        d.cell_size_m, point_radii(scenario), d.analysis_cell_size_m
    )
    bounds, area, length = geometry_summary(
        d.layer, metric_crs=scenario.territory.metric_crs, within=_study_area(scenario)
    )
    work = workload.grid_workload(
        bounds, area, length, cell_size_m=d.cell_size_m, subdivisions=subdivisions
    )
    spacing = d.cell_size_m / subdivisions
    reach = c.walk_cutoff_m or c.radius_m if c.reach == "walking" else c.radius_m
    n_sites = sum(count_rows(layer) for layer in c.layers if not layer.osm_tags)
    pairs = workload.pairs_bound(n_sites, max(reach, c.radius_m), spacing, work.points)
    if scenario.mobile is not None and scenario.mobile.new_towers is not None:
        pairs += scenario.mobile.new_towers.count * work.points
    settings = (
        f"demand.cell_size_m (now {d.cell_size_m:g} m), demand.analysis_cell_size_m (now "
        f"{spacing:g} m) or candidates.radius_m (now {c.radius_m:g} m)"
    )
    return workload.with_pairs(work, pairs), settings


def _study_area(scenario: Scenario) -> shapely.Geometry | None:
    """Return the included areas' outline (a study area) for the estimate; None for all."""
    t = scenario.territory
    if not t.include:
        return None
    bounds, _ = read_layer(
        t.boundaries, role="territory.boundaries", metric_crs=t.metric_crs, geometry="polygon"
    )
    codes = bounds[t.id_column].astype(str).str.strip()
    return shapely.union_all(bounds.geometry.to_numpy()[codes.isin(t.include).to_numpy()])


def _demand(inputs: Inputs, terr: territory.Territory, limit: int) -> _Demand:
    s = inputs.scenario
    d = s.demand
    layer_cols = [d.id_column] + ([d.join.key] if d.join is not None else demand.value_columns(d))
    layer, report = inputs.layer_with_report(
        d.layer, "demand.layer", geometry="polygon", expected=layer_cols
    )
    rows = report.file_rows
    table = None
    if d.join is not None:
        table = inputs.table(
            d.join.table,
            "demand.join.table",
            [d.join.table_key or d.join.key, *demand.value_columns(d)],
        )
    if s.territory.include:  # a study area: keep the units that reach into it
        inside = layer.intersects(terr.outline).to_numpy()
        layer, rows = layer[inside].reset_index(drop=True), rows[inside]
    units, missing = demand.units_from_layers(
        layer, table, d, layer_rows=rows, strict=inputs.strict
    )
    subdivisions = grid.analysis_subdivisions(d.cell_size_m, point_radii(s), d.analysis_cell_size_m)
    geoms = units.geometry.to_numpy()
    work = workload.grid_workload(
        shapely.bounds(geoms),
        float(shapely.area(geoms).sum()),
        float(shapely.length(geoms).sum()),
        cell_size_m=d.cell_size_m,
        subdivisions=subdivisions,
    )
    workload.check_workload(
        work,
        limit,
        settings=f"demand.cell_size_m (now {d.cell_size_m:g} m) or "
        f"demand.analysis_cell_size_m (now {d.cell_size_m / subdivisions:g} m)",
    )
    demand_grid = grid.demand_grid(
        units,
        terr,
        cell_size_m=d.cell_size_m,
        subdivisions=subdivisions,
        groups=d.groups,
        rural_multiplier=d.rural_multiplier,
        snap_distance_m=d.snap_distance_m,
    )
    if len(demand_grid.cells) == 0:
        raise LayerError(f"{d.layer.path}: no populated cell falls inside the territory")
    return _Demand(demand_grid, missing)


def _existing(inputs: Inputs, terr: territory.Territory, dg: grid.DemandGrid) -> planning.Existing:
    s = inputs.scenario
    e = s.existing_coverage
    points, cells = dg.points, dg.cells
    if e.wifi is not None:
        raw = inputs.layer(
            e.wifi,
            "existing_coverage.wifi",
            geometry="point",
            clip_to=terr.outline,
            expected=[e.name_column] if e.name_column else [],
        )
        name = raw[e.name_column].astype(str) if e.name_column else pd.Series([""] * len(raw))
        wifi = gpd.GeoDataFrame({"name": name.to_numpy()}, geometry=raw.geometry, crs=raw.crs)
    else:
        wifi = gpd.GeoDataFrame({"name": []}, geometry=[], crs=inputs.metric)
    wifi_points = coverage.covered_by_points(
        points.xy, planning.xy_of(wifi), e.radius_m, tree=points.tree
    ).astype(float)
    logger.info(
        "existing coverage: %d zones reach %d of %d analysis points",
        len(wifi),
        int(wifi_points.sum()),
        len(points),
    )
    mobile_cov, terrain_model = None, None
    cells_mobile = np.zeros(len(cells))
    if s.mobile is not None:
        mobile_cov, terrain_model = mobile_inputs.mobile_coverage(inputs, s.mobile, cells)
        cells_mobile = mobile_cov.quality
    return planning.Existing(
        wifi=wifi,
        points=np.maximum(wifi_points, cells_mobile[points.cell]),
        cells_mobile=cells_mobile,
        mobile=mobile_cov,
        terrain=terrain_model,
    )


def _candidates(
    inputs: Inputs, terr: territory.Territory, dg: grid.DemandGrid, existing: planning.Existing
) -> gpd.GeoDataFrame:
    s = inputs.scenario
    c = s.candidates
    loaded = []
    values: list[dict[str, np.ndarray]] = []
    for i, spec in enumerate(c.layers):
        role = f"candidates.layers[{i}] ({spec.type})"
        if spec.osm_tags:
            points, report = read_osm_features(
                spec, spec.osm_tags, role=role, metric_crs=inputs.metric, clip_to=terr.outline
            )
            inputs.reports.append(report)
            inputs.files.append(spec.path)
            spec = dataclasses.replace(spec, name_column="name")
            values.append(sites.layer_values(spec, points))
        else:
            wanted = [spec.name_column, spec.capex_column, spec.opex_column, spec.capacity_column]
            points, report = inputs.layer_with_report(
                spec,
                role,
                geometry="point",
                clip_to=terr.outline,
                expected=[col for col in wanted if col],
            )
            values.append(sites.layer_values(spec, points, report.file_rows))
        loaded.append((spec, points))
    cand = sites.candidates_from_layers(
        loaded, terr, merge_distance_m=c.merge_distance_m, values=values
    )
    mob = s.mobile
    if mob is not None and mob.new_towers is not None:
        cells = dg.cells
        share_before = dg.points.per_cell(
            dg.points.population * existing.points, len(cells)
        ) / np.maximum(cells["population"].to_numpy(dtype=float), 1e-12)
        towers = mobile.propose_towers(
            cells, grid.cell_centres(cells), np.minimum(share_before, 1.0), terr, mob.new_towers
        )
        cand = (
            gpd.GeoDataFrame(
                pd.concat([cand, towers], ignore_index=True), geometry="geometry", crs=inputs.metric
            )
            if len(cand)
            else towers
        )
    if s.method.sites is not None and s.method.sites > len(cand):
        raise ScenarioError(
            [
                f"method.sites: {s.method.sites} is more than the {len(cand)} candidate "
                "sites inside the territory"
            ],
            str(s.source or ""),
        )
    if len(cand) == 0:
        raise LayerError("candidates: no candidate site falls inside the territory")
    return cand


def _coverage(
    inputs: Inputs,
    terr: territory.Territory,
    dg: grid.DemandGrid,
    cand: gpd.GeoDataFrame,
    existing: planning.Existing,
    limit: int,
) -> planning.Reach:
    s = inputs.scenario
    c = s.candidates
    points = dg.points
    is_tower = (cand["type"] == mobile.TOWER_TYPE).to_numpy()
    all_xy = planning.xy_of(cand)
    cand_xy = all_xy[~is_tower]  # towers come last, after the Wi-Fi candidates
    reach = c.walk_cutoff_m or c.radius_m if c.reach == "walking" else c.radius_m
    pairs = coverage.estimate_pairs(cand_xy, points.xy, max(reach, c.radius_m), tree=points.tree)
    if is_tower.any():  # a tower may reach every point (rural ones only, with rural_only)
        towers = s.mobile.new_towers if s.mobile is not None else None
        reach_points = len(points)
        if towers is not None and towers.rural_only:
            reach_points = int(dg.cells["rural"].to_numpy(dtype=bool)[points.cell].sum())
        pairs += int(is_tower.sum()) * reach_points
    work = workload.with_pairs(workload.Workload(cells=len(dg.cells), points=len(points)), pairs)
    workload.check_workload(
        work, limit, settings=f"candidates.radius_m (now {c.radius_m:g} m) or the candidate layers"
    )
    matrix = coverage.coverage_matrix(
        cand_xy, points.xy, c.radius_m, decay=c.decay, tree=points.tree
    )
    straight = matrix
    streets = None
    if c.reach == "walking":
        assert c.network is not None
        streets = network.street_graph_from_osm(
            c.network, metric_crs=inputs.metric, cache_dir=network.default_cache_dir()
        )
        inputs.files.append(c.network)
        matrix = network.walking_coverage(streets, cand_xy, points.xy, reach)
    if is_tower.any():
        mob = s.mobile
        assert mob is not None
        cells = dg.cells
        on_rural = cells["rural"].to_numpy(dtype=bool)
        rows = mobile.tower_coverage(
            all_xy[is_tower], grid.cell_centres(cells), mob.radio, existing.terrain, on_rural
        )
        if mob.new_towers is not None and mob.new_towers.rural_only:
            rows = sparse.csr_array(rows @ sparse.diags_array(on_rural.astype(float)))
            rows.eliminate_zeros()
        rows = sparse.csr_array(rows[:, points.cell])  # radio reach is judged per cell
        rows.eliminate_zeros()
        matrix = sparse.csr_array(sparse.vstack([matrix, rows], format="csr"))
        straight = sparse.csr_array(sparse.vstack([straight, rows], format="csr"))
    return planning.Reach(matrix=matrix, straight=straight, streets=streets)
