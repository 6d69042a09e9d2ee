"""Studies: many plans over one coverage model, on Dask.

Pure parts (the plans each kind asks for, the curve kept from falling, the split between
territories) are tested directly; the plans themselves on the real extract, with and without
a Dask cluster, including one whose worker is killed mid-study.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity import load_scenario
from connectivity.errors import ScenarioError
from connectivity.pipeline import plan_inputs
from connectivity.study.model import Draw, PlanSpec, StudyModel, model_from_inputs, solve_plan
from connectivity.study.plans import (
    frequencies,
    marginal_costs,
    monotone_curve,
    phase_of,
    plan_specs,
    split_by_gain,
)
from connectivity.study.spec import StudySpec, study_problems
from tests.conftest import subset_dict, write_scenario

STUDY: dict[str, Any] = {
    "budget_curve": {"sites": [3, 6, 12, 20]},
    "phases": {"sites_per_year": [4, 4, 4], "years": ["2025", "2026", "2027"]},
    "equity_frontier": {"min_share_per_area": [0.0, 0.02, 0.5]},
    "robustness": {"draws": 12, "seed": 7, "demand_share": 0.2, "radius_m": [60, 100]},
}


def _scenario(folder: Path, study: dict[str, Any] | None = None, **method: Any) -> Path:
    data = subset_dict()
    data["study"] = STUDY if study is None else study
    data["method"] = {"sites": 10, **method}
    data["output"] = {"folder": str(folder / "maps"), "language": "es"}
    return write_scenario(folder, data)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> StudyModel:
    path = _scenario(tmp_path_factory.mktemp("study"))
    return model_from_inputs(plan_inputs(load_scenario(path)), with_points=True)


# --- the scenario's study section ------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({}, "name at least one of"),
        ({"budget_curve": {}}, "give sites or budgets"),
        ({"budget_curve": {"sites": [5, 0]}}, "greater than 0, got 0"),
        ({"phases": {"sites_per_year": [5], "years": ["a", "b"]}}, "2 years for 1"),
        ({"equity_frontier": {"min_share_per_area": [1.5]}}, "shares lie in 0–1, got 1.5"),
        ({"robustness": {"draws": 64000, "demand_share": 0.1}}, "1 to 2000, got 64000"),
        ({"robustness": {"draws": 4}}, "give demand_share, radius_m or both"),
        ({"robustness": {"radius_m": [100, 60]}}, "[low, high] in metres"),
        ({"territories": {"scenarios": ["x.yaml"]}}, "give sites or budget"),
    ],
)
def test_study_section_is_checked(tmp_path: Path, section: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(_scenario(tmp_path, section))


def test_radius_draws_need_straight_line_reach() -> None:
    spec = StudySpec(robustness=dataclasses.replace(_robustness(), radius_m=[60.0, 90.0]))
    assert any("straight-line reach" in p for p in study_problems(spec, reach="walking"))
    assert not study_problems(spec, reach="radius")


def _robustness() -> Any:
    from connectivity.study.spec import RobustnessSpec

    return RobustnessSpec(draws=4, demand_share=0.1)


def test_a_territory_must_be_a_scenario_that_loads(tmp_path: Path) -> None:
    broken = tmp_path / "other.yaml"
    broken.write_text("name: other\nterritory: {}\n", encoding="utf-8")
    section = {"territories": {"scenarios": [str(broken)], "sites": 5}}
    with pytest.raises(ScenarioError, match=r"territories.scenarios\[0\]: other.yaml"):
        load_scenario(_scenario(tmp_path, section))


# --- pure parts ------------------------------------------------------------------------------


def test_plan_specs_order_and_values(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path))
    assert s.study is not None
    specs = plan_specs(s.study, s.method)
    assert [p.index for p in specs] == list(range(len(specs)))
    kinds = [p.kind for p in specs]
    assert (
        kinds
        == ["budget_curve"] * 4 + ["phases"] * 3 + ["equity_frontier"] * 3 + ["robustness"] * 12
    )
    assert [p.sites for p in specs if p.kind == "phases"] == [4, 8, 12]  # cumulative
    draws = [p.draw for p in specs if p.kind == "robustness"]
    assert len({d.draw for d in draws if d is not None}) == 12


def test_draws_are_seeded_and_within_their_ranges() -> None:
    a = Draw(seed=3, draw=5, demand_share=0.2, radius_m=(60.0, 100.0)).values(7)
    b = Draw(seed=3, draw=5, demand_share=0.2, radius_m=(60.0, 100.0)).values(7)
    c = Draw(seed=3, draw=6, demand_share=0.2, radius_m=(60.0, 100.0)).values(7)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])
    assert np.all((a[0] >= 0.8) & (a[0] <= 1.2)) and 60 <= (a[1] or 0) <= 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(0, 100, allow_nan=False), min_size=0, max_size=6),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 30),
)
def test_split_by_gain_is_the_greedy_merge_of_the_rankings(
    raw: list[list[float]], sites: int
) -> None:
    gains = [np.sort(np.asarray(g))[::-1] for g in raw]  # non-increasing, as greedy gives
    costs = [np.ones(len(g)) for g in gains]
    taken = split_by_gain(gains, costs, sites=sites)
    assert sum(taken) <= sites
    assert all(0 <= t <= len(g) for t, g in zip(taken, gains, strict=True))
    # the shares are prefixes holding the largest gains: nothing left out beats what was taken
    chosen = [g[:t] for g, t in zip(gains, taken, strict=True)]
    left = [g[t:] for g, t in zip(gains, taken, strict=True)]
    low = min((float(c.min()) for c in chosen if len(c)), default=np.inf)
    high = max((float(r.max()) for r in left if len(r)), default=-np.inf)
    if sum(taken) == sites:
        assert high <= low + 1e-9
    else:  # stopped early: only zero gains (or nothing) were left
        assert high <= 1e-12


def test_split_by_gain_with_a_budget_stops_where_the_next_site_does_not_fit() -> None:
    gains = [np.array([10.0, 9.0, 1.0]), np.array([8.0, 7.0])]
    costs = [np.array([1.0, 5.0, 1.0]), np.array([1.0, 1.0])]
    # per cost: 10, 8, 7, then 9/5 = 1.8 (does not fit in what is left of 4), nothing more
    assert split_by_gain(gains, costs, budget=4.0) == [1, 2]


def _result(index: int, weight: float, people: float, cost: float, sites: int = 1) -> Any:
    from connectivity.study.model import PlanResult

    return PlanResult(
        spec=PlanSpec(
            index=index, kind="budget_curve", plan=f"p{index}", algorithm="greedy", sites=sites
        ),
        status="greedy",
        sites=np.arange(sites),
        cost=cost,
        objective=weight,
        bound=weight * 1.1,
        gap=0.1,
        people_covered=people,
        people_newly_covered=people - 10,
        population=1000,
        weight_covered=weight,
        total_weight=2000,
        area_people=np.array([people]),
        area_population=np.array([1000.0]),
        area_weight_covered=np.array([weight]),
        area_weight=np.array([2000.0]),
        radius_m=80,
        seconds=0.1,
    )


def test_a_curve_never_falls_and_says_where_it_kept_a_smaller_plan() -> None:
    curve = monotone_curve([_result(0, 50, 40, 1), _result(1, 45, 39, 2), _result(2, 60, 50, 3)])
    assert [r.weight_covered for r in curve] == [50, 50, 60]
    assert "kept the plan of p0" in curve[1].status and curve[1].notes
    assert curve[1].bound == pytest.approx(45 * 1.1)  # its own bound, not the smaller plan's
    prices = marginal_costs(curve)
    assert prices[0] == pytest.approx(1 / 30)  # 30 people newly covered for 1
    assert np.isnan(prices[1])  # no more people for more money: no price
    assert prices[2] == pytest.approx(2 / 10)


def test_frequencies_and_phases() -> None:
    rs = [_result(i, 10, 10, 1, sites=s) for i, s in enumerate([1, 3, 2])]
    f = frequencies(rs, 5)
    assert np.all((f >= 0) & (f <= 1)) and f[0] == 1 and f[2] == pytest.approx(1 / 3)
    assert phase_of(rs, 5).tolist() == [0, 1, 1, -1, -1]


# --- plans on the real extract, without Dask ---------------------------------------------------


def test_coverage_never_falls_as_the_budget_grows(model: StudyModel) -> None:
    previous = -1.0
    for i, k in enumerate([1, 2, 4, 8, 16, 32]):
        r = solve_plan(model, PlanSpec(i, "budget_curve", f"k={k}", "greedy", sites=k))
        assert len(r.sites) == k
        assert r.weight_covered >= previous - 1e-9
        assert r.objective <= r.bound + 1e-6
        previous = r.weight_covered


def test_greedy_never_beats_exact_on_a_study_plan(model: StudyModel) -> None:
    spec = PlanSpec(0, "budget_curve", "k=6", "greedy", sites=6)
    greedy = solve_plan(model, spec)
    exact = solve_plan(model, dataclasses.replace(spec, algorithm="exact"))
    assert greedy.objective <= exact.objective + 1e-6
    assert exact.objective <= exact.bound + 1e-6


def test_phases_are_nested(model: StudyModel) -> None:
    from connectivity.study.engine import solve_phase

    before = None
    for year, k in enumerate([3, 6, 9]):
        spec = PlanSpec(year, "phases", f"year {year}", "greedy", sites=k, year=str(year))
        result = solve_phase(model, spec, before)
        assert len(result.sites) == k
        if before is not None:
            assert set(before.sites) <= set(result.sites)
        before = result


def test_floors_hold_or_the_plan_is_infeasible(model: StudyModel) -> None:
    for i, floor in enumerate([0.01, 0.03, 0.9]):
        spec = PlanSpec(i, "equity_frontier", f"f={floor}", "exact", min_share_per_area=floor)
        r = solve_plan(model, spec)
        if r.feasible:
            assert r.lowest_area_pct_weight >= 100 * floor - 1e-6
        else:
            assert r.status.startswith("infeasible") and len(r.sites) == 0
    assert not r.feasible  # 90 % of every locality is out of reach of the extract's sites


def test_a_radius_draw_rebuilds_the_reach(model: StudyModel) -> None:
    wide = Draw(seed=1, draw=0, radius_m=(120.0, 120.0))
    narrow = Draw(seed=1, draw=0, radius_m=(40.0, 40.0))
    spec = PlanSpec(0, "robustness", "d", "greedy", sites=5)
    a = solve_plan(model, dataclasses.replace(spec, draw=wide))
    b = solve_plan(model, dataclasses.replace(spec, draw=narrow))
    assert a.radius_m == 120 and b.radius_m == 40
    assert a.people_covered > b.people_covered


# --- on Dask ---------------------------------------------------------------------------------


def _table(path: Path, workers: int | None = None, scheduler: str | None = None, **kw: Any) -> Any:
    from connectivity.study.run import run_study

    return run_study(load_scenario(path), workers=workers, scheduler=scheduler, **kw)


def test_study_csv_is_the_same_for_any_number_of_workers(tmp_path: Path) -> None:
    from connectivity.outputs.safety import write_csv

    path = _scenario(tmp_path)
    files = []
    for workers in (1, 2):
        _, study = _table(path, workers)
        out = tmp_path / f"study{workers}.csv"
        write_csv(study.table(), out)
        files.append(out.read_bytes())
        assert study.engine is not None and study.engine.workers == workers
        table = study.table()
        curve = table[table["kind"] == "budget_curve"]
        assert curve["weight_covered"].is_monotonic_increasing
    assert files[0] == files[1]


def test_a_killed_worker_changes_nothing(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    path = _scenario(tmp_path, {"robustness": {"draws": 24, "seed": 3, "demand_share": 0.3}})
    _, reference = _table(path, 1)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    watcher = Client(cluster)
    try:
        pids = watcher.run(os.getpid)
        killed: list[int] = []

        class Bar:
            def update(self, n: int) -> None:
                if not killed:  # after the first plan: kill a worker with plans still queued
                    pid = next(iter(pids.values()))
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

            def close(self) -> None:
                pass

        _, study = _table(path, scheduler=cluster.scheduler_address, progress=lambda *a: Bar())
        assert killed
        pd.testing.assert_frame_equal(study.table(), reference.table())
        watcher.wait_for_workers(2, timeout=60)  # its nanny started a new one
        assert killed[0] not in watcher.run(os.getpid).values()
    finally:
        watcher.close()
        cluster.close()


def test_no_scheduler_at_the_address_is_a_clear_error(tmp_path: Path) -> None:
    from connectivity.errors import StudyError
    from connectivity.study.engine import dask_client

    with (
        pytest.raises(StudyError, match=r"no Dask scheduler answered at tcp://127\.0\.0\.1:9"),
        dask_client(scheduler="tcp://127.0.0.1:9", connect_timeout_s=2),
    ):
        pass


def test_study_outputs_and_folder(tmp_path: Path) -> None:
    from connectivity.cli import main

    path = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["study", str(path), "--workers", "1", "--out", str(out), "-q"]) == 0
    for name in (
        "study.csv",
        "study.json",
        "study_budget_curve.png",
        "study_phases.png",
        "study_equity_frontier.png",
        "study_robustness.png",
        "report.html",
    ):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "study.csv")
    for column in ("kind", "plan", "budget", "sites", "people_covered", "objective", "bound"):
        assert column in table.columns
    layer = pyogrio.read_dataframe(out / "connectivity.gpkg", layer="study_sites")
    assert layer.crs.to_epsg() == 9377
    freq = layer["selection_frequency"].dropna()
    assert len(freq) and freq.between(0, 1).all()
    assert set(layer["phase"].dropna()) >= {"2025", "2026", "2027"}
    styles = pyogrio.read_dataframe(out / "connectivity.gpkg", layer="layer_styles")
    assert "study_sites" in set(styles["f_table_name"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Estudio: muchos planes a la vez" in report and report.count("<img") >= 6
    # a second study replaces the folder (it is a run of this program)
    assert main(["study", str(path), "--workers", "1", "--out", str(out), "-q"]) == 0


def test_territories_share_the_sites(tmp_path: Path) -> None:
    other = subset_dict()
    other["name"] = "bogota_centre"
    other["territory"]["include"] = ["03", "17"]
    other_path = write_scenario(tmp_path, other, "centre.yaml")
    path = _scenario(tmp_path, {"territories": {"scenarios": [str(other_path)], "sites": 12}})
    _, study = _table(path, 2)
    table = study.table()
    rows = table[table["kind"] == "territories"]
    assert rows["territory"].tolist() == ["bogota_subset", "bogota_centre", "all"]
    assert int(rows["sites"].iloc[:2].sum()) == 12 == int(rows["sites"].iloc[2])
    assert all(len(t.sites) == len(t.result.sites) for t in study.territories)


def test_a_failed_study_keeps_the_earlier_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs are swapped in whole: a study that fails mid-way leaves the folder as it was."""
    from connectivity.errors import StudyError
    from connectivity.runner import run_to_folder, study_to_folder
    from connectivity.study import run as study_run

    path = _scenario(tmp_path)
    out = tmp_path / "out"
    run_to_folder(load_scenario(path), out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    def fail(*args: Any, **kwargs: Any) -> None:
        raise StudyError("a worker failed")

    monkeypatch.setattr(study_run, "run_plans", fail)
    with pytest.raises(StudyError, match="a worker failed"):
        study_to_folder(load_scenario(path), out, workers=1)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_malformed_scheduler_address_fails_before_any_work(tmp_path: Path) -> None:
    from connectivity.cli import main

    path = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["study", str(path), "--scheduler", "nonsense", "--out", str(out), "-q"]) == 2
    assert not out.exists()
