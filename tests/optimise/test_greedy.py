"""Greedy: gains never rise with rank, the guarantee holds, budgets are kept."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity import OptimisationError
from connectivity.optimise import greedy_ranking

from .oracles import instances


def _objective(matrix, weights, sites) -> float:
    if len(sites) == 0:
        return 0.0
    covered = matrix[sites].toarray().any(axis=0)
    return float(weights[covered].sum())


@settings(max_examples=80, deadline=None)
@given(instances(max_sites=8, max_cells=12), st.integers(1, 8))
def test_gains_never_increase_with_rank(instance, k) -> None:
    matrix, weights, *_ = instance
    r = greedy_ranking(matrix, weights, k=k)
    assert (np.diff(r.gains) <= 1e-9).all()
    assert r.gains.sum() == pytest.approx(_objective(matrix, weights, r.sites))
    assert len(set(r.sites.tolist())) == len(r.sites) <= k


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=8, max_cells=12), st.integers(1, 7))
def test_coverage_never_decreases_as_k_grows(instance, k) -> None:
    matrix, weights, *_ = instance
    a = greedy_ranking(matrix, weights, k=k)
    b = greedy_ranking(matrix, weights, k=k + 1)
    assert b.gains.sum() >= a.gains.sum() - 1e-9


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4))
def test_greedy_is_within_the_guarantee_of_brute_force(instance, k) -> None:
    matrix, weights, *_ = instance
    n = matrix.shape[0]
    best = max(
        _objective(matrix, weights, list(c)) for c in itertools.combinations(range(n), min(k, n))
    )
    got = greedy_ranking(matrix, weights, k=k).gains.sum()
    assert got <= best + 1e-9
    assert got >= (1 - 1 / np.e) * best - 1e-9


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=8, max_cells=12), st.floats(0.5, 10))
def test_budget_is_respected(instance, budget) -> None:
    matrix, weights, *_ = instance
    costs = np.linspace(0.5, 3.0, matrix.shape[0])
    r = greedy_ranking(matrix, weights, budget=budget, costs=costs)
    assert costs[r.sites].sum() <= budget + 1e-9
    assert r.total_cost == pytest.approx(costs[r.sites].sum())


def test_existing_coverage_adds_nothing() -> None:
    m = sparse.csr_array(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    r = greedy_ranking(m, np.array([10.0, 10.0, 5.0]), k=2, covered=np.array([True, True, False]))
    assert r.sites.tolist() == [1]
    assert r.gains.tolist() == [5.0]


def test_needs_k_or_budget() -> None:
    with pytest.raises(OptimisationError, match="give the number of sites"):
        greedy_ranking(sparse.csr_array((1, 1), dtype=bool), np.ones(1))


def test_subset_ranking(subset_results) -> None:
    sel = subset_results.selected
    assert len(sel) == 15
    assert sel["rank"].tolist() == list(range(1, 16))
    assert (np.diff(sel["new_priority_weight"]) <= 1e-9).all()
    assert (np.diff(sel["cumulative_coverage_pct"]) >= 0).all()
    cells = subset_results.cells
    assert (cells["covered_after"] >= cells["covered_before"]).all()
