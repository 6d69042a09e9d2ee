from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from connectivity.scenario import CandidateLayerSpec
from connectivity.sites import candidates_from_layers, merge_close_sites


def _sites(xy):
    return gpd.GeoDataFrame(
        {"site_id": [f"s-{i}" for i in range(len(xy))]},
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs="EPSG:9377",
    )


def test_close_sites_merge_keeping_the_first() -> None:
    merged = merge_close_sites(_sites([(0, 0), (3, 0), (6, 0), (100, 0)]), 5.0)
    assert merged["site_id"].tolist() == ["s-0", "s-3"]  # a chain 3 m apart becomes one site


def test_no_merge_when_distance_is_zero() -> None:
    assert len(merge_close_sites(_sites([(0, 0), (0, 0)]), 0.0)) == 2


def test_subset_candidates(subset_results) -> None:
    cand = subset_results.candidates
    assert cand["site_id"].is_unique
    assert set(cand["type"]) >= {"colegio_oficial", "paradero_sitp", "estacion_transmilenio"}
    assert cand["area_code"].isin(["03", "14", "17", "20"]).all()
    assert cand.within(subset_results.territory.outline.buffer(1)).all()


def _layer(cand, seed: int | None):
    rows = cand if seed is None else cand.sample(frac=1.0, random_state=seed)
    return gpd.GeoDataFrame(
        {"name": rows["name"].to_numpy()}, geometry=rows.geometry.to_numpy(), crs=cand.crs
    )


def test_row_order_of_a_layer_changes_neither_the_table_nor_the_merges(subset_results) -> None:
    cand = subset_results.candidates
    schools = cand[cand["type"] == "colegio_oficial"]
    stops = cand[cand["type"] == "paradero_sitp"].head(200)
    # the same stop listed twice under two names, 1 m apart: which one a merge keeps must not
    # depend on which row comes first
    twin = stops.head(1).copy()
    twin["name"] = "zz twin"
    twin.geometry = twin.geometry.translate(1.0, 0.0)
    stops = pd.concat([stops, twin])
    specs = [
        CandidateLayerSpec(path=Path("schools.csv"), type="colegio_oficial", name_column="name"),
        CandidateLayerSpec(path=Path("stops.csv"), type="paradero_sitp", name_column="name"),
    ]

    def table(seed):
        layers = [(specs[0], _layer(schools, seed)), (specs[1], _layer(stops, seed))]
        out = candidates_from_layers(layers, subset_results.territory, merge_distance_m=5.0)
        return list(zip(out["type"], out["name"], out.geometry.x, out.geometry.y, strict=True))

    reference = table(None)
    assert len(reference) == len(schools) + len(stops) - 1
    for seed in (1, 2, 3):
        assert table(seed) == reference
