"""No lost data, privacy, reproducibility and fuzzing of the loaders."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectivity import ConnectivityError
from connectivity.layers import read_layer
from connectivity.outputs import published, write_outputs
from connectivity.scenario import LayerSpec

from .conftest import SUBSET_SCENARIO


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_killed_run_leaves_previous_outputs_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "connectivity.cli",
        "run",
        str(SUBSET_SCENARIO),
        "--out",
        str(out),
        "-q",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    before = _digest(out)
    for delay in (1.0, 1.8, 2.4, 2.8, 3.2):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = _digest(out)
        if now != before:  # the run finished before the kill: a complete new run is there
            assert set(now) == set(before)
            before = now
    # a later run cleans what the killed runs left behind and succeeds
    subprocess.run(cmd, check=True, capture_output=True)
    assert not list(tmp_path.glob(".run.partial-*"))
    assert set(_digest(out)) == set(before)


def test_rerun_gives_identical_tables_and_geopackage(subset_results, tmp_path: Path) -> None:
    write_outputs(subset_results, tmp_path / "a")
    write_outputs(subset_results, tmp_path / "b")
    for name in ("selected_sites.csv", "summary_by_locality.csv", "connectivity.gpkg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_privacy_threshold_suppresses_small_figures(subset_results, tmp_path: Path) -> None:
    pub = published(subset_results)
    cells = pub.layers["demand_cells"]
    small = subset_results.cells["population"] < 10
    assert small.any()
    assert cells.loc[small.to_numpy(), "population"].isna().all()
    assert cells.loc[small.to_numpy(), "women"].isna().all()
    assert cells.loc[small.to_numpy(), "suppressed"].all()
    assert (cells.loc[~small.to_numpy(), "population"] >= 10).all()
    out = tmp_path / "p"
    write_outputs(subset_results, out)
    layer = gpd.read_file(out / "connectivity.gpkg", layer="demand_cells")
    shown = layer["population"].dropna()
    assert (shown >= 10).all()
    gaps = gpd.read_file(out / "connectivity.gpkg", layer="gaps")
    assert (gaps["population"].dropna() >= 10).all()
    sites = pd.read_csv(out / "selected_sites.csv")
    assert (sites["new_people_covered"].dropna() >= 10).all()
    import json

    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["privacy"]["min_population"] == 10
    assert manifest["privacy"]["rows_suppressed"]["demand_cells"] == int(layer["suppressed"].sum())
    assert layer["suppressed"].sum() >= int(small.sum())


def test_stale_partial_folders_are_removed(subset_results, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.partial-{dead.pid}-abc"
    stale.mkdir()
    (stale / "map.html").write_text("half")
    write_outputs(subset_results, tmp_path / "run")
    assert not stale.exists()


csv_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.sampled_from(["", "-74,07", "4.6", "- 74.1", "1e308", "-1.797e308", "NaN", "inf"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(csv_cell, csv_cell, csv_cell), min_size=0, max_size=6),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]),
)
def test_fuzzed_csv_gives_a_result_or_our_error(tmp_path: Path, rows, encoding) -> None:
    path = tmp_path / "f.csv"
    frame = pd.DataFrame(rows, columns=["lon", "lat", "nombre"])
    try:
        frame.to_csv(path, index=False, encoding=encoding)
    except UnicodeEncodeError:
        return
    spec = LayerSpec(path=path, x_column="lon", y_column="lat")
    try:
        gdf, _ = read_layer(spec, role="fuzz", metric_crs="EPSG:9377", geometry="point")
    except ConnectivityError:
        return
    assert gdf.crs.to_epsg() == 9377
    assert np.isfinite(gdf.geometry.x).all() and np.isfinite(gdf.geometry.y).all()


coords = st.floats(-1e6, 1e6, allow_nan=False)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(st.tuples(coords, coords), min_size=3, max_size=7), min_size=1, max_size=4)
)
def test_fuzzed_polygons_give_a_result_or_our_error(tmp_path: Path, rings) -> None:
    import shapely

    geoms = [shapely.Polygon(r) for r in rings]
    path = tmp_path / "p.gpkg"
    if path.exists():
        path.unlink()
    gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=geoms, crs="EPSG:9377").to_file(path)
    try:
        gdf, _ = read_layer(
            LayerSpec(path=path), role="fuzz", metric_crs="EPSG:9377", geometry="polygon"
        )
    except ConnectivityError:
        return
    assert gdf.is_valid.all()
    assert pyogrio.read_info(path)["crs"]


def test_outputs_stay_inside_the_named_folder(subset_results, tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "keep.txt").write_text("mine")
    write_outputs(subset_results, parent / "run")
    # beside the folder, only its lock file (left in place: removing it would race)
    assert sorted(p.name for p in parent.iterdir()) == [".run.lock", "keep.txt", "run"]
    assert (parent / "keep.txt").read_text() == "mine"
    assert os.path.commonpath(
        [str(parent / "run")] + [str(p) for p in (parent / "run").iterdir()]
    ) == str(parent / "run")


@pytest.mark.parametrize("bad_name", ["../escape", "a/b", "/abs"])
def test_scenario_names_cannot_leave_the_output_folder(bad_name: str, tmp_path: Path) -> None:
    from connectivity import ScenarioError
    from connectivity.scenario import scenario_from_dict

    from .conftest import subset_dict

    data = subset_dict()
    data["name"] = bad_name
    with pytest.raises(ScenarioError, match="must be a simple folder name"):
        scenario_from_dict(data, base_dir=tmp_path)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    boxes=st.lists(
        st.tuples(
            st.floats(0, 3000),
            st.floats(0, 3000),
            st.floats(-50, 1500),
            st.floats(-50, 1500),
            st.floats(-10, 5000),
        ),
        min_size=1,
        max_size=5,
    ),
    sites=st.lists(st.tuples(st.floats(-500, 4000), st.floats(-500, 4000)), min_size=0, max_size=6),
    k=st.integers(1, 4),
    radius=st.floats(1, 600),
)
def test_fuzzed_pipeline_gives_a_result_or_our_error(
    tmp_path: Path, boxes, sites, k, radius
) -> None:
    import shapely

    from connectivity import load_scenario, run_scenario

    from .conftest import write_scenario

    folder = tmp_path / f"f{abs(hash((tuple(boxes), tuple(sites), k, radius)))}"
    folder.mkdir()
    x0, y0 = 4_880_000.0, 2_060_000.0  # Bogotá, in EPSG:9377
    polys = [shapely.box(x0 + x, y0 + y, x0 + x + w, y0 + y + h) for x, y, w, h, _ in boxes]
    gpd.GeoDataFrame(
        {"code": [f"{i:02d}" for i in range(len(polys))], "pop": [p for *_, p in boxes]},
        geometry=polys,
        crs="EPSG:9377",
    ).to_file(folder / "units.gpkg")
    pd.DataFrame({"x": [x0 + a for a, _ in sites], "y": [y0 + b for _, b in sites]}).to_csv(
        folder / "sites.csv", index=False
    )
    data = {
        "name": "fuzz",
        "territory": {
            "name": "fuzz",
            "boundaries": str(folder / "units.gpkg"),
            "id_column": "code",
            "name_column": "code",
        },
        "demand": {
            "layer": str(folder / "units.gpkg"),
            "id_column": "code",
            "population_column": "pop",
            "cell_size_m": 100,
        },
        "candidates": {
            "radius_m": radius,
            "layers": [
                {
                    "type": "s",
                    "path": str(folder / "sites.csv"),
                    "x_column": "x",
                    "y_column": "y",
                    "crs": "EPSG:9377",
                }
            ],
        },
        "method": {"sites": k},
        "output": {"folder": str(folder / "out")},
    }
    try:
        scenario = load_scenario(write_scenario(folder, data))
        results = run_scenario(scenario)
    except ConnectivityError:
        return
    assert len(results.selected) <= k
    assert results.cells["population"].sum() >= 0
