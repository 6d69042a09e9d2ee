"""Dives from the LP relaxation and reduced-cost fixing: the rules kept, no plan lost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity.optimise import MaximalCovering, Policy, Problem, covered_weight, rank_selection
from connectivity.optimise.dives import (
    dive_with_relaxation,
    fixed_by_reduced_cost,
    restricted_dive,
)
from connectivity.optimise.greedy import greedy
from connectivity.optimise.local_search import interchange
from connectivity.optimise.reduction import prepare

from .oracles import assert_keeps_the_rules_and_never_loses, brute, instances, k_and_exclusions
from .test_bounds import _LP_GAP_MATRIX, _LP_GAP_WEIGHTS


def _warm(problem: Problem):
    """The greedy plan after its interchange: the start the exact method dives from."""
    return interchange(problem, greedy(problem)).ranking


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_lp_dive_keeps_the_rules_and_never_loses(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = k_and_exclusions(n_sites, k, data)
    problem = Problem.from_arrays(
        matrix, weights, k=k, existing=existing, excluded=sorted(excluded)
    )
    warm = _warm(problem)
    plan, _ = dive_with_relaxation(prepare(problem), warm, None)
    assert_keeps_the_rules_and_never_loses(plan, warm, inst, k, excluded)


@settings(max_examples=40, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_restricted_dive_keeps_the_rules_and_never_loses(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = k_and_exclusions(n_sites, k, data)
    free = sorted(set(range(n_sites)) - excluded)
    mandatory = data.draw(st.sets(st.sampled_from(free), max_size=1)) if free else set()
    guide = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n_sites, max_size=n_sites)))
    problem = Problem.from_arrays(
        matrix,
        weights,
        k=k,
        existing=existing,
        excluded=sorted(excluded),
        mandatory=sorted(mandatory),
    )
    warm = _warm(problem)
    policy = Policy(restricted_dive_nnz=data.draw(st.integers(0, 20)))
    plan = restricted_dive(prepare(problem), warm, guide, None, policy=policy)
    assert_keeps_the_rules_and_never_loses(plan, warm, inst, k, excluded, mandatory)


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=7, max_cells=10), st.integers(1, 4), st.data())
def test_reduced_cost_fixing_never_fixes_a_site_of_a_better_plan(inst, k, data) -> None:
    matrix, weights, existing, _ = inst
    n_sites = matrix.shape[0]
    k, excluded = k_and_exclusions(n_sites, k, data)
    problem = Problem.from_arrays(
        matrix, weights, k=k, existing=existing, excluded=sorted(excluded)
    )
    _, relaxation = dive_with_relaxation(prepare(problem), _warm(problem), None)
    if relaxation is None:  # the dive does not apply (no coverage)
        return
    # the rule must hold for any plan, not only a good one
    allowed = sorted(set(range(n_sites)) - excluded)
    chosen = data.draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=k, unique=True))
    plan = rank_selection(matrix, weights, chosen, existing, np.ones(n_sites))
    fixed = fixed_by_reduced_cost(problem, relaxation, plan)
    value = covered_weight(matrix, weights, plan.sites, existing)
    for j in np.flatnonzero(fixed):
        with_j = brute(
            matrix,
            weights,
            existing,
            lambda c, j=j: j in c and len(c) <= k and not set(c) & excluded,
        )
        assert with_j <= value + 1e-6
    best = brute(matrix, weights, existing, lambda c: len(c) <= k and not set(c) & excluded)
    exact = MaximalCovering(matrix, weights, k=k, existing=existing, excluded=sorted(excluded))
    sol = exact.solve("exact", mip_gap=0).solution
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


def test_the_lp_may_run_past_the_dives_share_of_the_time() -> None:
    problem = Problem.from_arrays(sparse.csr_array(_LP_GAP_MATRIX), _LP_GAP_WEIGHTS, k=2)
    prepared = prepare(problem)
    warm = _warm(problem)
    assert dive_with_relaxation(prepared, warm, 0.0)[1] is None  # no time for the LP
    plan, relaxation = dive_with_relaxation(prepared, warm, 0.0, lp_time_s=60.0)
    assert relaxation is not None and relaxation.bound == pytest.approx(15.5)
    assert problem.covered(plan.sites) >= 14.0 - 1e-9
