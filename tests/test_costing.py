"""Plans in money, with capacity and backhaul: present values, line of sight, routes, places,
and a costed, capacitated run on the real extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from connectivity import load_scenario, run_scenario
from connectivity.costing.backhaul import line_of_sight
from connectivity.costing.money import annuity_factor, cost_table
from connectivity.costing.spec import MicrowaveSpec, MoneySpec
from connectivity.measured import place_codes, quality_by_place
from connectivity.network import route_lengths
from connectivity.propagation import Terrain
from tests.conftest import subset_dict, write_scenario


def test_net_present_cost_matches_a_hand_computation() -> None:
    money = MoneySpec(currency="COP", horizon_years=3, discount_rate=0.1)
    table = cost_table(np.array([1000.0]), np.array([100.0]), money)
    # 1000 + 100/1.1 + 100/1.21 + 100/1.331
    assert table["npc"].iloc[0] == pytest.approx(1000 + 90.909091 + 82.644628 + 75.131480)
    assert table["tco"].iloc[0] == pytest.approx(1300.0)
    # the equivalent annual cost is the level payment with the same present value
    assert table["per_year"].iloc[0] * annuity_factor(0.1, 3) == pytest.approx(table["npc"].iloc[0])
    flat = cost_table(np.array([1000.0]), np.array([100.0]), MoneySpec(horizon_years=4))
    assert flat["npc"].iloc[0] == pytest.approx(1400.0)  # no discounting: the TCO
    assert flat["per_year"].iloc[0] == pytest.approx(350.0)


def _ridge(height_m: float) -> Terrain:
    """Flat ground at 0 m, 4 km × 2 km of 20 m cells, a ridge across x = 2,000 m."""
    elevation = np.zeros((100, 200))
    elevation[:, 98:102] = height_m
    return Terrain(elevation, (20.0, 0.0, 0.0, 0.0, -20.0, 2000.0))


def test_line_of_sight_over_a_synthetic_ridge() -> None:
    site = np.array([[500.0, 1000.0]])
    hub = np.array([[3500.0, 1000.0]])
    m = MicrowaveSpec(capex=1, mast_height_m=15, hub_height_m=30, max_range_m=10_000)
    seen, distance = line_of_sight(site, hub, _ridge(0.0), m)
    assert seen.tolist() == [True] and distance[0] == pytest.approx(3000.0)
    blocked, _ = line_of_sight(site, hub, _ridge(60.0), m)  # the ridge rises above both masts
    assert blocked.tolist() == [False]
    grazing, _ = line_of_sight(site, hub, _ridge(22.0), m)  # below the line, inside the zone
    assert grazing.tolist() == [False]  # 60 % of the first Fresnel zone must be clear
    short = MicrowaveSpec(capex=1, max_range_m=2_000)
    assert line_of_sight(site, hub, _ridge(0.0), short)[0].tolist() == [False]  # out of range
    off = np.array([[3500.0, 5000.0]])  # the path leaves the DEM: line of sight unknown
    assert line_of_sight(site, off, _ridge(0.0), m)[0].tolist() == [False]


def test_fibre_routes_follow_the_streets() -> None:
    graph = nx.MultiDiGraph(crs="EPSG:9377")
    for node, (x, y) in {1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)}.items():
        graph.add_node(node, x=float(x), y=float(y))
    for u, v in ((1, 2), (2, 3), (3, 4)):  # no street between 4 and 1
        graph.add_edge(u, v, length=1000.0)
    hub = np.array([[0.0, 0.0]])
    sites = np.array([[0.0, 1010.0], [1000.0, 10.0], [5000.0, 5000.0]])
    lengths = route_lengths(graph, hub, sites, limit_m=5_000)
    assert lengths[0] == pytest.approx(3010.0)  # around three sides, not the 1,010 m straight
    assert lengths[1] == pytest.approx(1010.0)
    assert np.isinf(lengths[2])  # too far from any street
    assert np.isinf(route_lengths(graph, hub, sites[:1], limit_m=2_000)[0])


def test_coverage_by_place_reads_the_latest_period() -> None:
    table = pd.DataFrame(
        {
            "AÑO": [2021, 2023, 2023, 2022, 2023],
            "TRIMESTRE": [4, 1, 1, 2, 2],
            "COD": [11001008.0, 11001008.0, 11001008.0, 5001001.0, 11001012.0],
            "4G": ["S", "N", "N", "S", "N"],
            "3G": ["S", "S", "N", "S", "N"],
        }
    )
    q = quality_by_place(
        table,
        place_column="COD",
        period_columns=["AÑO", "TRIMESTRE"],
        good_columns=["4G"],
        basic_columns=["3G"],
    )
    assert q.to_dict() == {"11001008": 0.5, "11001012": 0.0, "5001001": 1.0}
    assert (
        place_codes(pd.Series(["5001001", 5001001.0, " 05001001 "]), 8).tolist() == ["05001001"] * 3
    )


def _costed(tmp_path: Path, **over: Any) -> Path:
    data = subset_dict()
    for layer in data["candidates"]["layers"]:
        layer.update(capex=90_000_000, opex_per_year=20_000_000, capacity_users=3)
    data["existing_coverage"]["capacity_users"] = 3
    data["money"] = {"currency": "COP", "horizon_years": 5, "discount_rate": 0.12}
    data["capacity"] = {"take_up": 0.5, "concurrency": 0.5}
    data["backhaul"] = {
        "fibre": {"capex_per_m": 20_000, "opex_per_m_year": 400, "max_length_m": 400},
        "satellite": {"capex": 1_620_000, "opex_per_year": 30_000_000},
    }
    data["method"] = {"sites": 6, "algorithm": "greedy"}
    data.update(over)
    return write_scenario(tmp_path, data)


def test_a_costed_capacitated_plan_end_to_end(tmp_path: Path) -> None:
    from connectivity.outputs import write_outputs

    results = run_scenario(load_scenario(_costed(tmp_path)))
    out = tmp_path / "out"
    write_outputs(results, out)
    sites = pd.read_csv(out / "selected_sites.csv")
    for column in ("capex", "opex_per_year", "backhaul", "capacity_users", "served_users"):
        assert column in sites.columns
    assert len(sites) == 6
    assert set(sites["backhaul"]) <= {"fibre", "satellite"}
    fibre = sites["backhaul"] == "fibre"
    assert (sites.loc[fibre, "capex"] > 90_000_000).all()  # the route's cost joins the site's
    assert (sites.loc[~fibre, "capex"] == 90_000_000 + 1_620_000).all()
    cap = results.capacity
    assert cap is not None
    assert np.all(cap.served_users <= cap.capacity_users + 1e-6)  # never above capacity
    assert np.all(cap.zone_served_users_after <= 3 + 1e-6)
    # served demand never exceeds the demand in reach, and capacity binds here
    assert np.all(results.point_coverage_after <= cap.reach_after + 1e-9)
    summary = pd.read_csv(out / "summary_by_locality.csv", dtype={"locality_code": str})
    for column in (
        "capex",
        "npc",
        "npc_per_new_person",
        "served_users",
        "people_unserved_in_reach",
    ):
        assert column in summary.columns
    assert summary["people_unserved_in_reach"].fillna(0).sum() > 0
    assert summary["capex"].sum() == pytest.approx(sites["capex"].sum())
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "El plan en dinero" in report and "COP" in report
    assert "Inversión (capex)" in (out / "map.html").read_text(encoding="utf-8")


def test_a_budget_on_net_present_cost_binds_it(tmp_path: Path) -> None:
    money = {"currency": "COP", "horizon_years": 5, "discount_rate": 0.12, "budget_on": "npc"}
    path = _costed(tmp_path, money=money, method={"budget": 600_000_000, "algorithm": "exact"})
    results = run_scenario(load_scenario(path))
    npc = results.selected["npc"].sum()
    assert 0 < npc <= 600_000_000
    assert results.selected["cost"].sum() == pytest.approx(npc)


def test_a_budget_that_pays_for_no_site_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _costed(tmp_path, method={"budget": 1000, "algorithm": "greedy"})
    results = run_scenario(load_scenario(path))
    assert len(results.selected) == 0
    assert "pays for no site" in caplog.text
