"""The GeoPackage in QGIS itself: layers, CRS, counts, the stored styles, and a rendered map.

QGIS runs headless under Debian's Python (``tests/qgis_check.py``); ``make system-deps``
installs ``python3-qgis``, and with ``CONNECTIVITY_REQUIRE_SERVICES=1`` a missing QGIS fails.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest

from connectivity.outputs.classes import class_labels, density_breaks
from connectivity.outputs.palette import CANDIDATE_COLOUR, DENSITY_COLOURS, WIFI_COLOUR
from connectivity.outputs.styles import COVERAGE_CLASSES, LAYER_NAMES
from tests.servers import qgis_env, qgis_python, require

CHECK = Path(__file__).parent / "qgis_check.py"


@pytest.fixture(scope="module")
def in_qgis(subset_outputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    python = qgis_python()
    require(python is not None, "QGIS is not installed (Debian package python3-qgis)")
    assert python is not None
    folder = tmp_path_factory.mktemp("qgis")
    png = folder / "qgis.png"
    proc = subprocess.run(
        [python, str(CHECK), str(subset_outputs / "connectivity.gpkg"), str(png)],
        capture_output=True,
        text=True,
        env=qgis_env(folder / "runtime"),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    report["png"] = png
    report["warnings"] = [line for line in proc.stderr.splitlines() if "Warning" in line]
    return report


def test_every_layer_opens_valid_in_its_crs_with_every_feature(
    in_qgis: dict[str, Any], subset_outputs: Path
) -> None:
    gpkg = subset_outputs / "connectivity.gpkg"
    layers = in_qgis["layers"]
    assert sorted(layers) == sorted(LAYER_NAMES)
    for name, seen in layers.items():
        assert seen["valid"], name
        assert seen["crs"] == "EPSG:9377" and seen["crs_valid"], (name, seen["crs"])
        assert seen["features"] == pyogrio.read_info(gpkg, layer=name)["features"], name
    assert not in_qgis["warnings"], in_qgis["warnings"]  # e.g. a GeoPackage version too new


def test_each_layer_gets_the_style_the_web_map_draws(
    in_qgis: dict[str, Any], subset_results: Any
) -> None:
    layers = in_qgis["layers"]
    assert all(seen["styled"] for seen in layers.values()), {
        name: seen["style_message"] for name, seen in layers.items()
    }
    cells = layers["demand_cells"]["renderer"]
    assert cells["type"] == "graduatedSymbol"
    assert cells["attribute"] == "people_without_internet"
    breaks = density_breaks(subset_results.cells["people_without_internet"].to_numpy())
    assert [c["label"] for c in cells["classes"]] == class_labels(breaks)
    assert [c["colour"] for c in cells["classes"]] == DENSITY_COLOURS
    assert [c["upper"] for c in cells["classes"][:3]] == breaks.tolist()
    localities = layers["localities"]["renderer"]
    assert localities["type"] == "graduatedSymbol"
    assert localities["attribute"] == "pct_covered_after"
    assert len(localities["classes"]) == COVERAGE_CLASSES
    lowers = [c["lower"] for c in localities["classes"]]
    assert lowers[0] == 0.0 and np.all(np.diff(lowers) > 0)
    shades = [c["colour"] for c in localities["classes"]]
    assert len(set(shades)) == COVERAGE_CLASSES  # light to dark, one shade per class
    gaps = layers["gaps"]["renderer"]
    assert gaps["type"] == "graduatedSymbol" and gaps["attribute"] == "people_without_internet"
    sites = layers["selected_sites"]
    assert sites["labels"] and sites["label_field"] == "rank"
    assert layers["existing_wifi"]["renderer"]["colour"] == WIFI_COLOUR
    assert layers["candidates"]["renderer"]["colour"] == CANDIDATE_COLOUR


def test_qgis_renders_the_layers_to_a_map_that_is_not_blank(in_qgis: dict[str, Any]) -> None:
    render = in_qgis["render"]
    assert render["drawn_share"] > 0.02, render
    assert render["colours"] > 8, render
    assert in_qgis["png"].stat().st_size > 10_000
