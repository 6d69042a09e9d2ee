"""Privacy that survives arithmetic: no count below the threshold, not even by subtraction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from connectivity.outputs import published
from connectivity.outputs.privacy import protect

COUNTS = {  # cell column -> locality column of the same measure
    "population": "population",
    "people_without_internet": "people_without_internet",
    "people_covered_before": "covered_before",
    "people_covered_after": "covered_after",
}


def _with_threshold(results, threshold: int):
    output = dataclasses.replace(results.scenario.output, min_population=threshold)
    return dataclasses.replace(
        results, scenario=dataclasses.replace(results.scenario, output=output)
    )


@pytest.fixture(scope="module", params=[10, 60])
def pub(request, subset_results):
    results = _with_threshold(subset_results, request.param)
    return results, published(results), request.param


def _small(values: pd.Series, t: float) -> pd.Series:
    return (values > 1e-9) & (values < t - 1e-9)


def test_no_published_count_lies_between_zero_and_the_threshold(pub) -> None:
    results, p, t = pub
    cells = p.layers["demand_cells"]
    groups = [g for g, spec in results.scenario.demand.groups.items() if spec.kind == "count"]
    for column in [*COUNTS, *groups]:
        assert not _small(cells[column].dropna(), t).any(), column
    shown = cells["population"].notna() & cells["people_covered_after"].notna()
    out_of_reach = (cells["population"] - cells["people_covered_after"])[shown]
    assert not _small(out_of_reach, t).any()
    for name in ("low_stratum",):  # a share group, as the count it implies
        implied = (cells[f"{name}_share"] * cells["population"]).dropna()
        assert not _small(implied, t).any()
    for column in COUNTS.values():
        assert not _small(p.summary[column].dropna(), t).any(), column
    assert not _small(p.layers["gaps"]["population"].dropna(), t).any()
    assert not _small(p.selected["new_people_covered"].dropna(), t).any()


def test_the_differencing_attack_gives_nothing_back(pub) -> None:
    """Published total minus its published parts: zero, or at least the threshold."""
    results, p, t = pub
    cells = p.layers["demand_cells"]
    full = results.cells
    summary = p.summary.set_index("locality_code")
    attacked = 0
    for code, group in cells.groupby("area_code"):
        if summary.loc[code, "suppressed"]:
            continue
        for cell_col, loc_col in COUNTS.items():
            rest = float(summary.loc[code, loc_col]) - float(group[cell_col].sum(skipna=True))
            hidden = group[cell_col].isna() & (full.loc[group.index, cell_col] > 1e-9)
            attacked += 1
            # the locality totals are rounded to whole people
            assert abs(rest) <= 0.5 * 1.01 or rest >= t - 0.5, (code, cell_col, rest)
            assert hidden.sum() != 1, (code, cell_col)  # one hidden part would be given back
    assert attacked >= 4 * len(COUNTS)
    gaps = p.layers["gaps"].set_index("gap_id")
    for gap_id, group in cells[cells["gap_id"] > 0].groupby("gap_id"):
        if gaps.loc[gap_id, "suppressed"]:
            continue
        visible = group["population"].notna() & group["people_covered_after"].notna()
        parts = (group["population"] - group["people_covered_after"])[visible].sum()
        rest = float(gaps.loc[gap_id, "population"]) - float(parts)
        assert abs(rest) <= 1e-6 or rest >= t - 1e-6, (gap_id, rest)
    newly = float(full["people_covered_after"].sum() - full["people_covered_before"].sum())
    rest = newly - float(p.selected["new_people_covered"].sum(skipna=True))
    rounding = 0.05 * len(p.selected) + 1e-6  # each gain is published to 0.1 person
    assert abs(rest) <= rounding or rest >= t - rounding


def test_a_derived_column_never_gives_a_hidden_count_back(pub) -> None:
    _, p, _ = pub
    cells = p.layers["demand_cells"]
    pairs = [
        ("no_internet_share", ["population", "people_without_internet"]),
        ("coverage_after", ["population", "people_covered_after"]),
        ("demand_weight", ["population", "people_without_internet", "women", "young", "older"]),
    ]
    for derived, inputs in pairs:
        shown = cells[derived].notna()
        for column in inputs:
            assert cells.loc[shown, column].notna().all(), (derived, column)


def test_protect_hides_the_smallest_parts_until_the_total_is_safe() -> None:
    values = np.array([3.0, 40.0, 5.0, 0.0, 12.0])
    hidden = np.array([True, False, False, False, False])
    assert protect(values, hidden, np.arange(5), 10)
    assert hidden.tolist() == [True, False, True, False, True]  # 3 + 5 < 10, so 12 too
    assert not protect(values, hidden, np.arange(5), 10)  # safe now: nothing more
