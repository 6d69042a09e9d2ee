from __future__ import annotations

import numpy as np
import pytest

from connectivity.gaps import gaps_from_cells


def test_gaps_hold_exactly_the_people_out_of_reach_in_their_cells(subset_results) -> None:
    cells = subset_results.cells
    gaps = subset_results.gaps
    open_cells = cells.loc[~cells["covered_after"]]
    out_of_reach = open_cells["population"] - open_cells["people_covered_after"]
    assert gaps["population"].sum() == pytest.approx(out_of_reach.sum())
    assert gaps["n_cells"].sum() == len(open_cells)
    # a gap cell has at most half of its people covered; the rest at least half
    assert (open_cells["coverage_after"] < 0.5).all()
    assert (cells.loc[cells["covered_after"], "coverage_after"] >= 0.5).all()
    # every cell of a gap knows its gap
    assert (cells["gap_id"] > 0).sum() == len(open_cells)
    assert gaps["gap_id"].tolist() == list(range(1, len(gaps) + 1))
    covered = cells.loc[cells["covered_after"]].geometry.representative_point()
    assert not covered.intersects(gaps.union_all()).any()


def test_gaps_before_hold_at_least_as_many_people(subset_results) -> None:
    assert subset_results.gaps_before["population"].sum() >= (
        subset_results.gaps["population"].sum()
    )


def test_no_gap_when_everything_is_covered(subset_results) -> None:
    cells = subset_results.cells
    zeros = np.zeros(len(cells))
    gaps = gaps_from_cells(
        cells,
        in_gap=np.zeros(len(cells), dtype=bool),
        population=zeros,
        people_without_internet=zeros,
        demand_weight=zeros,
    )
    assert len(gaps) == 0
    assert gaps.crs == cells.crs
