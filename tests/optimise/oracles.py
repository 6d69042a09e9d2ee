"""The one home of the optimiser tests' instance strategies, brute-force oracle and checks."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from scipy import sparse

from connectivity.optimise import Ranking, covered_weight


@st.composite
def instances(draw, max_sites: int = 7, max_cells: int = 10, partial: bool = False):
    """A small coverage instance: qualities (full, or partial), weights, existing, costs."""
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


def brute(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    existing: np.ndarray,
    feasible: Callable[[tuple[int, ...]], bool],
) -> float:
    """The best covered weight over every feasible set of sites (-inf if none is)."""
    n = matrix.shape[0]
    best = -np.inf
    for r in range(n + 1):
        for combo in itertools.combinations(range(n), r):
            if feasible(combo):
                best = max(best, covered_weight(matrix, weights, list(combo), existing))
    return best


def k_and_exclusions(n_sites: int, k: int, data) -> tuple[int, set[int]]:
    """Clip ``k`` to the sites there are and draw excluded sites, leaving at least ``k``."""
    k = min(k, n_sites)
    return k, data.draw(st.sets(st.integers(0, n_sites - 1), max_size=n_sites - k))


def assert_keeps_the_rules_and_never_loses(
    plan: Ranking,
    warm: Ranking,
    inst,
    k: int,
    excluded: set[int],
    mandatory: set[int] | frozenset[int] = frozenset(),
) -> None:
    """A plan has at most ``k`` sites, keeps the rules and covers no less than ``warm``."""
    matrix, weights, existing, _ = inst
    chosen = set(plan.sites.tolist())
    assert len(plan.sites) <= k
    assert not chosen & excluded
    assert mandatory <= chosen
    value = covered_weight(matrix, weights, plan.sites, existing)
    assert value >= covered_weight(matrix, weights, warm.sites, existing) - 1e-9


def city_instance(n_demand: int, n_sites: int, seed: int):
    """The benchmark's city-like instance generator (benchmarks/bench_mclp.py)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent.parent / "benchmarks"))
    from bench_mclp import make_instance

    return make_instance(n_demand, n_sites, seed)
