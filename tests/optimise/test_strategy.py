"""The strategy: the path chosen up front and the steps it ran, recorded in the solution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from connectivity.optimise import (
    BudgetedMaximalCovering,
    GroupLimit,
    MaximalCovering,
    Policy,
    SetCovering,
)

from .oracles import brute


def test_a_plan_that_meets_the_lp_bound_skips_branch_and_bound() -> None:
    # three sites with disjoint cells: the LP optimum is integral, so the dive's plan is proven
    m = sparse.csr_array(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0, 0, 0, 1.0]]))
    w = np.array([3.0, 2.0, 4.0, 1.0])
    sol = MaximalCovering(m, w, k=2).solve("exact", mip_gap=0).solution
    assert sorted(sol.selected.tolist()) == [0, 1]
    assert sol.objective == pytest.approx(9.0)
    assert sol.bound == pytest.approx(9.0)
    assert sol.status == "optimal"
    assert sol.path == "exact, dive"
    assert "LP bound proves the plan" in sol.steps
    assert not any("branch and bound" in step for step in sol.steps)


def test_a_time_limit_too_short_for_the_lp_takes_pdlps_bound_without_highs() -> None:
    # the dive's LP not solved in its share of the time: HiGHS's MILP could not finish its own
    # root LP either, so it is not run, and PDLP's multipliers bound the plan
    rng = np.random.default_rng(11)
    matrix = sparse.csr_array((rng.random((8, 40)) < 0.2).astype(float))
    weights = rng.lognormal(size=40)
    no_time = Policy(lp_share=1e-12, dive_share=1e-12)
    sol = MaximalCovering(matrix, weights, k=3).solve("exact", time_limit_s=5, policy=no_time)
    solution = sol.solution
    best = brute(matrix, weights, np.zeros(40), lambda combo: len(combo) <= 3)
    assert solution.status == "not proven optimal: time limit too short for the LP relaxation"
    assert "LP not solved in time" in solution.steps
    assert not any("branch and bound" in step for step in solution.steps)
    assert solution.objective <= best + 1e-9
    assert solution.bound >= best - 1e-6
    assert np.isfinite(solution.gap)


def test_each_kind_of_model_takes_its_path() -> None:
    rng = np.random.default_rng(2)
    m = sparse.csr_array((rng.random((12, 60)) < 0.2).astype(float))
    w = rng.lognormal(size=60)
    costs = rng.uniform(1, 3, 12)
    floor = GroupLimit(name="A", sites=np.ones(12, bool), cells=np.ones(60, bool), min_sites=1)
    cases = {
        "exact, dive": MaximalCovering(m, w, k=3),
        "exact, HiGHS": BudgetedMaximalCovering(m, w, 4.0, costs=costs),
        "exact, PDLP": MaximalCovering(m, w, k=3),
    }
    policies = {"exact, PDLP": Policy(lp_bound_max_nnz=-1)}
    for path, model in cases.items():
        sol = model.solve("exact", policy=policies.get(path, Policy())).solution
        assert sol.path == path, (path, sol.steps)
        assert sol.steps[0] == "greedy"
    floors = MaximalCovering(m, w, k=3, limits=[floor]).solve("exact").solution
    assert floors.path == "exact, HiGHS"
    assert "HiGHS branch and bound on the whole model" in floors.steps
    target = SetCovering(m, w, 0.3, costs=costs).solve("exact").solution
    assert target.path == "exact, HiGHS"
    greedy = MaximalCovering(m, w, k=3).solve("greedy").solution
    assert greedy.path == "greedy" and greedy.steps[1].startswith("kernel search")
    budgeted = BudgetedMaximalCovering(m, w, 4.0, costs=costs).solve("greedy").solution
    assert budgeted.steps[:2] == ("greedy", "interchange")  # no kernel search under a budget


def test_many_identical_cells_are_solved_as_kinds() -> None:
    rng = np.random.default_rng(4)
    base = sparse.csr_array((rng.random((10, 50)) < 0.2).astype(float))
    m = sparse.csr_array(sparse.hstack([base] * 8))  # 400 cells, at most 50 kinds
    w = np.tile(rng.lognormal(size=50), 8)
    policy = Policy(reduce_min_cells=100)
    kinds = MaximalCovering(m, w, k=3).solve("exact", mip_gap=0, policy=policy).solution
    whole = MaximalCovering(m, w, k=3).solve("exact", mip_gap=0).solution
    assert kinds.objective == pytest.approx(whole.objective)
    assert len(kinds.ranking.covered) == 400
    np.testing.assert_allclose(kinds.ranking.covered, whole.ranking.covered)


def test_greedy_under_a_time_limit_returns_a_valid_plan_and_a_true_bound() -> None:
    from connectivity.coverage import coverage_matrix

    from .oracles import city_instance

    demand, weights, sites = city_instance(2000, 200, 20261127)
    matrix = coverage_matrix(sites, demand, 300.0)
    best = MaximalCovering(matrix, weights, 10).solve("exact", mip_gap=0).solution
    hurried = MaximalCovering(matrix, weights, 10).solve("greedy", time_limit_s=1e-3).solution
    assert "iterated local search (0 rounds)" in hurried.steps  # out of time before a round
    assert len(set(hurried.selected.tolist())) == len(hurried.selected) <= 10
    assert hurried.objective <= best.objective + 1e-6  # greedy never beats exact
    assert hurried.bound >= best.objective - 1e-6  # and its bound holds
    assert np.isfinite(hurried.gap)
    unhurried = MaximalCovering(matrix, weights, 10).solve("greedy").solution
    assert unhurried.objective >= hurried.objective - 1e-9
