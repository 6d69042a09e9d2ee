from __future__ import annotations

import geopandas as gpd
import shapely

from connectivity.sites import merge_close_sites


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
