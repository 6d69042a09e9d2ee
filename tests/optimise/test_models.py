"""The location models through their public API: exact against brute force, constraints kept,
constructors, options and messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity.optimise import (
    BudgetedMaximalCovering,
    GroupLimit,
    InfeasibleError,
    MaximalCovering,
    Policy,
    SetCovering,
    covered_weight,
    equity_limits,
)

from .oracles import brute, instances


@settings(max_examples=50, deadline=None)
@given(instances(partial=True), st.integers(1, 4))
def test_exact_maximal_covering_equals_brute_force(inst, k) -> None:
    matrix, weights, existing, _ = inst
    model = MaximalCovering(matrix, weights, k=k, existing=existing).solve("exact", mip_gap=0)
    best = brute(matrix, weights, existing, lambda c: len(c) <= k)
    assert model.solution.objective == pytest.approx(best, abs=1e-6)
    assert model.solution.bound >= model.solution.objective - 1e-6
    greedy = MaximalCovering(matrix, weights, k=k, existing=existing).solve("greedy")
    assert greedy.solution.objective <= best + 1e-6
    assert greedy.solution.bound >= best - 1e-6  # the LP relaxation bounds the optimum


@settings(max_examples=50, deadline=None)
@given(instances(), st.floats(1, 6))
def test_exact_budgeted_equals_brute_force(inst, budget) -> None:
    matrix, weights, existing, costs = inst
    model = BudgetedMaximalCovering(matrix, weights, budget, costs=costs, existing=existing)
    model.solve("exact", mip_gap=0)
    best = brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
    assert model.solution.objective == pytest.approx(best, abs=1e-6)
    assert model.solution.total_cost <= budget + 1e-9
    greedy = BudgetedMaximalCovering(matrix, weights, budget, costs=costs, existing=existing)
    greedy.solve("greedy")
    assert greedy.solution.total_cost <= budget + 1e-9
    assert greedy.solution.objective <= best + 1e-6
    assert greedy.solution.objective >= 0.5 * (1 - 1 / np.e) * best - 1e-6


@settings(max_examples=40, deadline=None)
@given(instances(), st.floats(0.1, 1.0))
def test_set_covering_finds_the_cheapest_set(inst, target) -> None:
    matrix, weights, existing, costs = inst
    total = weights.sum()
    if total == 0:
        return
    reachable = covered_weight(matrix, weights, list(range(matrix.shape[0])), existing)
    model = SetCovering(matrix, weights, target, costs=costs, existing=existing)
    if reachable < target * total - 1e-9:
        with pytest.raises(InfeasibleError):
            model.solve("exact")
        return
    model.solve("exact", mip_gap=0)
    n = matrix.shape[0]
    cheapest = min(
        costs[list(c)].sum()
        for r in range(n + 1)
        for c in itertools.combinations(range(n), r)
        if covered_weight(matrix, weights, list(c), existing) >= target * total - 1e-9
    )
    assert model.solution.objective == pytest.approx(cheapest)
    greedy = SetCovering(matrix, weights, target, costs=costs, existing=existing).solve("greedy")
    assert greedy.solution.coverage_share >= target - 1e-9
    assert greedy.solution.objective >= cheapest - 1e-9


@settings(max_examples=40, deadline=None)
@given(instances(), st.integers(1, 5))
def test_objective_never_falls_as_k_or_budget_grows(inst, k) -> None:
    matrix, weights, existing, costs = inst
    for method in ("greedy", "exact"):
        a = MaximalCovering(matrix, weights, k=k, existing=existing).solve(method).solution
        b = MaximalCovering(matrix, weights, k=k + 1, existing=existing).solve(method).solution
        assert b.objective >= a.objective - 1e-6
    a = BudgetedMaximalCovering(matrix, weights, k, costs=costs).solve("exact").solution
    b = BudgetedMaximalCovering(matrix, weights, k + 1.5, costs=costs).solve("exact").solution
    assert b.objective >= a.objective - 1e-6


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=6), st.integers(2, 4), st.data())
def test_floors_and_caps_are_respected(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites, n_cells = matrix.shape
    site_area = np.array(
        data.draw(st.lists(st.sampled_from("AB"), min_size=n_sites, max_size=n_sites))
    )
    cell_area = np.array(
        data.draw(st.lists(st.sampled_from("AB"), min_size=n_cells, max_size=n_cells))
    )
    limits = equity_limits(site_area, cell_area, min_sites_per_area=1, max_sites_per_area=2)
    for method in ("greedy", "exact"):
        model = MaximalCovering(matrix, weights, k=k, existing=existing, limits=limits)
        try:
            sol = model.solve(method).solution
        except InfeasibleError:
            continue
        chosen = site_area[sol.selected]
        for area in set(site_area):
            assert 1 <= (chosen == area).sum() <= 2
        assert len(sol.selected) <= k


def test_mandatory_and_excluded_sites() -> None:
    m = sparse.csr_array(np.eye(3))
    w = np.array([1.0, 5.0, 3.0])
    sol = MaximalCovering(m, w, k=2, mandatory=[0], excluded=[1]).solve("exact").solution
    assert sorted(sol.selected.tolist()) == [0, 2]
    sol = MaximalCovering(m, w, k=2, mandatory=[0], excluded=[1]).solve("greedy").solution
    assert sorted(sol.selected.tolist()) == [0, 2]


def test_infeasible_floor_names_the_constraint() -> None:
    m = sparse.csr_array(np.eye(3))
    limit = GroupLimit(
        name="locality 20 SUMAPAZ",
        sites=np.array([True, False, False]),
        cells=np.array([True, False, False]),
        min_sites=2,
    )
    with pytest.raises(
        InfeasibleError,
        match="'locality 20 SUMAPAZ' needs at least 2 sites but has only 1 candidate",
    ):
        MaximalCovering(m, np.ones(3), k=3, limits=[limit]).solve("exact")
    share = GroupLimit(
        name="rural area",
        sites=np.array([True, False, False]),
        cells=np.array([False, True, False]),
        min_share=0.5,
    )
    unreachable = sparse.csr_array(np.diag([1.0, 0.0, 1.0]))
    with pytest.raises(InfeasibleError, match=r"'rural area' needs 50\.0% of its demand covered"):
        MaximalCovering(unreachable, np.ones(3), k=3, limits=[share]).solve("greedy")
    sol = MaximalCovering(m, np.ones(3), k=1, limits=[share]).solve("greedy").solution
    assert sol.selected.tolist() == [1]  # the share floor may be met by a site outside the group
    with pytest.raises(InfeasibleError, match="mandatory sites cost 5, more than the budget 2"):
        BudgetedMaximalCovering(m, np.ones(3), 2, costs=np.array([5.0, 1, 1]), mandatory=[0]).solve(
            "exact"
        )
    for method in ("greedy", "exact"):  # every site together covers 2 of 3 cells
        with pytest.raises(
            InfeasibleError,
            match=r"target of 80\.0% coverage cannot be reached: even every candidate site "
            r"together covers only 66\.7%",
        ):
            SetCovering(unreachable, np.ones(3), target_share=0.8).solve(method)


def test_conflicting_constraints_are_diagnosed_by_the_solver() -> None:
    m = sparse.csr_array(np.eye(4))
    a = GroupLimit(
        name="A", sites=np.array([1, 1, 0, 0], bool), cells=np.ones(4, bool), min_sites=2
    )
    b = GroupLimit(
        name="B", sites=np.array([0, 1, 1, 0], bool), cells=np.ones(4, bool), max_sites=0
    )
    with pytest.raises(InfeasibleError, match="cannot be met"):
        MaximalCovering(m, np.ones(4), k=4, limits=[a, b]).solve("exact")


def test_from_cost_matrix_and_from_geodataframe_agree() -> None:
    import geopandas as gpd

    rng = np.random.default_rng(3)
    demand_xy = rng.uniform(0, 1000, (200, 2))
    site_xy = rng.uniform(0, 1000, (20, 2))
    weights = rng.integers(1, 10, 200).astype(float)
    cost = np.hypot(*(demand_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    a = MaximalCovering.from_cost_matrix(cost, weights, 150.0, 4).solve("exact")
    demand = gpd.GeoDataFrame(
        {"w": weights}, geometry=gpd.points_from_xy(*demand_xy.T), crs="EPSG:9377"
    )
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*site_xy.T), crs="EPSG:9377")
    b = MaximalCovering.from_geodataframe(demand, sites, "w", 150.0, 4).solve("exact")
    assert a.solution.objective == pytest.approx(b.solution.objective)


def test_from_geodataframe_refuses_different_crs() -> None:
    import geopandas as gpd
    import shapely

    from connectivity import OptimisationError

    d = gpd.GeoDataFrame({"w": [1.0]}, geometry=[shapely.Point(0, 0)], crs="EPSG:9377")
    s = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:3116")
    with pytest.raises(OptimisationError, match=r"must share one projected CRS"):
        MaximalCovering.from_geodataframe(d, s, "w", 10.0, 1)


def test_from_geodataframe_refuses_degrees_and_converts_feet() -> None:
    import geopandas as gpd
    import shapely

    from connectivity import OptimisationError

    def frames(crs: str, gap: float) -> tuple:
        d = gpd.GeoDataFrame({"w": [1.0]}, geometry=[shapely.Point(0, 0)], crs=crs)
        s = gpd.GeoDataFrame(geometry=[shapely.Point(gap, 0)], crs=crs)
        return d, s

    with pytest.raises(OptimisationError, match=r"not metres; reproject"):
        MaximalCovering.from_geodataframe(*frames("EPSG:4326", 0.001), "w", 300.0, 1)
    # EPSG:2263 is in US survey feet: 900 ft is 274 m, within 300 m but not within 250 m
    for radius_m, covered in ((300.0, 1.0), (250.0, 0.0)):
        model = MaximalCovering.from_geodataframe(*frames("EPSG:2263", 900.0), "w", radius_m, 1)
        assert model.solve("greedy").solution.objective == covered


def test_from_geodataframe_uses_centroids_and_names_empty_geometries() -> None:
    import geopandas as gpd
    import shapely

    from connectivity import OptimisationError

    cells = [shapely.box(0, 0, 100, 100), shapely.box(1000, 0, 1100, 100)]  # centroids 50, 1050
    d = gpd.GeoDataFrame({"w": [1.0, 2.0]}, geometry=cells, crs="EPSG:9377")
    s = gpd.GeoDataFrame(geometry=[shapely.Point(50, 150)], crs="EPSG:9377")
    model = MaximalCovering.from_geodataframe(d, s, "w", 120.0, 1)
    assert model.solve("greedy").solution.objective == 1.0  # the first cell, 100 m away
    d.index = ["a", "b"]
    d.loc["b", "geometry"] = shapely.Point()  # empty
    with pytest.raises(OptimisationError, match=r"demand has 1 empty .* index 'b'"):
        MaximalCovering.from_geodataframe(d, s, "w", 120.0, 1)
    d.loc["b", "geometry"] = None
    with pytest.raises(OptimisationError, match=r"index 'b'"):
        MaximalCovering.from_geodataframe(d, s, "w", 120.0, 1)


def test_unknown_method() -> None:
    from connectivity import OptimisationError

    with pytest.raises(
        OptimisationError, match="unknown method 'cbc'; choose one of greedy, exact"
    ):
        MaximalCovering(np.eye(2), np.ones(2), k=1).solve("cbc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_limit_s": 0}, "time limit must be above 0 s, got 0"),
        ({"time_limit_s": -5.0}, "time limit must be above 0 s"),
        ({"mip_gap": 2.0}, r"MIP gap must be a share from 0 up to 1, got 2\.0"),
        ({"mip_gap": -0.1}, "MIP gap must be a share"),
    ],
)
def test_solver_options_out_of_range(options, message) -> None:
    from connectivity import OptimisationError

    with pytest.raises(OptimisationError, match=message):
        MaximalCovering(np.eye(2), np.ones(2), k=1).solve("exact", **options)


def test_nothing_to_cover_is_warned_about(caplog) -> None:
    import logging

    with caplog.at_level(logging.WARNING, logger="connectivity"):
        model = MaximalCovering(sparse.csr_array((3, 4)), np.ones(4), k=2).solve("exact")
    assert model.solution.objective == 0.0
    assert len(model.solution.selected) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("no candidate site covers any demand point" in m for m in messages)


@pytest.mark.parametrize("radius_m", [0.0, -5.0, float("nan")])
def test_a_service_radius_must_be_positive(radius_m) -> None:
    import geopandas as gpd
    import shapely

    from connectivity import OptimisationError

    d = gpd.GeoDataFrame({"w": [1.0]}, geometry=[shapely.Point(0, 0)], crs="EPSG:9377")
    s = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:9377")
    with pytest.raises(OptimisationError, match="service radius must be a positive number"):
        MaximalCovering.from_geodataframe(d, s, "w", radius_m, 1)
    with pytest.raises(OptimisationError, match="service radius must be a positive number"):
        MaximalCovering.from_cost_matrix(np.zeros((1, 1)), np.ones(1), radius_m, 1)


def test_greedy_that_misses_a_floor_points_to_the_exact_method() -> None:
    # greedy meets area A's coverage floor with the cheapest site (0), which leaves no budget
    # for area B's one required site; site 2 alone meets both floors within the budget
    m = sparse.csr_array(np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]))
    w = np.array([17.0, 17.0])
    site_area, cell_area = np.array(["A", "B", "B"]), np.array(["B", "A"])
    limits = [
        GroupLimit(name="A", sites=site_area == "A", cells=cell_area == "A", min_share=0.3),
        GroupLimit(name="B", sites=site_area == "B", cells=cell_area == "B", min_sites=1),
    ]
    costs = np.array([1.0, 3.0, 2.0])
    model = BudgetedMaximalCovering(m, w, 2.0, costs=costs, limits=limits)
    with pytest.raises(InfeasibleError, match=r"greedy could not meet .* use the exact method"):
        model.solve("greedy")
    exact = BudgetedMaximalCovering(m, w, 2.0, costs=costs, limits=limits).solve("exact")
    assert exact.solution.selected.tolist() == [2]
    assert exact.solution.objective == pytest.approx(34.0)


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=6, max_cells=8), st.integers(0, 2), st.data())
def test_exact_with_more_sites_allowed_than_there_are(inst, extra, data) -> None:
    # k exceeds the sites left after exclusions: the dive's greedy fill once padded the plan
    # with excluded and repeated sites there (site 0, where an argmax over none allowed lands)
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    excluded = sorted({0} | data.draw(st.sets(st.integers(0, n_sites - 1))))
    k = n_sites - len(excluded) + 1 + extra
    model = MaximalCovering(matrix, weights, k=k, existing=existing, excluded=excluded)
    sol = model.solve("exact", mip_gap=0).solution
    chosen = sol.selected.tolist()
    assert len(set(chosen)) == len(chosen) <= k
    assert not set(chosen) & set(excluded)
    best = brute(matrix, weights, existing, lambda c: len(c) <= k and not set(c) & set(excluded))
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


@settings(max_examples=30, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4))
def test_exact_on_the_large_model_path_equals_brute_force(inst, k) -> None:
    """Dive, interior point and HiGHS's heuristics (the path above 200,000 nonzeros)."""
    matrix, weights, existing, _ = inst
    model = MaximalCovering(matrix, weights, k=k, existing=existing)
    model.solve("exact", mip_gap=0, policy=Policy(ipm_min_nnz=-1))
    best = brute(matrix, weights, existing, lambda c: len(c) <= k)
    assert model.solution.objective == pytest.approx(best, abs=1e-6)
    assert model.solution.bound >= model.solution.objective - 1e-6
