"""End-to-end checks on the full shipped data packs (slow: run with ``make test-slow``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connectivity import load_scenario, run_scenario, run_to_folder
from connectivity.outputs import OUTPUT_FILES

from .conftest import REPO

pytestmark = pytest.mark.slow

CENSUS_TOTAL = 7_136_912  # DANE CNPV 2018, sum of STP27_PERS over the 641 sectors


def test_bogota_default_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "bogota_public_wifi.yaml")
    out = tmp_path / "bogota"
    results = run_to_folder(scenario, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    population = results.cells["population"].sum()
    assert population == pytest.approx(CENSUS_TOTAL, rel=0.001)
    summary = pd.read_csv(out / "summary_by_locality.csv", dtype={"locality_code": str})
    assert len(summary) == 20
    assert summary["locality_code"].tolist() == [f"{i:02d}" for i in range(1, 21)]
    assert summary["sites_selected"].sum() == 100
    assert (summary["pct_covered_after"] >= summary["pct_covered_before"]).all()
    assert results.cells.loc[results.cells["area_code"] == "20", "rural"].all()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    cleaned = {r["layer"]: r["cleaned"] for r in run["cleaning"]}
    assert (
        cleaned["candidates.layers[0] (colegio_oficial)"][
            "rows with missing, non-finite or sentinel coordinates dropped"
        ]
        == 1
    )
    assert cleaned["candidates.layers[5] (parque)"]["points outside the territory dropped"] >= 16
    assert (
        cleaned["candidates.layers[6] (paradero_sitp)"][
            "UTF-8 byte-order mark removed from the header"
        ]
        == 1
    )
    assert cleaned["existing_coverage.wifi"]["column names with stray spaces trimmed"] == 1


def test_bogota_more_sites_never_cover_less() -> None:
    scenario = load_scenario(REPO / "scenarios" / "bogota_public_wifi.yaml")
    covered = []
    for k in (10, 50, 100):
        scenario.method.sites = k
        results = run_scenario(scenario)
        covered.append(results.summary["people_covered_after"])
    assert covered == sorted(covered)


def test_medellin_runs_with_its_own_columns_and_encoding(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "medellin_public_wifi.yaml")
    results = run_to_folder(scenario, tmp_path / "medellin")
    assert len(results.territory.areas) == 21
    assert results.cells["population"].sum() == pytest.approx(2_427_129, rel=0.001)
    assert results.counts["existing_wifi"] == 5
    assert results.counts["candidates"] == pytest.approx(3608, abs=10)
    assert len(results.selected) == 50


def test_bogota_equitable_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "bogota_equitable.yaml")
    out = tmp_path / "equitable"
    results = run_to_folder(scenario, out)
    sel = results.selected
    assert sel["cost"].sum() <= scenario.method.budget + 1e-9
    per_area = sel.groupby("area_code").size()
    assert len(per_area) == 20 and (per_area >= 2).all()
    comparison = pd.read_csv(out / "plan_comparison.csv")
    assert comparison["plan"].tolist() == ["with_equity_constraints", "without_equity_constraints"]
    assert comparison.loc[1, "weight_covered"] >= comparison.loc[0, "weight_covered"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["solution"]["method"] == "exact"
    assert run["solution"]["gap"] <= 1e-3


def test_bogota_rural_towers_scenario(tmp_path: Path) -> None:
    import pandas as pd
    import rasterio
    from scipy.spatial import cKDTree

    scenario = load_scenario(REPO / "scenarios" / "bogota_rural_towers.yaml")
    out = tmp_path / "torres"
    results = run_to_folder(scenario, out)
    towers = results.candidates[results.candidates["type"] == "torre_nueva"]
    assert len(towers) == 15 and 1 <= len(results.selected) <= 25
    assert results.solution is not None and results.solution.gap <= 1e-4
    assert results.selected["capex"].sum() <= 3_000_000_000  # the budget binds the capex
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    mobile = run["mobile"]
    # MinTIC's coverage by place says something about three centros poblados
    assert mobile["existing_coverage_known"] is True
    assert mobile["terrain"].startswith("DEM used")
    assert mobile["rural_people_covered_after"] > mobile["rural_people_covered_before"]
    # the towers only count where they stand for (rural land); urban cells change only
    # within reach of a chosen Wi-Fi zone
    cells = results.cells
    urban = ~cells["rural"].to_numpy()
    changed = cells["coverage_after"].to_numpy() != cells["coverage_before"].to_numpy()
    zones = results.selected[results.selected["type"] != "torre_nueva"]
    if (changed & urban).any():
        assert len(zones)
        centres = np.column_stack([cells.geometry.centroid.x, cells.geometry.centroid.y])
        near = cKDTree(np.column_stack([zones.geometry.x, zones.geometry.y])).query(centres)[0]
        assert (near[changed & urban] <= 80 + 100).all()
    sites = pd.read_csv(out / "selected_sites.csv")
    assert sites["backhaul"].isin(["fibre", "microwave", "satellite"]).all()
    with rasterio.open(out / "signal_dbm.tif") as src:
        assert src.crs.to_epsg() == 9377 and src.transform.a == 100.0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "SUPUESTOS QUE EL PLANIFICADOR DEBE REEMPLAZAR" in report


def test_bogota_costed_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "bogota_costed.yaml")
    out = tmp_path / "costed"
    results = run_to_folder(scenario, out)
    sites = pd.read_csv(out / "selected_sites.csv")
    for column in ("capex", "opex_per_year", "backhaul", "capacity_users", "served_users"):
        assert sites[column].notna().all(), column
    assert sites["capex"].sum() <= 1_500_000_000
    assert (sites["served_users"] <= sites["capacity_users"] + 1e-6).all()
    assert results.solution is not None and results.solution.status == "optimal"
    summary = pd.read_csv(out / "summary_by_locality.csv", dtype={"locality_code": str})
    assert summary["locality_code"].tolist() == ["02"]
    assert summary["npc"].iloc[0] == pytest.approx(sites["npc"].sum(), rel=1e-6)
