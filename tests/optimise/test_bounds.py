"""Bounds: every bound the optimiser reports is at least the best plan's objective."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity.optimise import BudgetedMaximalCovering, MaximalCovering, Policy, Problem
from connectivity.optimise.bounds import lagrangian_bound, no_looser_than, relaxation_bound
from connectivity.optimise.highs import pdlp_relaxation
from connectivity.optimise.reduction import prepare

from .oracles import brute, instances


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10, partial=True), st.integers(1, 4), st.floats(1, 6))
def test_pdlp_multipliers_and_subgradient_steps_give_valid_bounds(inst, k, budget) -> None:
    matrix, weights, existing, costs = inst
    best_k = brute(matrix, weights, existing, lambda c: len(c) <= k)
    best_b = brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
    by_k = Problem.from_arrays(matrix, weights, k=k, existing=existing)
    by_budget = Problem.from_arrays(matrix, weights, budget=budget, costs=costs, existing=existing)
    for problem, best in ((by_k, best_k), (by_budget, best_b)):
        prepared = prepare(problem)
        assert lagrangian_bound(prepared, None, 1e-4) >= best - 1e-6
        relaxed = pdlp_relaxation(prepared, None)
        if relaxed is None:  # no open cell: nothing to relax
            assert prepared.merged.n_cells == 0
            continue
        assert relaxation_bound(prepared, None, 1e-4, relaxed) >= best - 1e-6


@settings(max_examples=30, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.floats(1, 6))
def test_exact_above_the_lp_size_limit_keeps_a_valid_bound(inst, k, budget) -> None:
    """The path for models whose LP relaxation is too large: PDLP, restricted dive, search."""
    matrix, weights, existing, costs = inst
    best_k = brute(matrix, weights, existing, lambda c: len(c) <= k)
    best_b = brute(matrix, weights, existing, lambda c: costs[list(c)].sum() <= budget + 1e-9)
    policy = Policy(lp_bound_max_nnz=-1, ipm_min_nnz=-1)
    by_k = MaximalCovering(matrix, weights, k=k, existing=existing).solve("exact", policy=policy)
    by_budget = BudgetedMaximalCovering(
        matrix, weights, budget, costs=costs, existing=existing
    ).solve("exact", policy=policy)
    for sol, best in ((by_k.solution, best_k), (by_budget.solution, best_b)):
        assert sol.objective <= best + 1e-6
        assert sol.bound >= best - 1e-6
    if by_k.solution.n_cells_model and len(by_k.solution.selected):
        assert by_k.solution.path == "exact, PDLP"
        assert "bound from PDLP" in by_k.solution.status
    assert by_budget.solution.path == "exact, HiGHS"
    assert len(by_k.solution.selected) <= k
    assert by_budget.solution.total_cost <= budget + 1e-9


def test_the_lp_bound_stands_when_highs_stops_before_its_root() -> None:
    # HiGHS stopped by the time limit before its root LP has no bound to report (NaN) or a
    # looser one; the dive's LP relaxation then is the bound
    assert no_looser_than(np.nan, 15.5) == 15.5
    assert no_looser_than(16.0, 15.5) == 15.5
    assert no_looser_than(14.2, 15.5) == 14.2
    m = sparse.csr_array(_LP_GAP_MATRIX)
    sol = MaximalCovering(m, _LP_GAP_WEIGHTS, k=2).solve("exact").solution
    assert sol.objective == pytest.approx(14.0)
    assert 14.0 - 1e-6 <= sol.bound <= 15.5 + 1e-6


_LP_GAP_MATRIX = np.array(
    [[0, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1, 1, 0, 1, 0], [1, 1, 0, 0, 1]], dtype=float
)
_LP_GAP_WEIGHTS = np.array([3.0, 3.0, 3.0, 4.0, 4.0])  # k = 2: LP 15.5, best plan 14
