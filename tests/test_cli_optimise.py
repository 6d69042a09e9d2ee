from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from connectivity.cli import main


@pytest.fixture(scope="module")
def layers(subset_results, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("byo")
    cells = subset_results.cells
    centres = cells.geometry.centroid
    demand = folder / "demand.csv"
    pd.DataFrame({"x": centres.x, "y": centres.y, "peso": cells["demand_weight"].round(3)}).to_csv(
        demand, index=False
    )
    sites = folder / "sites.gpkg"
    cand = subset_results.candidates[["site_id", "cost", "geometry"]].to_crs("EPSG:4326")
    cand.to_file(sites)
    return demand, sites


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["optimise", *args, "-q"])
    out = capsys.readouterr()
    return code, out.out, out.err


def _layers(demand: Path, sites: Path) -> list[str]:
    return ["--demand", str(demand), "--crs", "EPSG:9377", "--candidates", str(sites)]


def test_exact_k_sites_json(layers, tmp_path: Path, capsys) -> None:
    demand, sites = layers
    out = tmp_path / "chosen.csv"
    code, stdout, _ = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "80",
        "--sites",
        "15",
        "--weight-column",
        "peso",
        "--method",
        "exact",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0
    result = json.loads(stdout)
    assert set(result) >= {"objective", "bound", "gap", "coverage_share", "n_selected", "seconds"}
    assert result["n_selected"] == 15
    assert result["gap"] <= 1e-4
    chosen = pd.read_csv(out)
    assert chosen["rank"].tolist() == list(range(1, 16))
    assert (np.diff(chosen["gain"]) <= 1e-6).all()
    assert {"site_id", "lon", "lat"} <= set(chosen.columns)


def test_budget_and_target_write_vector_files(layers, tmp_path: Path, capsys) -> None:
    demand, sites = layers
    out = tmp_path / "chosen.gpkg"
    code, stdout, _ = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "300",
        "--budget",
        "6",
        "--cost-column",
        "cost",
        "--weight-column",
        "peso",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0
    assert json.loads(stdout)["total_cost"] <= 6
    assert gpd.read_file(out).crs.to_epsg() == 9377
    out2 = tmp_path / "cover.geojson"
    code, stdout, _ = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "300",
        "--target-coverage",
        "0.3",
        "--weight-column",
        "peso",
        "--method",
        "exact",
        "--out",
        str(out2),
        "--json",
    )
    assert code == 0
    assert json.loads(stdout)["coverage_share"] >= 0.3
    assert len(gpd.read_file(out2)) == json.loads(stdout)["n_selected"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sites", "3"], "columns x,y need --crs"),
        (
            ["--crs", "EPSG:9377", "--sites", "3", "--weight-column", "pesos"],
            "--weight-column: column 'pesos' not found",
        ),
        (["--crs", "EPSG:9377", "--budget", "3"], "--budget needs --cost-column"),
        (["--crs", "EPSG:9377", "--sites", "3", "--xlsx"], "use .csv, .gpkg, .geojson or .parquet"),
    ],
)
def test_clear_errors(layers, tmp_path: Path, capsys, args: list[str], message: str) -> None:
    demand, sites = layers
    out = tmp_path / ("a.xlsx" if "--xlsx" in args else "a.csv")
    args = [a for a in args if a != "--xlsx"]
    code, _, err = _run(
        capsys,
        "--demand",
        str(demand),
        "--candidates",
        str(sites),
        "--radius-m",
        "80",
        *args,
        "--out",
        str(out),
    )
    assert code == 2
    assert message in err
    assert not list(tmp_path.iterdir())


def test_repeated_candidate_ids_are_refused_with_their_rows(layers, tmp_path: Path, capsys) -> None:
    demand, _ = layers
    sites = tmp_path / "sites.csv"
    pd.DataFrame(
        {"id": ["a", "b", "a"], "x": [4.88e6, 4.881e6, 4.882e6], "y": [2.07e6, 2.07e6, 2.07e6]}
    ).to_csv(sites, index=False)
    code, _, err = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "80",
        "--sites",
        "1",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert code == 2
    assert "the id column 'id' repeats ids (rows 1, 3" in err


@pytest.mark.parametrize(
    ("value", "what"),
    [("", "blank"), ("-3", "negative"), ("inf", "not finite"), ("n/d", "not numbers")],
)
def test_bad_weights_name_file_column_and_row(
    layers, tmp_path: Path, capsys, value: str, what: str
) -> None:
    _, sites = layers
    demand = tmp_path / "demand.csv"
    weights = ["1", "2", value, "4"]
    pd.DataFrame(
        {"x": [4.88e6 + 10 * i for i in range(4)], "y": [2.07e6] * 4, "peso": weights}
    ).to_csv(demand, index=False)
    code, _, err = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "80",
        "--sites",
        "1",
        "--weight-column",
        "peso",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert code == 2
    assert "demand.csv (--demand): column 'peso' has values that are" in err
    assert what in err and "rows 3" in err


def test_degrees_given_as_metres_are_refused(layers, tmp_path: Path, capsys) -> None:
    _, sites = layers
    demand = tmp_path / "demand.csv"
    pd.DataFrame({"x": [-74.08, -74.07], "y": [4.6, 4.61]}).to_csv(demand, index=False)
    code, _, err = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "80",
        "--sites",
        "1",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert code == 2
    assert "they look like longitude and latitude" in err


def test_a_radius_that_reaches_everything_is_refused_before_allocating(
    layers, tmp_path: Path, capsys
) -> None:
    demand, sites = layers
    code, _, err = _run(
        capsys,
        *_layers(demand, sites),
        "--radius-m",
        "1000000",
        "--sites",
        "1",
        "--max-memory-gb",
        "0.3",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert code == 2
    assert "site-point pairs" in err and "--radius-m (now 1e+06 m)" in err
