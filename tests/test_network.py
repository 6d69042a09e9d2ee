from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity import InputFileError, LayerError, load_scenario, run_to_folder
from connectivity.layers import read_osm_features
from connectivity.network import street_graph_from_osm, walking_coverage
from connectivity.scenario import LayerSpec

from .conftest import REPO

OSM = REPO / "data" / "bogota" / "osm" / "usaquen_mapping_party_2016-05-03.osm"
METRIC = "EPSG:9377"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return street_graph_from_osm(OSM, metric_crs=METRIC, cache_dir=tmp_path_factory.mktemp("cache"))


def _points(graph, n: int, seed: int) -> np.ndarray:
    xy = np.array([[d["x"], d["y"]] for _, d in graph.nodes(data=True)])
    rng = np.random.default_rng(seed)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return rng.uniform(lo, hi, size=(n, 2))


def test_graph_from_the_shipped_extract(graph, tmp_path: Path) -> None:
    assert graph.number_of_nodes() == 348
    assert graph.graph["crs"] == METRIC or str(graph.graph["crs"]).endswith("9377")
    cache = tmp_path / "c"
    street_graph_from_osm(OSM, metric_crs=METRIC, cache_dir=cache)
    assert len(list(cache.glob("streets-*.pickle"))) == 1
    again = street_graph_from_osm(OSM, metric_crs=METRIC, cache_dir=cache)
    assert again.number_of_edges() == graph.number_of_edges()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(50, 400))
def test_walking_is_never_shorter_than_the_straight_line(graph, seed, cutoff) -> None:
    sites = _points(graph, 8, seed)
    cells = _points(graph, 60, seed + 1)
    walk = walking_coverage(graph, sites, cells, cutoff).tocoo()
    straight = np.hypot(*(sites[walk.row] - cells[walk.col]).T)
    assert (straight <= cutoff + 1e-6).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(50, 300), extra=st.floats(0, 300))
def test_walking_coverage_never_shrinks_as_the_cutoff_grows(graph, seed, cutoff, extra) -> None:
    sites = _points(graph, 6, seed)
    cells = _points(graph, 50, seed + 7)
    small = walking_coverage(graph, sites, cells, cutoff).toarray()
    large = walking_coverage(graph, sites, cells, cutoff + extra).toarray()
    assert (large >= small).all()


def test_osm_features_as_candidates() -> None:
    gdf, _ = read_osm_features(
        LayerSpec(path=OSM),
        {"amenity": ["library", "school"], "leisure": ["park"]},
        role="osm",
        metric_crs=METRIC,
    )
    assert len(gdf) > 0 and gdf.crs.to_epsg() == 9377
    assert (gdf.geom_type == "Point").all()
    assert "COLEGIO DISTRITAL GENERAL SANTANDER" in set(gdf["name"])


def test_bad_osm_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        street_graph_from_osm(tmp_path / "none.osm", metric_crs=METRIC)
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm version='0.6'></osm>")
    with pytest.raises(LayerError, match=r"bad\.osm"):
        street_graph_from_osm(bad, metric_crs=METRIC)


def test_usaquen_walking_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "usaquen_walking.yaml")
    out = tmp_path / "usaquen"
    results = run_to_folder(scenario, out)
    table = pd.read_csv(out / "reach_comparison.csv")
    assert table["plan"].tolist() == ["chosen_by_walking_reach", "chosen_by_straight_line"]
    # each (exact) plan is best under the reach it was chosen for
    w = table["pct_weight_covered_walking"]
    s = table["pct_weight_covered_straight_line"]
    assert w[0] >= w[1] * (1 - 1e-3)
    assert s[1] >= s[0] * (1 - 1e-3)
    assert (
        table.loc[0, "site_point_pairs_walking"] <= table.loc[0, "site_point_pairs_straight_line"]
    )
    assert len(results.selected) == 5
    assert set(results.candidates["type"]) >= {"osm_equipamiento"}
