from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from connectivity.coverage import coverage_matrix, covered_by_points

coords = arrays(
    np.float64, st.tuples(st.integers(1, 30), st.just(2)), elements=st.floats(-1000, 1000)
)


@settings(max_examples=60, deadline=None)
@given(sites=coords, cells=coords, radius=st.floats(1, 800))
def test_matrix_matches_brute_force(sites, cells, radius) -> None:
    m = coverage_matrix(sites, cells, radius).toarray()
    dist = np.hypot(sites[:, None, 0] - cells[None, :, 0], sites[:, None, 1] - cells[None, :, 1])
    expected = dist <= radius
    boundary = np.isclose(dist, radius)
    assert (m == expected)[~boundary].all()
    covered = covered_by_points(cells, sites, radius)
    assert (covered == m.any(axis=0))[~boundary.any(axis=0)].all()


@settings(max_examples=40, deadline=None)
@given(sites=coords, cells=coords, r1=st.floats(1, 500), extra=st.floats(0, 500))
def test_coverage_never_shrinks_as_the_radius_grows(sites, cells, r1, extra) -> None:
    small = coverage_matrix(sites, cells, r1).toarray()
    large = coverage_matrix(sites, cells, r1 + extra).toarray()
    assert (large >= small).all()
    assert (
        covered_by_points(cells, sites, r1 + extra) >= covered_by_points(cells, sites, r1)
    ).all()


def test_empty_inputs() -> None:
    assert coverage_matrix(np.zeros((0, 2)), np.zeros((3, 2)), 10).shape == (0, 3)
    assert not covered_by_points(np.zeros((3, 2)), np.zeros((0, 2)), 10).any()


def test_subset_matrix_is_sparse(subset_results) -> None:
    from connectivity.workload import pairs_bound

    counts = subset_results.counts
    spacing = subset_results.points.spacing_m
    # at most the points of each site's disc, and far fewer than every pair
    assert counts["coverage_pairs"] <= pairs_bound(
        counts["candidates"], 80, spacing, counts["analysis_points"]
    )
    assert counts["coverage_pairs"] < 0.01 * counts["candidates"] * counts["analysis_points"]
