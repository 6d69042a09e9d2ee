"""Choosing and judging a capacitated plan: sites serve at most their capacity.

The analysis points' demand becomes simultaneous users (people without home internet that
mobile coverage leaves × take-up × concurrency); each user served is worth the point's
priority weight per user, so the objective is in the same units as the uncapacitated one
(priority-weighted people). The existing Wi-Fi zones are open sites with their own capacity.
Here the model is built and solved (:mod:`connectivity.optimise.capacity`), and its figures
handed on: each point's share served before and after, each rank's change, what each site
serves, and each point's share in reach of an open site (what is left unserved although in
reach is the difference).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from connectivity import coverage, evaluation, grid, optimise, planning
from connectivity.optimise.capacity import (
    CapacitatedProblem,
    assign,
    served_share,
    solve_capacitated,
)
from connectivity.results import CapacityOutcome
from connectivity.scenario import Scenario

logger = logging.getLogger("connectivity.pipeline")


def demand_users(scenario: Scenario, points: grid.DemandPoints) -> np.ndarray:
    """Return each point's simultaneous users before mobile coverage."""
    c = scenario.capacity
    assert c is not None
    return points.people_without_internet * c.take_up * c.concurrency


def problem_of(
    scenario: Scenario,
    points: grid.DemandPoints,
    matrix: sparse.csr_array,
    mobile: np.ndarray,
    wifi_xy: np.ndarray,
    cand: gpd.GeoDataFrame,
    *,
    constraints: bool = True,
) -> tuple[CapacitatedProblem, np.ndarray]:
    """Return the capacitated problem over some points, and their users before mobile.

    ``constraints``: the scenario's mandatory and excluded sites (off for a plan's own sites).
    """
    m, e = scenario.method, scenario.existing_coverage
    full = demand_users(scenario, points)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(full > 0, points.demand_weight / full, 0.0)
    zones = coverage.coverage_matrix(wifi_xy, points.xy, e.radius_m, log=False)
    capacity = cand["capacity_users"].to_numpy(dtype=float)
    ids = pd.Index(cand["site_id"])
    c = m.constraints
    problem = CapacitatedProblem.of(
        matrix,
        full * (1.0 - mobile),
        value,
        np.where(np.isnan(capacity), np.inf, capacity),
        fixed=zones,
        fixed_capacity=np.full(len(wifi_xy), float(e.capacity_users or np.inf)),
        costs=cand["cost"].to_numpy(dtype=float),
        base=float(points.demand_weight @ mobile),
        k=m.sites,
        budget=m.budget,
        mandatory=planning.site_positions(ids, c.mandatory_sites, "mandatory_sites")
        if constraints
        else (),
        excluded=planning.site_positions(ids, c.excluded_sites, "excluded_sites")
        if constraints
        else (),
    )
    return problem, full


def capacitated_plan(
    scenario: Scenario,
    reach: planning.Reach,
    dg: grid.DemandGrid,
    existing: planning.Existing,
    cand: gpd.GeoDataFrame,
) -> tuple[optimise.Solution, CapacityOutcome]:
    """Solve the scenario's capacitated plan on the analysis points."""
    points = dg.points
    mobile = existing.cells_mobile[points.cell]
    wifi_xy = planning.xy_of(existing.wifi)
    problem, full = problem_of(scenario, points, reach.matrix, mobile, wifi_xy, cand)
    m = scenario.method
    result = solve_capacitated(
        problem,
        m.algorithm,
        time_limit_s=m.time_limit_s,
        mip_gap=m.mip_gap,
        full_users=full,
        mobile=mobile,
    )
    sol = result.solution
    sites = sol.ranking.sites
    open_reach = np.asarray(problem.fixed.sum(axis=0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        changes = [
            (idx, np.where(full[idx] > 0, delta / full[idx], 0.0)) for idx, delta in result.changes
        ]
    chosen_reach = np.asarray(reach.matrix[sites].sum(axis=0)).ravel() if len(sites) else 0.0
    outcome = CapacityOutcome(
        take_up=scenario.capacity.take_up if scenario.capacity else 0.0,
        concurrency=scenario.capacity.concurrency if scenario.capacity else 0.0,
        capacity_users=problem.capacity[sites],
        served_users=result.split.served_by_site,
        zone_capacity_users=float(scenario.existing_coverage.capacity_users or np.inf),
        zone_served_users_before=result.before.served_by_zone,
        zone_served_users_after=result.split.served_by_zone,
        served_before=served_share(problem, result.before, full, mobile),
        reach_before=np.minimum(1.0, mobile + open_reach),
        reach_after=np.minimum(1.0, mobile + open_reach + chosen_reach),
        changes=changes,
        demand_users=full,
    )
    logger.info(
        "capacity: the chosen sites serve %.0f of their %.0f simultaneous users; the existing "
        "zones %.0f (before the plan %.0f)",
        float(outcome.served_users.sum()),
        float(np.sum(outcome.capacity_users[np.isfinite(outcome.capacity_users)])),
        float(outcome.zone_served_users_after.sum()),
        float(outcome.zone_served_users_before.sum()),
    )
    return sol, outcome


def rank_effects(dg: grid.DemandGrid, outcome: CapacityOutcome) -> tuple[np.ndarray, np.ndarray]:
    """People newly served by each rank, and the rank that brought each cell to half."""
    cells = dg.cells
    return evaluation.effects_of_changes(
        dg.points,
        outcome.changes,
        outcome.served_before,
        len(cells),
        cells["population"].to_numpy(dtype=float),
    )


def served_judge(
    scenario: Scenario, existing: planning.Existing, cand: gpd.GeoDataFrame, sites: np.ndarray
) -> Callable[[grid.DemandPoints], tuple[np.ndarray, np.ndarray]]:
    """Return a judge of a plan on other points: each one's share served before and after."""
    wifi_xy = planning.xy_of(existing.wifi)
    return functools.partial(served_on, scenario, existing.cells_mobile, wifi_xy, cand, sites)


def served_on(
    scenario: Scenario,
    cells_mobile: np.ndarray,
    wifi_xy: np.ndarray,
    cand: gpd.GeoDataFrame,
    sites: np.ndarray,
    pts: grid.DemandPoints,
) -> tuple[np.ndarray, np.ndarray]:
    """Each point's share served before and after a plan on other points (the grid check)."""
    c = scenario.candidates
    xy = planning.xy_of(cand.iloc[sites])
    matrix = coverage.coverage_matrix(xy, pts.xy, c.radius_m, decay=c.decay, log=False)
    mobile = cells_mobile[pts.cell]
    sub = cand.iloc[sites].reset_index(drop=True)
    problem, full = problem_of(scenario, pts, matrix, mobile, wifi_xy, sub, constraints=False)
    before = served_share(problem, assign(problem, []), full, mobile)
    after = served_share(problem, assign(problem, np.arange(len(sites))), full, mobile)
    return before, after
