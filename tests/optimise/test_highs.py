"""HiGHS: the MILP alone equals brute force; options by model kind; the progress log."""

from __future__ import annotations

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
)
from connectivity.optimise.highs import build_milp, highs, solve_milp
from connectivity.optimise.reduction import prepare

from .oracles import brute, instances


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
    best = brute(matrix, weights, existing, feasible)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            model.solve("exact")
        return
    sol = model.solve("exact", mip_gap=0).solution
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert feasible(tuple(sol.selected.tolist()))
    milp = solve_milp(prepare(model.problem), None, 0.0)  # the MILP alone, no greedy plan
    assert milp.objective == pytest.approx(best, abs=1e-6)


def test_an_excluded_site_does_not_rule_out_its_twin() -> None:
    # sites 0 and 1 cover the same cells; 0 is excluded, so 1 is the best choice
    m = sparse.csr_array(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    w = np.array([5.0, 5.0, 1.0])
    for method in ("exact", "greedy"):
        sol = MaximalCovering(m, w, k=1, excluded=[0]).solve(method).solution
        assert sol.selected.tolist() == [1]
        assert sol.objective == pytest.approx(10.0)
    model = MaximalCovering(m, w, k=1, excluded=[0])
    milp = solve_milp(prepare(model.problem), None, 0.0)  # the MILP alone, no greedy plan
    assert milp.objective == pytest.approx(10.0)


def test_highs_keeps_cuts_at_the_nodes_only_for_knapsack_like_models() -> None:
    # k-site models: a small cut pool and cuts at the root only; a budget, a target or a
    # coverage floor makes a row knapsack-like, where cuts at the nodes pay (benchmarks/)
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
        h = highs(build_milp(prepare(model.problem), relax=False), time_limit_s=None, mip_gap=1e-4)
        _, nodes = h.getOptionValue("mip_allow_cut_separation_at_nodes")
        _, pool = h.getOptionValue("mip_pool_soft_limit")
        assert nodes is at_nodes, name
        assert pool == (2_000 if at_nodes else 500), name
    h = highs(
        build_milp(prepare(models["k sites"][0].problem), relax=False),
        time_limit_s=None,
        mip_gap=1e-4,
        policy=Policy(cut_pool_soft_limit=7, highs_random_seed=3),
    )
    assert h.getOptionValue("mip_pool_soft_limit")[1] == 7
    assert h.getOptionValue("random_seed")[1] == 3


def test_a_long_exact_search_logs_its_plan_and_bound(caplog) -> None:
    """The branch and bound reports its best plan and bound as it goes (here at every event)."""
    import logging
    import re

    rng = np.random.default_rng(5)
    m = sparse.csr_array((rng.random((40, 300)) < 0.08).astype(float))
    w = rng.lognormal(size=300)
    costs = rng.lognormal(sigma=0.5, size=40)
    model = BudgetedMaximalCovering(m, w, budget=6.0, costs=costs)
    with caplog.at_level(logging.INFO, logger="connectivity"):
        model.solve("exact", mip_gap=0, policy=Policy(progress_every_s=0.0))
    lines = [r.getMessage() for r in caplog.records if "exact search" in r.getMessage()]
    assert lines
    found = re.search(r"best plan ([\d,.]+), gap [\d.]+%, bound ([\d,.]+) \(covered", lines[-1])
    assert found, lines[-1]
    plan, bound = (float(v.replace(",", "")) for v in found.groups())
    assert plan <= bound + 1e-6
    assert bound >= model.solution.objective - 0.1  # the search's bound is never below the optimum
    assert plan <= model.solution.objective + 0.1
