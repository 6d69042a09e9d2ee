"""Reduction: identical cells merged, dominated sites left out, kinds of cell and back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from connectivity.optimise import GroupLimit, MaximalCovering, Problem
from connectivity.optimise.reduction import (
    dominated_sites,
    identical_rows,
    identical_rows_by_bytes,
    kinds,
    merge_cells,
)

from .oracles import instances


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
    hashed = identical_rows(rows, use, [existing, member])
    assert hashed is not None
    np.testing.assert_array_equal(hashed, identical_rows_by_bytes(rows, use, [existing, member]))


def test_a_hash_collision_falls_back_to_grouping_by_bytes(monkeypatch) -> None:
    """When different cells hash alike, they are found out and grouped by their bytes."""
    dense = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]).T
    weights = np.array([1.0, 2.0, 4.0, 8.0])
    problem = Problem.from_arrays(dense.T, weights, k=1)
    expected = merge_cells(problem)

    class Zeros:  # every row hashes to 0
        def __init__(self, seed: int) -> None:
            pass

        def random(self, n: int) -> np.ndarray:
            return np.zeros(n)

    monkeypatch.setattr(np.random, "default_rng", Zeros)
    rows = sparse.csr_array(dense)
    assert identical_rows(rows, np.ones(4, dtype=bool), []) is None
    merged = merge_cells(problem)
    np.testing.assert_array_equal(merged.weights, expected.weights)  # weights 1 + 4 and 2 + 8
    np.testing.assert_array_equal(merged.weights, [5.0, 10.0])
    assert (merged.q != expected.q).nnz == 0


def test_a_site_covering_a_subset_of_another_is_left_out_of_the_milp() -> None:
    # site 1 covers a subset of site 0's cells and site 3 of site 2's: neither can improve a plan
    m = sparse.csr_array(
        np.array([[1, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1.0]])
    )
    problem = Problem.from_arrays(m, np.ones(5), k=2)
    q = merge_cells(problem).q
    assert dominated_sites(problem, q).tolist() == [False, True, False, True]
    assert MaximalCovering(m, np.ones(5), k=2).solve("exact").solution.objective == pytest.approx(
        5.0
    )
    capped = GroupLimit(name="A", sites=np.array([1, 0, 0, 0], bool), cells=np.zeros(5, bool))
    mixed = problem.with_limits([capped])
    assert dominated_sites(mixed, q).tolist() == [False, False, False, True]


@settings(max_examples=60, deadline=None)
@given(instances(max_sites=6, max_cells=12, partial=True), st.integers(1, 3), st.data())
def test_kinds_of_cell_solve_like_the_cells(inst, k, data) -> None:
    """The problem over one cell per kind gives the same plans and figures as over the cells."""
    from connectivity.optimise import solve

    matrix, weights, existing, _ = inst
    # repeat every cell a few times so that the kinds are fewer than the cells
    times = data.draw(st.integers(2, 4))
    m = sparse.csr_array(sparse.hstack([matrix] * times))
    w, e = np.tile(weights, times), np.tile(existing, times)
    problem = Problem.from_arrays(m, w, k=k, existing=e)
    reduced = kinds(problem, min_cells=0, max_share=1.0)
    assert reduced is not None
    sub, _ = reduced
    assert sub.n_cells <= matrix.shape[1]
    assert sub.total_weight == pytest.approx(problem.total_weight)
    for method in ("greedy", "exact"):
        whole = solve(problem, method, mip_gap=0)
        assert sub.objective(whole.ranking) == pytest.approx(whole.objective)
        np.testing.assert_allclose(
            whole.ranking.covered, np.minimum(1.0, e + m[whole.ranking.sites].sum(axis=0))
        )
        newly = (
            set(np.concatenate(whole.ranking.newly_covered).tolist())
            if len(whole.ranking.sites)
            else set()
        )
        assert all(whole.ranking.covered[i] > e[i] for i in newly)
