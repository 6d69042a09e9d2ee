from __future__ import annotations

import numpy as np
import pytest

from connectivity.gaps import gaps_from_cells


def test_gaps_hold_exactly_the_uncovered_population(subset_results) -> None:
    cells = subset_results.cells
    gaps = subset_results.gaps
    open_cells = cells.loc[~cells["covered_after"]]
    assert gaps["population"].sum() == pytest.approx(open_cells["population"].sum())
    assert gaps["n_cells"].sum() == len(open_cells)
    assert gaps["gap_id"].tolist() == list(range(1, len(gaps) + 1))
    covered = cells.loc[cells["covered_after"]].geometry.representative_point()
    assert not covered.intersects(gaps.union_all()).any()


def test_gaps_before_hold_at_least_as_many_people(subset_results) -> None:
    assert subset_results.gaps_before["population"].sum() >= (
        subset_results.gaps["population"].sum()
    )


def test_no_gap_when_everything_is_covered(subset_results) -> None:
    cells = subset_results.cells
    gaps = gaps_from_cells(cells, np.ones(len(cells), dtype=bool))
    assert len(gaps) == 0
    assert gaps.crs == cells.crs
