from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from connectivity import OutputError, run_to_folder
from connectivity.outputs import OUTPUT_FILES, write_outputs
from connectivity.outputs.i18n import LABELS
from connectivity.outputs.tables import SELECTED_COLUMNS, SUMMARY_COLUMNS
from tests.conftest import GIS_LAYERS


@pytest.fixture(scope="module")
def written(subset_outputs: Path) -> Path:
    return subset_outputs


def test_every_output_is_written(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == sorted(OUTPUT_FILES)
    assert not list(written.parent.glob(".*partial*"))


def test_geopackage_layers_have_crs(written: Path) -> None:
    layers = {name for name, _ in pyogrio.list_layers(written / "connectivity.gpkg")}
    assert layers == {*GIS_LAYERS, "layer_styles"}
    styles = pyogrio.read_dataframe(written / "connectivity.gpkg", layer="layer_styles")
    assert set(styles["f_table_name"]) == layers - {"layer_styles"}
    assert styles["styleQML"].str.contains("<renderer-v2").all()
    meta = pyogrio.read_info(written / "connectivity.gpkg", layer="localities")["dataset_metadata"]
    assert meta["scenario"] == "bogota_subset" and "sectores.gpkg=" in meta["inputs_sha256"]
    for layer in layers - {"layer_styles"}:
        gdf = gpd.read_file(written / "connectivity.gpkg", layer=layer)
        assert gdf.crs is not None and gdf.crs.to_epsg() == 9377, layer
    gaps = gpd.read_file(written / "connectivity.gpkg", layer="gaps")
    assert {"population", "area_code", "people_without_internet"} <= set(gaps.columns)


def test_csv_tables(written: Path, subset_results) -> None:
    sel = pd.read_csv(written / "selected_sites.csv")
    assert sel.columns.tolist() == [*SELECTED_COLUMNS, "suppressed"]
    assert len(sel) == 15
    assert sel["lon"].between(-75, -73).all() and sel["lat"].between(3.5, 5).all()
    summary = pd.read_csv(written / "summary_by_locality.csv", dtype={"locality_code": str})
    assert summary.columns.tolist() == [*SUMMARY_COLUMNS, "suppressed"]
    assert summary["locality_code"].tolist() == ["03", "14", "17", "20"]
    assert summary["sites_selected"].sum() == 15
    assert (summary["covered_after"] >= summary["covered_before"]).all()
    assert summary["population"].sum() == pytest.approx(
        subset_results.cells["population"].sum(), abs=4
    )


def test_run_json(written: Path, subset_results) -> None:
    run = json.loads((written / "run.json").read_text(encoding="utf-8"))
    assert run["connectivity_version"]
    assert run["scenario"]["name"] == "bogota_subset"
    assert set(run["stage_seconds"]) == {
        "territory",
        "demand",
        "existing_coverage",
        "candidates",
        "coverage_matrix",
        "optimise",
        "evaluation",
        "gaps",
    }
    paths = {Path(i["path"]).name for i in run["inputs"]}
    assert {"sectores.gpkg", "sociodemograficas.csv", "wifi.csv", "paraderos_sitp.csv"} <= paths
    assert all(len(i["sha256"]) == 64 for i in run["inputs"])
    assert run["counts"]["demand_cells"] == len(subset_results.cells)
    assert run["outputs"] == OUTPUT_FILES
    assert run["format"] == "connectivity-run/1"
    on_disk = sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file())
    assert run["files"] == [n for n in on_disk if not n.endswith(".aux.xml")]  # GDAL's, on reading


def test_map_html_has_layers_and_escapes_names(subset_results, tmp_path: Path) -> None:
    selected = subset_results.selected.copy()
    selected.loc[0, "name"] = "<script>alert('x')</script>"
    out = tmp_path / "evil"
    write_outputs(dataclasses.replace(subset_results, selected=selected), out)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    for key in (
        "localities",
        "existing_wifi",
        "selected_sites",
        "uncovered_before",
        "uncovered_after",
    ):
        text = LABELS[key]["es"]
        assert text in html or json.dumps(text)[1:-1] in html, key
    assert "L.control.layers" in html


def test_translation_table_is_complete() -> None:
    for key, texts in LABELS.items():
        assert set(texts) == {"es", "en"}, key
        assert all(texts.values()), key


def test_failed_run_leaves_previous_outputs_untouched(subset_scenario, written: Path) -> None:
    before = {p: p.read_bytes() for p in written.rglob("*") if p.is_file()}
    broken = dataclasses.replace(
        subset_scenario,
        demand=dataclasses.replace(subset_scenario.demand, population_column="NOPE"),
    )
    with pytest.raises(Exception, match="NOPE"):
        run_to_folder(broken, written)
    assert {p: p.read_bytes() for p in written.rglob("*") if p.is_file()} == before
    assert not list(written.parent.glob(".*partial*"))


def test_refuses_to_replace_a_folder_that_is_not_a_run(subset_results, tmp_path: Path) -> None:
    mine = tmp_path / "my_documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="holds files that no connectivity run wrote there"):
        write_outputs(subset_results, mine)
    assert (mine / "thesis.docx").read_text() == "precious"


def test_rerun_replaces_an_earlier_run_but_never_a_file_of_yours(
    subset_results, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    write_outputs(subset_results, out)
    out.chmod(0o750)
    write_outputs(subset_results, out)  # a run of ours: replaced, permissions kept
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert out.stat().st_mode & 0o777 == 0o750
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"'notes\.txt'"):
        write_outputs(subset_results, out)
    assert (out / "notes.txt").read_text() == "mine"


def test_english_labels_with_language_en(subset_results, tmp_path: Path) -> None:
    scenario = dataclasses.replace(
        subset_results.scenario,
        output=dataclasses.replace(subset_results.scenario.output, language="en"),
    )
    out = tmp_path / "en"
    write_outputs(dataclasses.replace(subset_results, scenario=scenario), out)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert LABELS["existing_wifi"]["en"] in html
    assert LABELS["existing_wifi"]["es"] not in html


def test_report_is_self_contained_and_escaped(subset_results, tmp_path: Path) -> None:
    areas = subset_results.territory.areas.copy()
    areas.loc[0, "area_name"] = "<img src=x onerror=alert(1)>"
    territory = dataclasses.replace(subset_results.territory, areas=areas)
    out = tmp_path / "r"
    write_outputs(dataclasses.replace(subset_results, territory=territory), out)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("data:image/png;base64,") == 3
    assert "Cifras clave" in page and "Gini" in page


def test_gini() -> None:
    import numpy as np

    from connectivity.outputs.report import gini

    assert gini(np.array([1.0, 1.0, 1.0]), np.ones(3)) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 1.0]), np.ones(3)) == pytest.approx(2 / 3)
    assert 0 <= gini(np.array([0.1, 0.5, 0.2]), np.array([3.0, 1.0, 2.0])) <= 1


def test_geoparquet_layers(written: Path) -> None:
    names = sorted(p.stem for p in (written / "geoparquet").iterdir())
    assert names == sorted(
        ["localities", "demand_cells", "existing_wifi", "candidates", "selected_sites", "gaps"]
    )
    cells = gpd.read_parquet(written / "geoparquet" / "demand_cells.parquet")
    assert cells.crs.to_epsg() == 9377


def test_output_crs_on_request(subset_results, tmp_path: Path) -> None:
    scenario = dataclasses.replace(
        subset_results.scenario,
        output=dataclasses.replace(subset_results.scenario.output, crs="EPSG:4326"),
    )
    out = tmp_path / "wgs84"
    write_outputs(dataclasses.replace(subset_results, scenario=scenario), out)
    gaps = gpd.read_file(out / "connectivity.gpkg", layer="gaps")
    assert gaps.crs.to_epsg() == 4326
    assert gpd.read_parquet(out / "geoparquet" / "selected_sites.parquet").crs.to_epsg() == 4326


def test_atlas_has_a_page_per_locality(written: Path) -> None:
    atlas = written / "atlas"
    assert sorted(p.name for p in atlas.glob("*.png")) == ["03.png", "14.png", "17.png", "20.png"]
    pdf = (atlas / "atlas.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 4
