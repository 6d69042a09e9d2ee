from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from connectivity import ScenarioError, load_scenario, run_scenario
from connectivity.outputs import write_outputs
from connectivity.scenario import ConstraintsSpec

from .conftest import subset_dict, write_scenario


def test_exact_budget_with_floors_on_the_subset(subset_scenario, tmp_path: Path) -> None:
    method = dataclasses.replace(
        subset_scenario.method,
        algorithm="exact",
        sites=None,
        budget=12.0,
        model="budgeted",
        constraints=ConstraintsSpec(min_sites_per_area=1, rural_min_sites=1),
    )
    results = run_scenario(dataclasses.replace(subset_scenario, method=method))
    sel = results.selected
    assert sel["cost"].sum() <= 12.0
    assert set(sel["area_code"]) == {"03", "14", "17", "20"}
    assert results.solution is not None and results.solution.gap <= 1e-3
    table = results.tables.get("plan_comparison")
    assert table is not None
    assert table.loc[1, "weight_covered"] >= table.loc[0, "weight_covered"] - 1e-6
    write_outputs(results, tmp_path / "out")
    assert (tmp_path / "out" / "plan_comparison.csv").exists()


def test_set_covering_reaches_the_target(subset_scenario) -> None:
    method = dataclasses.replace(
        subset_scenario.method, sites=None, target_coverage=0.12, algorithm="exact"
    )
    results = run_scenario(dataclasses.replace(subset_scenario, method=method))
    assert results.summary["pct_weight_covered_after"] >= 12.0 - 1e-6


def test_partial_coverage_counts_people_by_quality(subset_scenario) -> None:
    cand = dataclasses.replace(subset_scenario.candidates, decay="linear", radius_m=150.0)
    results = run_scenario(dataclasses.replace(subset_scenario, candidates=cand))
    cells = results.cells
    assert cells["coverage_after"].between(0, 1).all()
    assert ((cells["coverage_after"] > 0) & (cells["coverage_after"] < 1)).any()
    people = float(cells["population"] @ cells["coverage_after"])
    assert results.summary["people_covered_after"] == pytest.approx(people)
    assert (np.diff(results.selected["new_priority_weight"]) <= 1e-9).all()


def test_unknown_site_ids_in_constraints(subset_scenario) -> None:
    method = dataclasses.replace(
        subset_scenario.method, constraints=ConstraintsSpec(mandatory_sites=["colegio-99999"])
    )
    with pytest.raises(ScenarioError, match="unknown site ids colegio-99999"):
        run_scenario(dataclasses.replace(subset_scenario, method=method))


def test_infeasible_floor_is_named(tmp_path: Path) -> None:
    data = subset_dict()
    data["method"] = {"sites": 2, "constraints": {"min_sites_per_area": 1}}
    scenario = load_scenario(write_scenario(tmp_path, data))
    with pytest.raises(Exception, match="add up to 4, more than k = 2"):
        run_scenario(scenario)


def test_method_values_are_checked(tmp_path: Path) -> None:
    data = subset_dict()
    data["method"] = {
        "model": "budgeted",
        "algorithm": "cbc",
        "mip_gap": 2,
        "constraints": {"min_share_per_area": 1.5},
    }
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    text = str(info.value)
    assert "method.algorithm: 'cbc' is not one of 'greedy', 'exact'" in text
    assert "method.budget: the budgeted model needs a budget" in text
    assert "method.mip_gap: must be a share from 0 up to 1" in text
    assert "method.constraints.min_share_per_area: must be a share in [0, 1]" in text
