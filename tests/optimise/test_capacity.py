"""Capacitated maximal covering: against brute force on tiny instances, and its invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity.errors import OptimisationError
from connectivity.optimise.capacity import CapacitatedProblem, assign, solve_capacitated


@st.composite
def capacitated(draw, max_sites: int = 5, max_points: int = 7):
    n_sites = draw(st.integers(1, max_sites))
    n_points = draw(st.integers(1, max_points))
    size = n_sites * n_points
    mask = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    q = np.array(draw(st.lists(st.sampled_from([0.5, 1.0]), min_size=size, max_size=size)))
    matrix = sparse.csr_array(np.where(mask, q, 0.0).reshape(n_sites, n_points))
    users = np.array(
        draw(st.lists(st.integers(0, 30), min_size=n_points, max_size=n_points)), float
    )
    value = np.array(draw(st.lists(st.integers(1, 5), min_size=n_points, max_size=n_points)), float)
    capacity = np.array(
        draw(
            st.lists(st.sampled_from([5.0, 10.0, 40.0, np.inf]), min_size=n_sites, max_size=n_sites)
        )
    )
    zone = draw(st.booleans())
    fixed = fixed_cap = None
    if zone:
        row = np.array(draw(st.lists(st.booleans(), min_size=n_points, max_size=n_points)), float)
        fixed = sparse.csr_array(row[None, :])
        fixed_cap = np.array([draw(st.sampled_from([3.0, 12.0]))])
    costs = np.array(
        draw(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=n_sites, max_size=n_sites))
    )
    k = draw(st.integers(1, n_sites))
    use_budget = draw(st.booleans())
    return CapacitatedProblem.of(
        matrix,
        users,
        value,
        capacity,
        fixed=fixed,
        fixed_capacity=fixed_cap,
        costs=costs,
        k=None if use_budget else k,
        budget=float(k + 1) if use_budget else None,
    )


def brute(p: CapacitatedProblem) -> float:
    best = -np.inf
    for r in range(p.n_sites + 1):
        for combo in itertools.combinations(range(p.n_sites), r):
            if p.k is not None and r > p.k:
                continue
            if p.budget is not None and p.costs[list(combo)].sum() > p.budget + 1e-9:
                continue
            best = max(best, assign(p, list(combo)).objective)
    return best


@settings(max_examples=60, deadline=None)
@given(capacitated())
def test_exact_equals_brute_force_and_greedy_never_beats_it(p: CapacitatedProblem) -> None:
    exact = solve_capacitated(p, "exact", time_limit_s=30).solution
    greedy = solve_capacitated(p, "greedy").solution
    best = brute(p)
    assert exact.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert greedy.objective <= exact.objective + 1e-6
    assert greedy.objective <= greedy.bound + 1e-6 or np.isnan(greedy.bound)
    assert exact.bound >= best - 1e-6


@settings(max_examples=60, deadline=None)
@given(capacitated())
def test_capacity_is_never_exceeded_nor_the_demand_in_reach(p: CapacitatedProblem) -> None:
    result = solve_capacitated(p, "greedy")
    sites = result.solution.ranking.sites
    split = result.split
    assert np.all(split.served_by_site <= p.capacity[sites] + 1e-6)
    assert np.all(split.served_by_zone <= p.fixed_capacity + 1e-6)
    assert np.all(split.served_at_point <= p.users + 1e-6)
    reach = (
        np.asarray(p.matrix[sites].sum(axis=0)).ravel() + np.asarray(p.fixed.sum(axis=0)).ravel()
    )
    assert np.all(split.served_at_point <= np.minimum(reach, 1e9) * p.users + 1e-6)
    # ranks are nested plans: each gain is what its site adds to the ones before
    gains = result.solution.ranking.gains
    assert result.before.objective + gains.sum() == pytest.approx(result.solution.objective)
    if p.k is not None:
        assert len(sites) <= p.k
    if p.budget is not None:
        assert p.costs[sites].sum() <= p.budget + 1e-9


def test_a_site_serves_its_capacity_and_the_rest_is_left_in_reach() -> None:
    # one site reaches 3 points asking 10 users each, but serves 12: the best values first
    p = CapacitatedProblem.of(
        np.ones((1, 3)),
        np.array([10.0, 10.0, 10.0]),
        np.array([1.0, 3.0, 2.0]),
        np.array([12.0]),
        k=1,
    )
    result = solve_capacitated(p, "exact")
    assert result.split.served_by_site.tolist() == pytest.approx([12.0])
    assert result.split.served_at_point.tolist() == pytest.approx([0.0, 10.0, 2.0])
    assert result.solution.objective == pytest.approx(3 * 10 + 2 * 2)


def test_bad_capacities_are_refused() -> None:
    with pytest.raises(OptimisationError, match="capacities must be greater than 0"):
        CapacitatedProblem.of(np.ones((1, 2)), np.ones(2), np.ones(2), np.array([0.0]), k=1)
    with pytest.raises(OptimisationError, match="2 capacities for 1"):
        CapacitatedProblem.of(np.ones((1, 2)), np.ones(2), np.ones(2), np.ones(2), k=1)
