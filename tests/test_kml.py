"""``plan.kmz`` for Google Earth: read back by GDAL, styled, labelled, and safe with any name."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pyogrio
import pytest

from connectivity.outputs import write_outputs
from connectivity.outputs.i18n import label
from connectivity.outputs.kml import KML_NS
from tests.test_output_safety import HOSTILE, hostile_results

NS = {"k": KML_NS}


def _folders(path: Path) -> dict[str, int]:
    return {name: pyogrio.read_info(path, layer=name)["features"] for name, _ in
            pyogrio.list_layers(path)}  # fmt: skip


def test_kmz_reads_back_in_gdal_with_every_site_gap_and_locality(
    subset_outputs: Path, subset_results
) -> None:
    path = subset_outputs / "plan.kmz"
    folders = _folders(path)
    assert folders == {
        label("selected_sites", "es"): len(subset_results.selected),
        label("gaps", "es"): len(subset_results.gaps),
        label("localities", "es"): len(subset_results.territory.areas),
    }
    sites = pyogrio.read_dataframe(path, layer=label("selected_sites", "es"))
    ranks = [int(n.split(".")[0]) for n in sites["Name"]]
    assert ranks == list(range(1, len(sites) + 1))  # placemarks named and ordered by rank
    assert sites.crs.to_epsg() == 4326
    expected = subset_results.selected.to_crs(4326).geometry
    assert np.allclose(sites.geometry.x, expected.x, atol=1e-6)
    assert np.allclose(sites.geometry.y, expected.y, atol=1e-6)
    assert all("Prioridad" in d and "Personas nuevas" in d for d in sites["description"])
    localities = pyogrio.read_dataframe(path, layer=label("localities", "es"))
    assert set(localities.geom_type) <= {"Polygon", "MultiPolygon"}
    outline = subset_results.territory.outline
    assert localities.to_crs(subset_results.cells.crs).union_all().buffer(50).covers(outline)


def test_each_placemark_uses_a_style_the_document_defines(subset_outputs: Path) -> None:
    with zipfile.ZipFile(subset_outputs / "plan.kmz") as archive:
        assert archive.namelist() == ["doc.kml"]
        root = ET.fromstring(archive.read("doc.kml"))
    styles = {s.get("id") for s in root.iter(f"{{{KML_NS}}}Style")}
    used = {u.text.lstrip("#") for u in root.iter(f"{{{KML_NS}}}styleUrl") if u.text}
    assert used and used <= styles
    assert {"site"} < used  # sites, and at least one gap or locality shade


@pytest.fixture(scope="module")
def hostile_kmz(subset_results, tmp_path_factory) -> Path:
    results = hostile_results(subset_results)
    selected = results.selected.copy()
    selected.loc[selected.index[0], "name"] = "Parque\x00\x0b nulo"  # XML 1.0 forbids these
    out = tmp_path_factory.mktemp("hostile_kml") / "run"
    write_outputs(dataclasses.replace(results, selected=selected), out)
    return out / "plan.kmz"


def test_hostile_names_come_back_as_the_same_text_and_never_as_markup(hostile_kmz: Path) -> None:
    with zipfile.ZipFile(hostile_kmz) as archive:
        text = archive.read("doc.kml").decode("utf-8")
    ET.fromstring(text)  # well-formed XML, control characters and all
    assert "<img" not in text and "<script" not in text
    sites = pyogrio.read_dataframe(hostile_kmz, layer=label("selected_sites", "es"))
    names = [n.split(". ", 1)[1] for n in sites["Name"]]
    assert names[0] == "Parque   nulo"
    for i, name in enumerate(names[1:], start=1):
        assert name.strip() == HOSTILE[i % len(HOSTILE)].strip(), (i, name)
    # balloons hold the names HTML-escaped: Google Earth shows them as text
    for description in sites["description"]:
        assert "<img" not in description and "<script" not in description
