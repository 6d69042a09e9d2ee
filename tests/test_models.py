"""Location models: exact against brute force, greedy against exact, constraints respected."""

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
    SetCovering,
    covered_weight,
    equity_limits,
    rank_selection,
)


@st.composite
def instances(draw, max_sites: int = 7, max_cells: int = 10, partial: bool = False):
    n_sites = draw(st.integers(1, max_sites))
    n_cells = draw(st.integers(1, max_cells))
    size = n_sites * n_cells
    mask = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    if partial:
        q = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=size, max_size=size)))
    else:
        q = np.ones(size)
    dense = np.where(mask, q, 0.0).reshape(n_sites, n_cells)
    weights = np.array(
        draw(st.lists(st.integers(0, 50), min_size=n_cells, max_size=n_cells)), dtype=float
    )
    existing = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0]), min_size=n_cells, max_size=n_cells))
    )
    costs = np.array(
        draw(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=n_sites, max_size=n_sites))
    )
    return sparse.csr_array(dense), weights, existing, costs


def _brute(matrix, weights, existing, feasible):
    n = matrix.shape[0]
    best = -np.inf
    for r in range(n + 1):
        for combo in itertools.combinations(range(n), r):
            if feasible(combo):
                best = max(best, covered_weight(matrix, weights, list(combo), existing))
    return best


def _k_and_exclusions(n_sites: int, k: int, data) -> tuple[int, set[int]]:
    """Clip ``k`` to the sites there are and draw excluded sites, leaving at least ``k``."""
    k = min(k, n_sites)
    return k, data.draw(st.sets(st.integers(0, n_sites - 1), max_size=n_sites - k))


@settings(max_examples=50, deadline=None)
@given(instances(partial=True), st.integers(1, 4))
def test_exact_maximal_covering_equals_brute_force(inst, k) -> None:
    matrix, weights, existing, _ = inst
    model = MaximalCovering(matrix, weights, k=k, existing=existing).solve("exact", mip_gap=0)
    best = _brute(matrix, weights, existing, lambda c: len(c) <= k)
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
    best = _brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
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


def test_cell_merging_keeps_the_objective() -> None:
    rng = np.random.default_rng(7)
    dense = (rng.random((30, 400)) < 0.05).astype(float)
    dense[:, 200:] = dense[:, :200]  # every cell has a twin
    weights = rng.lognormal(size=400)
    model = MaximalCovering(dense, weights, k=5).solve("exact", mip_gap=0)
    assert model.solution.n_cells_model <= 200
    half = MaximalCovering(dense[:, :200], weights[:200] + weights[200:], k=5)
    assert model.solution.objective == pytest.approx(
        half.solve("exact", mip_gap=0).solution.objective
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 30),
    st.data(),
)
def test_cells_are_grouped_as_by_their_bytes(n_sites, n_cells, data) -> None:
    """Hashed grouping of identical cells equals grouping by each cell's bytes, in number too."""
    from connectivity.optimise import _identical_rows, _identical_rows_by_bytes

    # few distinct values, so that identical rows are common
    values = st.sampled_from([0.0, 0.0, 0.0, 0.5, 1.0])
    dense = np.array(
        data.draw(st.lists(values, min_size=n_sites * n_cells, max_size=n_sites * n_cells))
    ).reshape(n_cells, n_sites)
    rows = sparse.csr_array(dense)
    use = np.array(data.draw(st.lists(st.booleans(), min_size=n_cells, max_size=n_cells)))
    existing = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.5]), min_size=n_cells, max_size=n_cells))
    )
    member = np.array(data.draw(st.lists(st.booleans(), min_size=n_cells, max_size=n_cells)))
    hashed = _identical_rows(rows, use, [existing, member])
    assert hashed is not None
    np.testing.assert_array_equal(hashed, _identical_rows_by_bytes(rows, use, [existing, member]))


def test_a_hash_collision_falls_back_to_grouping_by_bytes(monkeypatch) -> None:
    """When different cells hash alike, they are found out and grouped by their bytes."""
    from connectivity.optimise import _identical_rows

    dense = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]).T
    weights = np.array([1.0, 2.0, 4.0, 8.0])
    model = MaximalCovering(dense.T, weights, k=1)
    expected = model._merge_cells()

    class Zeros:  # every row hashes to 0
        def __init__(self, seed: int) -> None:
            pass

        def random(self, n: int) -> np.ndarray:
            return np.zeros(n)

    monkeypatch.setattr(np.random, "default_rng", Zeros)
    rows = sparse.csr_array(dense)
    assert _identical_rows(rows, np.ones(4, dtype=bool), []) is None
    merged = model._merge_cells()
    np.testing.assert_array_equal(merged[1], expected[1])  # weights 1 + 4 and 2 + 8
    np.testing.assert_array_equal(merged[1], [5.0, 10.0])
    assert (merged[0] != expected[0]).nnz == 0


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
        ({"mip_gap": 2.0}, r"MIP gap is a share from 0 up to 1, got 2\.0"),
        ({"mip_gap": -0.1}, "MIP gap is a share"),
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


def test_iterated_interchange_escapes_the_swap_local_optimum() -> None:
    # the benchmark's city-like 2,000 x 200 instance at 300 m, k = 10: greedy plus single
    # swaps stops 4.5 % below the optimum; the perturbation rounds reach it
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from bench_mclp import make_instance

    from connectivity.coverage import coverage_matrix

    demand, weights, sites = make_instance(2000, 200, 20261127)
    matrix = coverage_matrix(sites, demand, 300.0)
    model = MaximalCovering(matrix, weights, 10)
    plain = model._interchange(model._greedy(None, improve=False))
    greedy = model.solve("greedy").solution.selected
    exact = model.solve("exact").solution.objective
    value = covered_weight(matrix, weights, list(greedy), np.zeros(len(weights)))
    assert covered_weight(matrix, weights, list(plain.sites), np.zeros(len(weights))) < value
    assert value == pytest.approx(exact)
    again = MaximalCovering(matrix, weights, 10).solve("greedy").solution.selected
    assert list(again) == list(greedy)  # seeded: the same plan every time


def _assert_keeps_the_rules_and_never_loses(
    plan, warm, inst, k: int, excluded: set[int], mandatory: set[int] | frozenset[int] = frozenset()
) -> None:
    """A dive's plan has at most ``k`` sites, keeps the rules and covers no less than ``warm``."""
    matrix, weights, existing, _ = inst
    chosen = set(plan.sites.tolist())
    assert len(plan.sites) <= k
    assert not chosen & excluded
    assert mandatory <= chosen
    dive = covered_weight(matrix, weights, plan.sites, existing)
    assert dive >= covered_weight(matrix, weights, warm.sites, existing) - 1e-9


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_lp_dive_keeps_the_rules_and_never_loses(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = _k_and_exclusions(n_sites, k, data)
    model = MaximalCovering(matrix, weights, k=k, existing=existing, excluded=sorted(excluded))
    warm = model._greedy(None)
    plan = model._lp_dive(warm, None)
    _assert_keeps_the_rules_and_never_loses(plan, warm, inst, k, excluded)


@settings(max_examples=30, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4))
def test_exact_on_the_large_model_path_equals_brute_force(inst, k) -> None:
    """Dive, interior point and HiGHS's heuristics (the path above 200,000 nonzeros)."""
    import connectivity.optimise as optimise

    matrix, weights, existing, _ = inst
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimise, "_IPM_MIN_NNZ", -1)
        model = MaximalCovering(matrix, weights, k=k, existing=existing).solve("exact", mip_gap=0)
    best = _brute(matrix, weights, existing, lambda c: len(c) <= k)
    assert model.solution.objective == pytest.approx(best, abs=1e-6)
    assert model.solution.bound >= model.solution.objective - 1e-6


@settings(max_examples=100, deadline=None)
@given(instances(max_sites=7, max_cells=8), st.floats(1, 6), st.data())
def test_exact_with_site_rules_equals_brute_force(inst, budget, data) -> None:
    """Excluded, mandatory and capped sites with costs: dominance fixing loses no plan."""
    matrix, weights, existing, costs = inst
    n_sites = matrix.shape[0]
    # some sites copy another's cells (twins) or keep only the ones they share (subsets)
    dense = matrix.toarray()
    copies = data.draw(st.lists(st.integers(-1, n_sites - 1), min_size=n_sites, max_size=n_sites))
    for j, source in enumerate(copies):
        if source >= 0:
            dense[j] = dense[source] * (dense[j] > 0) if j % 2 else dense[source]
    matrix = sparse.csr_array(dense)
    picks = data.draw(st.lists(st.sampled_from("emf"), min_size=n_sites, max_size=n_sites))
    excluded = [j for j, p in enumerate(picks) if p == "e"]
    mandatory = [j for j, p in enumerate(picks) if p == "m"][:2]
    area = np.array(data.draw(st.lists(st.sampled_from("AB"), min_size=n_sites, max_size=n_sites)))
    cap = GroupLimit(
        name="A", sites=area == "A", cells=np.zeros(matrix.shape[1], bool), max_sites=1
    )
    chosen_area = area == "A"

    def feasible(combo: tuple[int, ...]) -> bool:
        c = list(combo)
        return (
            costs[c].sum() <= budget + 1e-9
            and not set(c) & set(excluded)
            and set(mandatory) <= set(c)
            and chosen_area[c].sum() <= 1
        )

    model = BudgetedMaximalCovering(
        matrix,
        weights,
        budget,
        costs=costs,
        existing=existing,
        mandatory=mandatory,
        excluded=excluded,
        limits=[cap],
    )
    best = _brute(matrix, weights, existing, feasible)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            model.solve("exact")
        return
    sol = model.solve("exact", mip_gap=0).solution
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert feasible(tuple(sol.selected.tolist()))
    _, objective, *_ = model._exact(None, 0.0)  # the MILP alone, without the greedy plan
    assert objective == pytest.approx(best, abs=1e-6)


def test_an_excluded_site_does_not_rule_out_its_twin() -> None:
    # sites 0 and 1 cover the same cells; 0 is excluded, so 1 is the best choice
    m = sparse.csr_array(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    w = np.array([5.0, 5.0, 1.0])
    for method in ("exact", "greedy"):
        sol = MaximalCovering(m, w, k=1, excluded=[0]).solve(method).solution
        assert sol.selected.tolist() == [1]
        assert sol.objective == pytest.approx(10.0)
    model = MaximalCovering(m, w, k=1, excluded=[0])
    _, objective, *_ = model._exact(None, 0.0)  # the MILP alone, without the greedy plan
    assert objective == pytest.approx(10.0)


def test_a_site_covering_a_subset_of_another_is_left_out_of_the_milp() -> None:
    # site 1 covers a subset of site 0's cells and site 3 of site 2's: neither can improve a plan
    m = sparse.csr_array(
        np.array([[1, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1.0]])
    )
    model = MaximalCovering(m, np.ones(5), k=2)
    q = model._merged_cells()[0]
    assert model._dominated_sites(q).tolist() == [False, True, False, True]
    assert model.solve("exact").solution.objective == pytest.approx(5.0)
    capped = GroupLimit(name="A", sites=np.array([1, 0, 0, 0], bool), cells=np.zeros(5, bool))
    mixed = MaximalCovering(m, np.ones(5), k=2, limits=[capped])
    assert mixed._dominated_sites(q).tolist() == [False, False, False, True]


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10, partial=True), st.integers(1, 4), st.floats(1, 6))
def test_pdlp_multipliers_give_a_valid_bound(inst, k, budget) -> None:
    matrix, weights, existing, costs = inst
    best_k = _brute(matrix, weights, existing, lambda c: len(c) <= k)
    best_b = _brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
    by_k = MaximalCovering(matrix, weights, k=k, existing=existing)
    by_budget = BudgetedMaximalCovering(matrix, weights, budget, costs=costs, existing=existing)
    for model, best in ((by_k, best_k), (by_budget, best_b)):
        relaxed = model._pdlp_relaxation(None)
        if relaxed is None:  # no open cell: nothing to relax
            assert model._n_model_cells() == 0
            continue
        assert model._relaxation_bound(None, 1e-4, relaxed) >= best - 1e-6


@settings(max_examples=30, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.floats(1, 6))
def test_exact_above_the_lp_size_limit_keeps_a_valid_bound(inst, k, budget) -> None:
    """The path for models whose LP relaxation is too large: PDLP, restricted dive, search."""
    import connectivity.optimise as optimise

    matrix, weights, existing, costs = inst
    best_k = _brute(matrix, weights, existing, lambda c: len(c) <= k)
    best_b = _brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimise, "_LP_BOUND_MAX_NNZ", -1)
        patch.setattr(optimise, "_IPM_MIN_NNZ", -1)
        by_k = MaximalCovering(matrix, weights, k=k, existing=existing).solve("exact")
        by_budget = BudgetedMaximalCovering(
            matrix, weights, budget, costs=costs, existing=existing
        ).solve("exact")
    for sol, best in ((by_k.solution, best_k), (by_budget.solution, best_b)):
        assert sol.objective <= best + 1e-6
        assert sol.bound >= best - 1e-6
    if by_k.solution.n_cells_model and len(by_k.solution.selected):
        assert "bound from PDLP" in by_k.solution.status
    assert len(by_k.solution.selected) <= k
    assert by_budget.solution.total_cost <= budget + 1e-9


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_restricted_dive_keeps_the_rules_and_never_loses(inst, k, data) -> None:
    import connectivity.optimise as optimise

    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = _k_and_exclusions(n_sites, k, data)
    free = sorted(set(range(n_sites)) - excluded)
    mandatory = data.draw(st.sets(st.sampled_from(free), max_size=1)) if free else set()
    guide = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n_sites, max_size=n_sites)))
    model = MaximalCovering(
        matrix,
        weights,
        k=k,
        existing=existing,
        excluded=sorted(excluded),
        mandatory=sorted(mandatory),
    )
    warm = model._greedy(None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimise, "_RESTRICTED_DIVE_NNZ", data.draw(st.integers(0, 20)))
        plan = model._restricted_dive(warm, guide, None)
    _assert_keeps_the_rules_and_never_loses(plan, warm, inst, k, excluded, mandatory)


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
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_reduced_cost_fixing_never_fixes_a_site_of_a_better_plan(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = _k_and_exclusions(n_sites, k, data)
    model = MaximalCovering(matrix, weights, k=k, existing=existing, excluded=sorted(excluded))
    warm = model._greedy(None)
    _, relaxation = model._dive_with_relaxation(warm, None)
    if relaxation is None:  # the dive does not apply (no coverage)
        return
    # the rule must hold for any plan, not only a good one
    allowed = sorted(set(range(n_sites)) - excluded)
    chosen = data.draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=k, unique=True))
    plan = rank_selection(matrix, weights, chosen, existing, np.ones(n_sites))
    fixed = model._fixed_by_reduced_cost(relaxation, plan)
    value = covered_weight(matrix, weights, plan.sites, existing)
    for j in np.flatnonzero(fixed):
        with_j = _brute(
            matrix,
            weights,
            existing,
            lambda c, j=j: j in c and len(c) <= k and not set(c) & excluded,
        )
        assert with_j <= value + 1e-6
    best = _brute(matrix, weights, existing, lambda c: len(c) <= k and not set(c) & excluded)
    exact = MaximalCovering(matrix, weights, k=k, existing=existing, excluded=sorted(excluded))
    sol = exact.solve("exact", mip_gap=0).solution
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


def test_highs_keeps_cuts_at_the_nodes_only_for_knapsack_like_models() -> None:
    # k-site models: a small cut pool and cuts at the root only; a budget, a target or a
    # coverage floor makes a row knapsack-like, where cuts at the nodes pay (benchmarks/)
    from connectivity.optimise import _highs

    m = sparse.csr_array(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]))
    w = np.array([3.0, 2.0, 1.0])
    floor = GroupLimit(name="A", sites=np.ones(3, bool), cells=np.ones(3, bool), min_share=0.5)
    models = {
        "k sites": (MaximalCovering(m, w, k=1), False),
        "budget": (BudgetedMaximalCovering(m, w, budget=1.0), True),
        "target": (SetCovering(m, w, target_share=0.5), True),
        "floor": (MaximalCovering(m, w, k=1, limits=[floor]), True),
    }
    for name, (model, at_nodes) in models.items():
        h = _highs(model._milp(relax=False), time_limit_s=None, mip_gap=1e-4)
        _, nodes = h.getOptionValue("mip_allow_cut_separation_at_nodes")
        _, pool = h.getOptionValue("mip_pool_soft_limit")
        assert nodes is at_nodes, name
        assert pool == (2_000 if at_nodes else 500), name


def test_a_long_exact_search_logs_its_plan_and_bound(monkeypatch, caplog) -> None:
    """The branch and bound reports its best plan and bound as it goes (here at every event)."""
    import logging
    import re

    import connectivity.optimise as optimise

    monkeypatch.setattr(optimise, "_PROGRESS_EVERY_S", 0.0)
    rng = np.random.default_rng(5)
    m = sparse.csr_array((rng.random((40, 300)) < 0.08).astype(float))
    w = rng.lognormal(size=300)
    costs = rng.lognormal(sigma=0.5, size=40)
    model = BudgetedMaximalCovering(m, w, budget=6.0, costs=costs)
    with caplog.at_level(logging.INFO, logger="connectivity"):
        model.solve("exact", mip_gap=0)
    lines = [r.getMessage() for r in caplog.records if "exact search" in r.getMessage()]
    assert lines
    found = re.search(r"best plan ([\d,.]+), gap [\d.]+%, bound ([\d,.]+) \(covered", lines[-1])
    assert found, lines[-1]
    plan, bound = (float(v.replace(",", "")) for v in found.groups())
    assert plan <= bound + 1e-6
    assert bound >= model.solution.objective - 0.1  # the search's bound is never below the optimum
    assert plan <= model.solution.objective + 0.1


def test_a_plan_that_meets_the_lp_bound_skips_branch_and_bound(monkeypatch) -> None:
    # three sites with disjoint cells: the LP optimum is integral, so the dive's plan is proven
    import connectivity.optimise as optimise

    def no_milp(*args, **kwargs):
        raise AssertionError("HiGHS's branch and bound ran on a plan the LP already proves")

    monkeypatch.setattr(optimise.MaximalCovering, "_exact_on_remaining", no_milp)
    monkeypatch.setattr(optimise.MaximalCovering, "_exact_whole", no_milp)
    m = sparse.csr_array(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0, 0, 0, 1.0]]))
    w = np.array([3.0, 2.0, 4.0, 1.0])
    sol = MaximalCovering(m, w, k=2).solve("exact", mip_gap=0).solution
    assert sorted(sol.selected.tolist()) == [0, 1]
    assert sol.objective == pytest.approx(9.0)
    assert sol.bound == pytest.approx(9.0)
    assert sol.status == "optimal"


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
    best = _brute(matrix, weights, existing, lambda c: len(c) <= k and not set(c) & set(excluded))
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


@settings(max_examples=300, deadline=None)
@given(instances(max_sites=8, max_cells=12), st.integers(1, 4), st.data())
def test_interchange_and_local_search_never_lower_the_objective(inst, k, data) -> None:
    # they once counted a cell's whole weight where existing coverage (0.5 here) left only part
    # of it open, and could trade a plan for a worse one
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    model = MaximalCovering(matrix, weights, k=min(k, n_sites), existing=existing)
    chosen = data.draw(
        st.lists(st.integers(0, n_sites - 1), min_size=1, max_size=min(k, n_sites), unique=True)
    )
    start = rank_selection(matrix, weights, chosen, existing, np.ones(n_sites))
    before = covered_weight(matrix, weights, start.sites, existing)
    for improved in (model._interchange(start), model._iterated_interchange(start)):
        assert covered_weight(matrix, weights, improved.sites, existing) >= before - 1e-9


def test_local_search_stops_when_the_plan_reaches_the_bound(monkeypatch) -> None:
    # the plan {0, 1} covers all five cells: with that as the bound there is nothing to search
    # for, although the two best single sites (3 + 3) do not prove it
    m = sparse.csr_array(
        np.array([[1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0]])
    )
    w = np.ones(5)
    model = MaximalCovering(m, w, k=2)
    calls = []
    interchange = MaximalCovering._interchange
    monkeypatch.setattr(
        MaximalCovering,
        "_interchange",
        lambda self, *a, **kw: calls.append(1) or interchange(self, *a, **kw),
    )
    plan = rank_selection(m, w, [0, 1], np.zeros(5), np.ones(3))
    found = model._iterated_interchange(plan, bound=5.0)
    assert covered_weight(m, w, found.sites, np.zeros(5)) == 5
    assert len(calls) == 1
    calls.clear()
    model._iterated_interchange(plan)  # without the bound, the search goes on
    assert len(calls) > 1


_LP_GAP_MATRIX = np.array(
    [[0, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1, 1, 0, 1, 0], [1, 1, 0, 0, 1]], dtype=float
)
_LP_GAP_WEIGHTS = np.array([3.0, 3.0, 3.0, 4.0, 4.0])  # k = 2: LP 15.5, best plan 14


def test_the_lp_may_run_past_the_dives_share_of_the_time() -> None:
    model = MaximalCovering(sparse.csr_array(_LP_GAP_MATRIX), _LP_GAP_WEIGHTS, k=2)
    warm = model._greedy(None)
    assert model._dive_with_relaxation(warm, 0.0)[1] is None  # no time for the LP
    plan, relaxation = model._dive_with_relaxation(warm, 0.0, lp_time_s=60.0)
    assert relaxation is not None and relaxation.bound == pytest.approx(15.5)
    assert covered_weight(model.matrix, model.weights, plan.sites, model.existing) >= 14.0 - 1e-9


def test_the_lp_bound_stands_when_highs_stops_before_its_root(monkeypatch) -> None:
    # HiGHS stopped by the time limit before its root LP has no bound to report; the dive's LP
    # relaxation then is the bound (it was the Lagrangian one, far looser on a short limit)
    def stopped(self, warm, *args, **kwargs):
        return warm, np.nan, "time limit reached", 5

    monkeypatch.setattr(MaximalCovering, "_exact_whole", stopped)
    monkeypatch.setattr(MaximalCovering, "_exact_on_remaining", stopped)
    model = MaximalCovering(sparse.csr_array(_LP_GAP_MATRIX), _LP_GAP_WEIGHTS, k=2)
    sol = model.solve("exact").solution
    assert sol.objective == pytest.approx(14.0)
    assert sol.bound == pytest.approx(15.5)


def test_a_time_limit_too_short_for_the_lp_takes_pdlps_bound_without_highs(monkeypatch) -> None:
    # the dive's LP not solved in its share of the time: HiGHS's MILP could not finish its own
    # root LP either, so it is not run, and PDLP's multipliers bound the plan
    import connectivity.optimise as optimise

    def no_lp(self, warm, *args, **kwargs):
        return warm, None

    def no_milp(model, **options):
        assert not model.is_mip, "HiGHS's MILP ran"
        return real_run(model, **options)

    real_run = optimise._run_highs
    monkeypatch.setattr(MaximalCovering, "_dive_with_relaxation", no_lp)
    monkeypatch.setattr(optimise, "_run_highs", no_milp)
    rng = np.random.default_rng(11)
    matrix = sparse.csr_array((rng.random((8, 40)) < 0.2).astype(float))
    weights = rng.lognormal(size=40)
    sol = MaximalCovering(matrix, weights, k=3).solve("exact", time_limit_s=5).solution
    best = _brute(matrix, weights, np.zeros(40), lambda combo: len(combo) <= 3)
    assert sol.status == "not proven optimal: time limit too short for the LP relaxation"
    assert sol.objective <= best + 1e-9
    assert sol.bound >= best - 1e-6
    assert np.isfinite(sol.gap)
