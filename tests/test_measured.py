"""Measured coverage: quadkey tiles, area-weighting onto cells, overriding the model."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity.errors import LayerError
from connectivity.measured import (
    MeasuredCells,
    measured_on_cells,
    override,
    quadkey_bounds,
    speed_class,
    tiles_from_quadkeys,
)


def test_quadkey_bounds_published_examples() -> None:
    # Bing Maps tile system: quadkey "213" is tile x=3, y=5 at level 3 (of 8 x 8 tiles)
    lon0, lat0, lon1, lat1 = quadkey_bounds("213")
    assert (lon0, lon1) == (3 / 8 * 360 - 180, 4 / 8 * 360 - 180)
    assert lat1 == pytest.approx(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * 5 / 8)))))
    assert lat0 < lat1
    # a zoom-16 tile over Bogotá's Plaza de Bolívar (-74.0760, 4.5981) contains it
    key = "0320" + "0"  # coarse prefix, refined below
    x, y, z = 0, 0, 16
    n = 2**z
    x = int((-74.0760 + 180) / 360 * n)
    lat = np.radians(4.5981)
    y = int((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * n)
    key = "".join(str(((x >> i) & 1) + 2 * ((y >> i) & 1)) for i in range(z - 1, -1, -1))
    lon0, lat0, lon1, lat1 = quadkey_bounds(key)
    assert lon0 <= -74.0760 <= lon1 and lat0 <= 4.5981 <= lat1
    assert (lon1 - lon0) == pytest.approx(360 / n)


def test_bad_quadkeys_are_named() -> None:
    table = pd.DataFrame({"quadkey": ["0123", "0x9", "", "3210"]})
    with pytest.raises(LayerError, match=r"2 values that are not quadkeys .*rows 2, 3"):
        tiles_from_quadkeys(table, "quadkey", source="tiles.csv")


def test_speed_classes() -> None:
    got = speed_class(np.array([0.5, 5.0, 24.9, 25.0, 300.0]), basic_mbps=5, good_mbps=25)
    assert list(got) == ["none", "basic", "basic", "good", "good"]


def _cells(n: int = 4, size: float = 100.0) -> gpd.GeoDataFrame:
    boxes = [shapely.box(i * size, 0, (i + 1) * size, size) for i in range(n)]
    return gpd.GeoDataFrame({"cell": range(n)}, geometry=boxes, crs="EPSG:9377")


def test_area_weighting_on_cells() -> None:
    cells = _cells()
    shapes = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 150, 100), shapely.box(150, 0, 200, 100)], crs=cells.crs
    )
    got = measured_on_cells(cells, shapes, np.array([1.0, 0.0]))
    np.testing.assert_allclose(got.quality, [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(got.measured_share, [1.0, 1.0, 0.0, 0.0])
    half = gpd.GeoDataFrame(geometry=[shapely.box(200, 0, 250, 100)], crs=cells.crs)
    got = measured_on_cells(cells, half, np.array([0.5]))
    np.testing.assert_allclose(got.quality, [0, 0, 0.5, 0])
    np.testing.assert_allclose(got.measured_share, [0, 0, 0.5, 0])


def test_measured_values_override_the_model_in_order() -> None:
    modelled = np.array([1.0, 1.0, 0.5, 0.0])
    first = MeasuredCells(np.array([0.0, 0.5, 0.0, 0.0]), np.array([1.0, 1.0, 0.0, 0.0]))
    second = MeasuredCells(np.array([0.0, 1.0, 0.0, 0.0]), np.array([0.0, 0.3, 0.0, 0.0]))
    quality, source = override(modelled, [first, second])
    np.testing.assert_allclose(quality, [0.0, 1.0, 0.5, 0.0])
    assert list(source) == [0, 1, -1, -1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 350), st.floats(0, 90), st.floats(5, 200), st.sampled_from([0, 0.5, 1])
        ),
        min_size=1,
        max_size=6,
    )
)
def test_area_weighted_quality_stays_within_the_measured_values(shapes) -> None:
    cells = _cells()
    geoms = [shapely.box(x, y, x + w, y + w) for x, y, w, _ in shapes]
    quality = np.array([q for *_, q in shapes], dtype=float)
    got = measured_on_cells(cells, gpd.GeoDataFrame(geometry=geoms, crs=cells.crs), quality)
    assert ((got.measured_share >= 0) & (got.measured_share <= 1)).all()
    measured = got.measured
    assert (got.quality[measured] >= quality.min() - 1e-9).all()
    assert (got.quality[measured] <= quality.max() + 1e-9).all()
    assert (got.quality[~measured] == 0).all()
