"""Judging a plan: coverage per cell, people newly covered per site, a check of the grid.

Also the comparison tables, and the check of the analysis grid on points twice as fine.

Coverage is computed on analysis points (:mod:`connectivity.grid`); here it is summed back onto
the published cells, so every published figure is a sum over points and the figures of cells,
localities, sites and the whole territory agree with each other and with the optimiser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from connectivity import optimise
from connectivity.grid import DemandGrid, DemandPoints, points_in_cells

logger = logging.getLogger(__name__)

MAJORITY = 0.5
"""A cell counts as covered (on maps and in gaps) when at least this share of its people is."""

CORNER_SHARE = 0.15
"""A site lies "near a corner" of the published grid within this share of the cell size."""


def add_coverage_columns(
    cells: gpd.GeoDataFrame,
    points: DemandPoints,
    before: np.ndarray,
    after: np.ndarray,
    covered_by_rank: np.ndarray,
) -> gpd.GeoDataFrame:
    """Return the cells with their coverage before and after the plan, summed from points.

    Adds ``people_covered_before`` / ``_after``, ``coverage_before`` / ``_after`` (share of the
    cell's people, 0–1), ``covered_before`` / ``_after`` (at least half covered) and
    ``covered_by_rank``.
    """
    out = cells.copy()
    n = len(cells)
    pop = out["population"].to_numpy(dtype=float)
    for when, cov in (("before", before), ("after", after)):
        people = points.per_cell(points.population * cov, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(pop > 0, np.minimum(people / pop, 1.0), 0.0)
        out[f"people_covered_{when}"] = people
        out[f"coverage_{when}"] = share
        out[f"covered_{when}"] = share >= MAJORITY
    out["covered_by_rank"] = covered_by_rank
    return out


def rank_effects(
    points: DemandPoints,
    matrix: sparse.csr_array,
    ranking: optimise.Ranking,
    existing: np.ndarray,
    n_cells: int,
    cell_population: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """People newly covered by each chosen site, and the rank that brought each cell to half.

    Returns
    -------
    new_people, covered_by_rank
        Per chosen site (rank order) the rise in people covered it gave; per cell the rank
        of the site with which at least half of its people became covered (0 if none did, or
        if half were covered before the plan).
    """
    coverage = existing.astype(float).copy()

    def changes() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for site in ranking.sites:
            lo, hi = matrix.indptr[site], matrix.indptr[site + 1]
            idx = matrix.indices[lo:hi]
            old = coverage[idx]
            coverage[idx] = np.minimum(1.0, old + matrix.data[lo:hi])
            yield idx, coverage[idx] - old

    return effects_of_changes(points, changes(), existing, n_cells, cell_population)


def effects_of_changes(
    points: DemandPoints,
    changes: Iterable[tuple[np.ndarray, np.ndarray]],
    existing: np.ndarray,
    n_cells: int,
    cell_population: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`rank_effects`, from each rank's change of coverage at some points.

    ``changes`` gives, rank by rank, the points whose coverage (0–1) the site changed and by
    how much (a capacitated plan may move some demand to another site: a change can be below 0).
    """
    cell_people = points.per_cell(points.population * existing, n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = cell_people >= MAJORITY * cell_population
    by_rank = np.zeros(n_cells, dtype=np.int64)
    new_people = []
    for rank, (idx, delta) in enumerate(changes, start=1):
        rise = points.population[idx] * delta
        new_people.append(float(rise.sum()))
        touched = np.unique(points.cell[idx])
        np.add.at(cell_people, points.cell[idx], rise)
        reached = touched[
            ~half[touched] & (cell_people[touched] >= MAJORITY * cell_population[touched])
        ]
        by_rank[reached] = rank
        half[reached] = True
    return np.asarray(new_people, dtype=float), by_rank


def selected_table(
    cand: gpd.GeoDataFrame,
    ranking: optimise.Ranking,
    new_people: np.ndarray,
    *,
    weight_before: float,
    total_weight: float,
    capacity_users: np.ndarray | None = None,
    served_users: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Return the chosen sites in rank order with their gains (metric CRS, lon/lat columns).

    Also each site's money (``capex``, ``opex_per_year``, ``tco``, ``npc``, ``per_year`` and
    its ``backhaul``; empty without a money section) and, for a capacitated plan, its
    ``capacity_users`` and ``served_users`` (simultaneous users).
    """
    cumulative = weight_before + np.cumsum(ranking.gains)
    sel = cand.iloc[ranking.sites].reset_index(drop=True)
    lonlat = sel.geometry.to_crs("EPSG:4326")
    n = len(sel)

    def column(name: str, fill: Any = np.nan) -> np.ndarray:
        return sel[name].to_numpy() if name in sel.columns else np.full(n, fill, dtype=object)

    money = {
        name: column(name).astype(float)
        for name in ("capex", "opex_per_year", "tco", "npc", "per_year")
    }
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
            **money,
            "backhaul": column("backhaul", None),
            "capacity_users": np.full(n, np.nan) if capacity_users is None else capacity_users,
            "served_users": np.full(n, np.nan) if served_users is None else served_users,
        },
        geometry=sel.geometry.to_numpy(),
        crs=cand.crs,
    )


def comparison_table(
    plan: optimise.Solution,
    free: optimise.Solution,
    cand: gpd.GeoDataFrame,
    points: DemandPoints,
    point_areas: np.ndarray,
) -> pd.DataFrame:
    """Compare the plan with equity constraints against the plan without (their cost)."""
    pop = points.population
    weight = points.demand_weight
    rows: list[dict[str, float | int | str]] = []
    for label, sol in (("with_equity_constraints", plan), ("without_equity_constraints", free)):
        cov = sol.ranking.covered
        by_area = (
            pd.Series(weight * cov).groupby(point_areas).sum()
            / pd.Series(weight).groupby(point_areas).sum()
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


def reach_table(
    walk: optimise.Solution,
    line: optimise.Solution,
    walk_matrix: sparse.csr_array,
    line_matrix: sparse.csr_array,
    points: DemandPoints,
    existing: np.ndarray,
    *,
    walk_cutoff_m: float,
    radius_m: float,
) -> pd.DataFrame:
    """Compare walking reach with the straight-line radius: each plan judged both ways."""
    pop = points.population
    weight = points.demand_weight
    rows = []
    for label, sol in (("chosen_by_walking_reach", walk), ("chosen_by_straight_line", line)):
        row: dict[str, float | int | str] = {"plan": label, "sites": len(sol.ranking.sites)}
        for reach, m in (("walking", walk_matrix), ("straight_line", line_matrix)):
            cov = covered_by(m, sol.ranking.sites, existing)
            row[f"people_covered_{reach}"] = round(float(pop @ cov), 1)
            row[f"pct_weight_covered_{reach}"] = round(
                100 * float(weight @ cov) / float(weight.sum()), 3
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["walk_cutoff_m"] = walk_cutoff_m
    table["radius_m"] = radius_m
    table["site_point_pairs_walking"] = walk_matrix.nnz
    table["site_point_pairs_straight_line"] = line_matrix.nnz
    logger.info(
        "network: the walking plan covers %.0f people on foot; the straight-line plan claims "
        "%.0f but reaches %.0f on foot",
        table.loc[0, "people_covered_walking"],
        table.loc[1, "people_covered_straight_line"],
        table.loc[1, "people_covered_walking"],
    )
    return table


def covered_by(
    matrix: sparse.csr_array, sites: np.ndarray | list[int], existing: np.ndarray
) -> np.ndarray:
    """Coverage (0–1) of each point by existing service and a set of sites."""
    if not len(sites):
        return existing.astype(float)
    rows = matrix[np.asarray(sites, dtype=np.int64)]
    return np.minimum(1.0, existing + np.asarray(rows.sum(axis=0)).ravel())


def near_corner_share(xy: np.ndarray, cell_size_m: float) -> float:
    """Share of points within :data:`CORNER_SHARE` × cell size of a published grid corner."""
    if len(xy) == 0:
        return 0.0
    r = np.mod(xy, cell_size_m)
    d = np.hypot(
        np.minimum(r[:, 0], cell_size_m - r[:, 0]), np.minimum(r[:, 1], cell_size_m - r[:, 1])
    )
    return float(np.mean(d <= CORNER_SHARE * cell_size_m))


def discretisation_check(
    grid: DemandGrid,
    *,
    reach_radius_m: float,
    local_xy: np.ndarray,
    existing_at: Callable[[DemandPoints], np.ndarray],
    new_at: Callable[[DemandPoints], np.ndarray],
    plan_new_people: float,
    chosen_xy: np.ndarray,
    candidate_xy: np.ndarray,
) -> dict[str, Any]:
    """Measure the plan's people newly covered again on analysis points twice as fine.

    Only cells within reach of a point-radius site (chosen or existing) can change with the
    spacing; elsewhere coverage is judged per cell (mobile radio, towers), identical at both
    spacings. So the check rebuilds points at ``2 s`` for those cells only, judges coverage
    there before and after the plan, and compares with the same cells at ``s``.

    Parameters
    ----------
    grid
        The run's demand grid.
    reach_radius_m
        The longest point-radius reach (new sites, existing zones, walking cutoff).
    local_xy
        Chosen point-radius sites and existing zones: cells near them are rebuilt.
    existing_at, new_at
        Coverage (0–1) of given points before the plan, and after it.
    plan_new_people
        People newly covered by the plan at the run's spacing (all cells).
    chosen_xy, candidate_xy
        Chosen point-radius sites and every such candidate, for the grid-corner share.

    Returns
    -------
    dict
        Spacings, people newly covered at each (over the rebuilt cells and in all), their
        relative difference, and the grid-corner shares of chosen sites and candidates.
    """
    cells, points = grid.cells, grid.points
    s = points.subdivisions
    size = grid.cell_size_m
    result: dict[str, Any] = {
        "analysis_spacing_m": points.spacing_m,
        "check_spacing_m": size / (2 * s),
        "published_cell_m": size,
        "people_newly_covered": round(plan_new_people, 1),
        "near_grid_corner_within_m": CORNER_SHARE * size,
        "pct_chosen_sites_near_grid_corner": round(100 * near_corner_share(chosen_xy, size), 1),
        "pct_candidates_near_grid_corner": round(100 * near_corner_share(candidate_xy, size), 1),
    }
    if len(local_xy) == 0 or len(points) == 0:
        result.update(people_newly_covered_check=round(plan_new_people, 1), relative_change_pct=0.0)
        return result
    from scipy.spatial import cKDTree

    centres = (np.column_stack([cells["ix"], cells["iy"]]).astype(float) + 0.5) * size
    reach = reach_radius_m + size / np.sqrt(2) + 1e-6
    near = np.zeros(len(cells), dtype=bool)
    hits = cKDTree(local_xy).query_ball_point(centres, r=reach, return_length=True)
    near[np.asarray(hits) > 0] = True
    fine = points_in_cells(
        cells, grid.pieces, grid.unit_geometries, cell_size_m=size, subdivisions=2 * s, only=near
    )
    coarse_mask = near[points.cell]
    coarse = DemandPoints(
        cell=points.cell[coarse_mask],
        xy=points.xy[coarse_mask],
        population=points.population[coarse_mask],
        people_without_internet=points.people_without_internet[coarse_mask],
        demand_weight=points.demand_weight[coarse_mask],
        subdivisions=s,
        spacing_m=points.spacing_m,
    )
    local = {}
    for name, pts in (("coarse", coarse), ("fine", fine)):
        gained = new_at(pts) - existing_at(pts)
        local[name] = float(pts.population @ gained)
    check = plan_new_people - local["coarse"] + local["fine"]
    change = 100 * (check - plan_new_people) / plan_new_people if plan_new_people else 0.0
    result.update(
        cells_rebuilt=int(near.sum()),
        points_rebuilt=len(fine),
        people_newly_covered_check=round(check, 1),
        relative_change_pct=round(change, 3),
    )
    logger.info(
        "coverage: on %g m points the plan newly covers %.0f people, on %g m points %.0f "
        "(%+.2f%%); %.1f%% of the chosen sites and %.1f%% of the candidates lie within %g m "
        "of a corner of the %g m grid",
        points.spacing_m,
        plan_new_people,
        size / (2 * s),
        check,
        change,
        result["pct_chosen_sites_near_grid_corner"],
        result["pct_candidates_near_grid_corner"],
        CORNER_SHARE * size,
        size,
    )
    return result


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Gini coefficient of ``values`` over units weighted by ``weights`` (0 = equal).

    Examples
    --------
    >>> round(gini(np.array([1.0, 1.0]), np.array([1.0, 1.0])), 6)
    0.0
    """
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    if w.sum() <= 0 or (v * w).sum() <= 0:
        return 0.0
    cum_w = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    cum_vw = np.concatenate([[0.0], np.cumsum(v * w) / (v * w).sum()])
    area = np.sum((cum_w[1:] - cum_w[:-1]) * (cum_vw[1:] + cum_vw[:-1]) / 2)
    return float(1 - 2 * area)
