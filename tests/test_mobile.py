"""Mobile coverage in a scenario: transmitters, speed-test tiles, new rural towers, raster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from connectivity import load_scenario, run_scenario, run_to_folder
from connectivity.mobile import TOWER_TYPE
from connectivity.outputs.i18n import coverage_notes
from connectivity.propagation import okumura_hata_loss_db
from tests.conftest import subset_dict, write_scenario

# Plaza de Bolívar, in La Candelaria (locality 17 of the extract)
TX_LON, TX_LAT = -74.0760, 4.5981


def _quadkey(lon: float, lat: float, zoom: int) -> str:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    r = np.radians(lat)
    y = int((1 - np.log(np.tan(r) + 1 / np.cos(r)) / np.pi) / 2 * n)
    return "".join(str(((x >> i) & 1) + 2 * ((y >> i) & 1)) for i in range(zoom - 1, -1, -1))


def _mobile_scenario(
    folder: Path, mobile: dict[str, Any], *, towers_only: bool = False, **method: Any
) -> Path:
    data = subset_dict()
    data["mobile"] = mobile
    if towers_only:
        data["candidates"]["layers"] = []
    data["method"] = {**data["method"], **method}
    data["output"] = {"folder": str(folder / "maps")}
    return write_scenario(folder, data)


@pytest.fixture(scope="module")
def mobile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    folder = tmp_path_factory.mktemp("mobile")
    pd.DataFrame(
        {"nombre": ["Torre Candelaria"], "lon": [TX_LON], "lat": [TX_LAT], "pire": ["50,5"]}
    ).to_csv(folder / "torres.csv", index=False)
    # speed-test tiles (zoom 16, about 600 m) right at the tower: slow, so "no coverage"
    keys = {_quadkey(TX_LON + dx, TX_LAT + dy, 16) for dx in (-0.004, 0, 0.004) for dy in (0,)}
    tiles = pd.DataFrame({"quadkey": sorted(keys), "avg_d_kbps": 1500, "tests": 12})
    tiles.loc[len(tiles)] = [_quadkey(-74.0650, 4.6100, 16), 90000, 0]  # too few tests
    tiles.to_csv(folder / "velocidad.csv", index=False)
    mobile = {
        "radio": {"frequency_mhz": 850, "power_dbm": 50, "height_m": 30},
        "transmitters": {
            "path": str(folder / "torres.csv"),
            "x_column": "lon",
            "y_column": "lat",
            "name_column": "nombre",
            "power_column": "pire",
        },
        "measured": [{"kind": "speedtest", "path": str(folder / "velocidad.csv")}],
        "new_towers": {"count": 3, "rural_only": True, "cost": 1},
    }
    scenario = load_scenario(_mobile_scenario(folder, mobile, sites=10))
    return run_to_folder(scenario), scenario.output_dir


def test_measured_tiles_override_the_modelled_signal(mobile_run) -> None:
    results, _ = mobile_run
    cells = results.cells
    source = cells["mobile_source"].to_numpy()
    measured = source == "measured: velocidad.csv"
    assert 0 < measured.sum() < len(cells)
    # the tower stands inside the slow tiles: the model says good there, the tiles say none
    assert (cells.loc[measured, "mobile_quality_before"] == 0).all()
    assert set(source[~measured]) == {"model"}
    assert (cells.loc[~measured, "mobile_quality_before"] == 1.0).any()
    table = results.mobile.sources
    assert list(table["kind"]) == ["model", "speedtest"]
    assert 0 < table.loc[1, "pct_cells"] < table.loc[0, "pct_cells"] <= 100


def test_new_towers_are_proposed_on_rural_land_and_only_count_there(mobile_run) -> None:
    results, _ = mobile_run
    towers = results.candidates[results.candidates["type"] == TOWER_TYPE]
    assert 1 <= len(towers) <= 3
    assert towers["area_code"].notna().all()
    rural = results.cells["rural"].to_numpy()
    chosen = results.selected[results.selected["type"] == TOWER_TYPE]
    if len(chosen):
        by_rank = results.cells["covered_by_rank"].to_numpy()
        for rank in chosen["rank"]:
            assert rural[by_rank == rank].all()  # a tower's newly covered cells are rural


def test_outputs_hold_the_raster_and_say_where_coverage_comes_from(mobile_run) -> None:
    import rasterio

    results, out = mobile_run
    with rasterio.open(out / "signal_dbm.tif") as src:
        assert src.crs.to_epsg() == 9377
        assert src.transform.a == 100.0 and src.transform.e == -100.0
        assert src.transform.c % 100 == 0 and src.transform.f % 100 == 0
        band = src.read(1)
        tx = results.mobile.transmitters[0]
        assert tx.power_dbm == 50.5  # from the 'pire' column, decimal comma mended
        row, col = src.index(tx.x, tx.y)
        # the tower stands on urban land: Hata urban, the 1 km loss within 1 km
        expected = tx.power_dbm - okumura_hata_loss_db(1000.0, 850.0, area="urban")
        assert band[row, col] == pytest.approx(expected, abs=1e-3)
        assert (band <= max(50.5, 50.0)).all()
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["mobile"]["existing_coverage_known"] is True
    assert manifest["mobile"]["terrain"].startswith("no DEM")
    assert "signal_dbm.tif" in manifest["outputs"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "velocidad.csv" in report and "terreno plano" in report


def test_unknown_mobile_coverage_is_stated(tmp_path: Path) -> None:
    scenario = load_scenario(
        _mobile_scenario(tmp_path, {"new_towers": {"count": 2}}, sites=5, algorithm="exact")
    )
    results = run_scenario(scenario)
    assert not results.mobile.known
    assert (results.cells["mobile_source"] == "unknown").all()
    notes = " ".join(coverage_notes(results, "es"))
    assert "desconocida" in notes and "terreno plano" in notes
    assert "unknown" in " ".join(coverage_notes(results, "en"))


def test_radio_outside_the_model_range_is_refused(tmp_path: Path) -> None:
    from connectivity.errors import ScenarioError

    mobile = {"radio": {"frequency_mhz": 2600, "height_m": 12, "max_range_m": 30000}}
    with pytest.raises(ScenarioError) as info:
        load_scenario(_mobile_scenario(tmp_path, mobile))
    text = str(info.value)
    assert "2600 MHz is outside okumura_hata's range [150, 1500]" in text
    assert "height_m: 12 m" in text and "beyond okumura_hata's 20 km" in text


def test_operator_polygons_and_terrain_in_a_scenario(tmp_path: Path) -> None:
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    box = shapely.box(TX_LON - 0.005, TX_LAT - 0.005, TX_LON + 0.005, TX_LAT + 0.005)
    gpd.GeoDataFrame({"operador": ["A"]}, geometry=[box], crs="EPSG:4326").to_file(
        tmp_path / "operador.geojson"
    )
    heights = np.full((200, 100), 2600.0, dtype="float32")  # 0.005° cells over the extract
    heights[:, 44] = 3600.0  # a 1,000 m wall running north-south at lon -74.08
    with rasterio.open(
        tmp_path / "dem.tif",
        "w",
        driver="GTiff",
        width=100,
        height=200,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(0.005, 0, -74.3, 0, -0.005, 4.7),
    ) as dst:
        dst.write(heights, 1)
    pd.DataFrame({"lon": [-74.05], "lat": [TX_LAT]}).to_csv(tmp_path / "t.csv", index=False)
    mobile = {
        "transmitters": {"path": str(tmp_path / "t.csv"), "x_column": "lon", "y_column": "lat"},
        "measured": [
            {
                "kind": "polygons",
                "path": str(tmp_path / "operador.geojson"),
                "coverage_class": "basic",
            }
        ],
        "terrain": str(tmp_path / "dem.tif"),
    }
    scenario = load_scenario(_mobile_scenario(tmp_path, mobile, sites=3))
    results = run_scenario(scenario)
    cells = results.cells
    inside = cells["mobile_source"] == "measured: operador.geojson"
    assert inside.sum() > 50
    assert (cells.loc[inside, "mobile_quality_before"] == 0.5).all()
    # the transmitter stands east of the wall: the city west of it is out of sight
    assert results.mobile.terrain and results.mobile.line_of_sight is not None
    lon = cells.geometry.centroid.to_crs(4326).x.to_numpy()
    in_sight = results.mobile.line_of_sight
    assert not in_sight[lon < -74.09].any()
    east = (lon > -74.065) & (lon < -74.052)  # clear of the wall (bilinear spreads it)
    assert east.any() and in_sight[east].all()
    assert "DEM" in " ".join(coverage_notes(results, "en")) or "elevation" in " ".join(
        coverage_notes(results, "en")
    )
    flat = dict(mobile, terrain=None)
    flat_results = run_scenario(load_scenario(_mobile_scenario(tmp_path, flat, sites=3)))
    model = ~inside.to_numpy()
    with_wall = cells["mobile_quality_before"].to_numpy()[model]
    without = flat_results.cells["mobile_quality_before"].to_numpy()[model]
    assert (with_wall <= without).all() and with_wall.sum() < without.sum()


def test_technologies_and_calibration_in_a_scenario(tmp_path: Path) -> None:
    from pyproj import Transformer

    to_metric = Transformer.from_crs(4326, 9377, always_xy=True)
    tx_x, tx_y = to_metric.transform(TX_LON, TX_LAT)
    pd.DataFrame(
        {"lon": [TX_LON, -74.09], "lat": [TX_LAT, 4.58], "tec": ["4G", "3G"], "p": [43, 40]}
    ).to_csv(tmp_path / "t.csv", index=False)
    # drive-test samples east and west of the 4G tower, from a known log-distance model
    rng = np.random.default_rng(7)
    d = rng.uniform(50, 1500, 300)
    angle = rng.uniform(0, 2 * np.pi, 300)
    received = 43 - (38.0 + 10 * 3.4 * np.log10(d)) + rng.normal(0, 2, 300)
    received[:10] += 25  # outliers: a few readings near a window
    back = Transformer.from_crs(9377, 4326, always_xy=True)
    lon, lat = back.transform(tx_x + d * np.cos(angle), tx_y + d * np.sin(angle))
    pd.DataFrame({"lon": lon, "lat": lat, "rsrp": received.round(1)}).to_csv(
        tmp_path / "muestras.csv", index=False
    )
    mobile = {
        "radio": {"technology": "4G", "frequency_mhz": 850},
        "radios": [
            {"technology": "3G", "frequency_mhz": 1900, "model": "cost231_hata", "good_dbm": -90}
        ],
        "transmitters": {
            "path": str(tmp_path / "t.csv"),
            "x_column": "lon",
            "y_column": "lat",
            "technology_column": "tec",
            "power_column": "p",
        },
        "calibration": {
            "path": str(tmp_path / "muestras.csv"),
            "x_column": "lon",
            "y_column": "lat",
            "dbm_column": "rsrp",
        },
    }
    results = run_scenario(load_scenario(_mobile_scenario(tmp_path, mobile, sites=3)))
    by_tech = {t.technology: t for t in results.mobile.transmitters}
    assert by_tech["3G"].frequency_mhz == 1900 and by_tech["4G"].frequency_mhz == 850
    fit = results.mobile.calibrations["4G"]
    assert fit.exponent == pytest.approx(3.4, abs=0.15)
    assert fit.intercept_db == pytest.approx(38.0, abs=3.0)
    # cells near the 4G tower follow the calibrated model: good within a few hundred metres
    centres = np.column_stack(
        [results.cells.geometry.centroid.x, results.cells.geometry.centroid.y]
    )
    dist = np.hypot(centres[:, 0] - tx_x, centres[:, 1] - tx_y)
    near = dist < 150
    assert near.any() and (results.cells["mobile_quality_before"].to_numpy()[near] == 1).all()

    pd.DataFrame({"lon": [TX_LON], "lat": [TX_LAT], "tec": ["5G"], "p": [43]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    from connectivity.errors import LayerError

    with pytest.raises(LayerError, match=r"technologies with no radio .*rows 1; radios: 4G, 3G"):
        run_scenario(load_scenario(_mobile_scenario(tmp_path, mobile, sites=3)))


def test_cli_run_reports_rural_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from connectivity.cli import main

    path = _mobile_scenario(tmp_path, {"new_towers": {"count": 3}}, towers_only=True, sites=2)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "rural land:" in out and "existing mobile coverage unknown" in out
    assert (tmp_path / "out" / "signal_dbm.tif").exists()  # the chosen towers' signal
    assert "Plan de torres móviles" in (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
