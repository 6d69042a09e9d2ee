"""Choosing and judging the plan: the optimiser on the analysis points, its figures summed back.

What the pipeline hands over: the demand grid, the existing service per point, the candidates
and their reach (:class:`Reach`). Here the model is built (with the equity floors of the
scenario), solved, compared with the plan without floors or by straight line, and judged: the
cells' coverage, each site's people, the check on points twice as fine, and the gaps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from connectivity import coverage, evaluation, gaps, grid, mobile, network, optimise, propagation
from connectivity.errors import ScenarioError
from connectivity.results import CapacityOutcome
from connectivity.scenario import MethodSpec, Scenario
from connectivity.territory import Territory

logger = logging.getLogger("connectivity.pipeline")

ProgressFactory = Any
"""A progress-bar factory (see :data:`connectivity.pipeline.ProgressFactory`)."""


@dataclass
class Existing:
    """Existing service: Wi-Fi zones, and coverage per point (Wi-Fi and mobile) and per cell."""

    wifi: gpd.GeoDataFrame
    points: np.ndarray  # 0–1 per analysis point: Wi-Fi and mobile together
    cells_mobile: np.ndarray  # 0–1 per cell: mobile only (0 without a mobile section)
    mobile: mobile.MobileCoverage | None
    terrain: propagation.Terrain | None


@dataclass
class Reach:
    """Which points each candidate reaches: as judged, and by straight line (walking compares)."""

    matrix: sparse.csr_array  # site × point, as the plan is judged
    straight: sparse.csr_array  # the same with a straight-line radius (walking: compared)
    streets: Any = None


def xy_of(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Return a point layer's coordinates as an (n, 2) array."""
    if len(gdf) == 0:
        return np.zeros((0, 2))
    return np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()])


def solve_plan(
    scenario: Scenario,
    cov: Reach,
    dg: grid.DemandGrid,
    existing: Existing,
    cand: gpd.GeoDataFrame,
    terr: Territory,
    progress: ProgressFactory | None,
) -> tuple[optimise.Solution, dict[str, pd.DataFrame]]:
    """Solve the scenario's model (with its floors), and the plans it is compared with."""
    m, c = scenario.method, scenario.candidates
    points = dg.points

    def solve(
        matrix: sparse.csr_array, bar: ProgressFactory | None, equity: bool
    ) -> optimise.Solution:
        return _solve(m, matrix, points, dg.cells, existing.points, cand, terr, bar, equity=equity)

    plan = solve(cov.matrix, progress, True)
    tables: dict[str, pd.DataFrame] = {}
    point_areas = dg.cells["area_code"].to_numpy()[points.cell]
    if m.compare_unconstrained and m.constraints.any_floor:
        free = solve(cov.matrix, None, False)
        tables["plan_comparison"] = evaluation.comparison_table(
            plan, free, cand, points, point_areas
        )
    if c.reach == "walking":
        by_line = solve(cov.straight, None, True)
        tables["reach_comparison"] = evaluation.reach_table(
            plan,
            by_line,
            cov.matrix,
            cov.straight,
            points,
            existing.points,
            walk_cutoff_m=c.walk_cutoff_m or c.radius_m,
            radius_m=c.radius_m,
        )
    return plan, tables


def judge_plan(
    dg: grid.DemandGrid,
    cov: Reach,
    existing: Existing,
    cand: gpd.GeoDataFrame,
    plan: optimise.Solution,
    *,
    effects: tuple[np.ndarray, np.ndarray] | None = None,
    capacity: CapacityOutcome | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Return the cells with their coverage, the chosen sites' table and their new people.

    ``effects``: each rank's new people and the rank that brought each cell to half, where
    they are not the reach's (a capacitated plan); ``capacity``: what its sites serve.
    """
    cells, points = dg.cells, dg.points
    ranking = plan.ranking
    pop_cells = cells["population"].to_numpy(dtype=float)
    if effects is None:
        effects = evaluation.rank_effects(
            points, cov.matrix, ranking, existing.points, len(cells), pop_cells
        )
    new_people, by_rank = effects
    cells = evaluation.add_coverage_columns(
        cells, points, existing.points, ranking.covered, by_rank
    )
    if existing.mobile is not None:
        cells["mobile_quality_before"] = existing.mobile.quality
        cells["mobile_source"] = existing.mobile.source
    w = points.demand_weight
    selected = evaluation.selected_table(
        cand,
        ranking,
        new_people,
        weight_before=float(w @ existing.points),
        total_weight=float(w.sum()),
        capacity_users=capacity.capacity_users if capacity is not None else None,
        served_users=capacity.served_users if capacity is not None else None,
    )
    return cells, selected, new_people


def check_grid(
    scenario: Scenario,
    dg: grid.DemandGrid,
    existing: Existing,
    cand: gpd.GeoDataFrame,
    plan: optimise.Solution,
    cov: Reach,
    new_people: np.ndarray,
    *,
    served: Callable[[grid.DemandPoints], tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """Judge the plan again on points twice as fine where point-radius reach matters.

    ``served`` (a capacitated plan): each point's share served before and after the plan on
    given points (the split solved again there); with walking reach it is not judged again.
    """
    c, e = scenario.candidates, scenario.existing_coverage
    if served is not None and c.reach == "walking":
        return {"note": "a capacitated plan with walking reach is not judged on finer points"}
    is_tower = (cand["type"] == mobile.TOWER_TYPE).to_numpy()
    chosen = plan.ranking.sites
    chosen_local = chosen[~is_tower[chosen]]
    all_xy = xy_of(cand)
    wifi_xy = xy_of(existing.wifi)
    reach = c.walk_cutoff_m or c.radius_m if c.reach == "walking" else c.radius_m
    towers_chosen = chosen[is_tower[chosen]]

    memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def split(pts: grid.DemandPoints) -> tuple[np.ndarray, np.ndarray]:
        assert served is not None
        if id(pts) not in memo:
            memo[id(pts)] = served(pts)
        return memo[id(pts)]

    def existing_at(pts: grid.DemandPoints) -> np.ndarray:
        if served is not None:
            return split(pts)[0]
        wifi = coverage.covered_by_points(pts.xy, wifi_xy, e.radius_m).astype(float)
        return np.maximum(wifi, existing.cells_mobile[pts.cell])

    def new_at(pts: grid.DemandPoints) -> np.ndarray:
        if served is not None:
            return split(pts)[1]
        if c.reach == "walking" and cov.streets is not None:
            rows = network.walking_coverage(cov.streets, all_xy[chosen_local], pts.xy, reach)
        else:
            rows = coverage.coverage_matrix(all_xy[chosen_local], pts.xy, c.radius_m, decay=c.decay)
        total = existing_at(pts) + np.asarray(rows.sum(axis=0)).ravel()
        if len(towers_chosen):  # towers are judged per cell: the same values at any spacing
            per_cell = np.zeros(len(dg.cells))
            per_cell[dg.points.cell] = np.asarray(cov.matrix[towers_chosen].sum(axis=0)).ravel()
            total += per_cell[pts.cell]
        return np.minimum(total, 1.0)

    local_xy = np.vstack([all_xy[chosen_local], wifi_xy]) if len(wifi_xy) else all_xy[chosen_local]
    return evaluation.discretisation_check(
        dg,
        reach_radius_m=max([reach, c.radius_m, e.radius_m if len(wifi_xy) else 0.0]),
        local_xy=local_xy,
        existing_at=existing_at,
        new_at=new_at,
        plan_new_people=float(new_people.sum()),
        chosen_xy=all_xy[chosen_local],
        candidate_xy=all_xy[~is_tower],
    )


def gaps_of(
    cells: gpd.GeoDataFrame, points: grid.DemandPoints, point_cov: np.ndarray, when: str
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Cells where most people are out of reach, with the people out of reach in them.

    Returns the gaps and each cell's ``gap_id`` (0 for a cell in no gap).
    """
    n = len(cells)
    open_share = 1.0 - point_cov
    return gaps.gap_patches(
        cells,
        in_gap=~cells[f"covered_{when}"].to_numpy(dtype=bool),
        population=points.per_cell(points.population * open_share, n),
        people_without_internet=points.per_cell(points.people_without_internet * open_share, n),
        demand_weight=points.per_cell(points.demand_weight * open_share, n),
    )


@dataclass(frozen=True)
class Groups:
    """Where each candidate site and each analysis point lies: what equity floors are over."""

    site_area: np.ndarray
    point_area: np.ndarray
    site_rural: np.ndarray
    point_rural: np.ndarray
    area_names: dict[str, str]

    @classmethod
    def of(
        cls,
        cand: gpd.GeoDataFrame,
        cells: gpd.GeoDataFrame,
        points: grid.DemandPoints,
        terr: Territory,
    ) -> Groups:
        """Return the groups of a run's candidates and analysis points."""
        cand_xy = xy_of(cand)
        site_rural = (
            shapely.contains_xy(terr.rural, cand_xy[:, 0], cand_xy[:, 1])
            if not terr.rural.is_empty
            else np.zeros(len(cand), dtype=bool)
        )
        return cls(
            site_area=cand["area_code"].to_numpy(),
            point_area=cells["area_code"].to_numpy()[points.cell],
            site_rural=np.asarray(site_rural, dtype=bool),
            point_rural=cells["rural"].to_numpy(dtype=bool)[points.cell],
            area_names=dict(zip(terr.areas["area_code"], terr.areas["area_name"], strict=True)),
        )


def site_positions(site_ids: pd.Index, wanted: list[str], key: str) -> list[int]:
    """Return the positions of ``wanted`` site ids; unknown ids are a scenario error."""
    unknown = [s for s in wanted if s not in site_ids]
    if unknown:
        raise ScenarioError(
            [
                f"method.constraints.{key}: unknown site ids {', '.join(unknown)} (ids look "
                f"like {', '.join(site_ids[:3])}; see candidates in connectivity.gpkg)"
            ]
        )
    return [int(i) for i in site_ids.get_indexer(pd.Index(wanted))]


def build_problem(
    m: MethodSpec,
    matrix: sparse.csr_array,
    weights: np.ndarray,
    existing: np.ndarray,
    costs: np.ndarray,
    site_ids: pd.Index,
    groups: Groups,
    *,
    equity: bool,
    mandatory: list[int] | None = None,
) -> optimise.CoverageModel:
    """Return the scenario's location model over the analysis points (floors if ``equity``).

    ``mandatory`` adds sites that must be chosen to the scenario's own (a later phase keeps
    the sites of the earlier ones).
    """
    c = m.constraints
    limits: list[optimise.GroupLimit] = []
    if equity:
        limits = optimise.equity_limits(
            groups.site_area,
            groups.point_area,
            area_names=groups.area_names,
            site_rural=groups.site_rural,
            cell_rural=groups.point_rural,
            min_sites_per_area=c.min_sites_per_area,
            max_sites_per_area=c.max_sites_per_area,
            min_share_per_area=c.min_share_per_area,
            rural_min_sites=c.rural_min_sites,
            rural_min_share=c.rural_min_share,
        )
    fixed = site_positions(site_ids, c.mandatory_sites, "mandatory_sites")
    if mandatory:
        fixed = sorted(set(fixed) | set(mandatory))
    return optimise.build_model(
        m.resolved_model,
        matrix,
        weights,
        k=m.sites,
        budget=m.budget,
        target_share=m.target_coverage,
        costs=costs,
        existing=existing,
        mandatory=fixed,
        excluded=site_positions(site_ids, c.excluded_sites, "excluded_sites"),
        limits=limits,
    )


def _solve(
    m: MethodSpec,
    matrix: sparse.csr_array,
    points: grid.DemandPoints,
    cells: gpd.GeoDataFrame,
    existing: np.ndarray,
    cand: gpd.GeoDataFrame,
    terr: Territory,
    progress: ProgressFactory | None,
    *,
    equity: bool,
) -> optimise.Solution:
    model = build_problem(
        m,
        matrix,
        points.demand_weight,
        existing,
        cand["cost"].to_numpy(),
        pd.Index(cand["site_id"]),
        Groups.of(cand, cells, points, terr),
        equity=equity,
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
