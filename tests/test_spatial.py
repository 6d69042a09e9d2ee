"""``points_within`` gives exactly the pairs of the usual STRtree query, whatever the input."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity.spatial import points_within


def _reference(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, q = shapely.STRtree(polygons).query(points, predicate="within")
    order = np.lexsort((q, p))
    return p[order], q[order]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_points=st.integers(0, 300),
    n_polygons=st.integers(0, 8),
)
def test_same_pairs_as_the_polygon_tree_query(seed: int, n_points: int, n_polygons: int) -> None:
    rng = np.random.default_rng(seed)
    # points on a coarse lattice, so that many fall exactly on polygon edges and corners
    points = shapely.points(rng.integers(0, 20, (n_points, 2)).astype(float))
    polygons = []
    for _ in range(n_polygons):
        x, y = rng.integers(0, 15, 2)
        w, h = rng.integers(1, 8, 2)
        shape = shapely.box(x, y, x + w, y + h)
        if rng.random() < 0.5:  # a hole, or a rotated shape
            shape = shape.difference(shapely.box(x + 0.5, y + 0.5, x + w / 2, y + h / 2))
        polygons.append(shape)
    polys = np.array(polygons, dtype=object)
    got = points_within(points, polys)
    want = _reference(points, polys) if len(points) and len(polys) else (np.zeros(0),) * 2
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_a_point_in_two_overlapping_areas_joins_the_first() -> None:
    import geopandas as gpd

    from connectivity.territory import assign_area

    areas = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(9, 0, 20, 10)], crs="EPSG:9377"
    )
    got = assign_area(np.array([9.5, 5.0, 15.0, 30.0]), np.array([5.0] * 4), areas)
    assert got.tolist() == [0, 0, 1, -1]
    flipped = areas.iloc[::-1].reset_index(drop=True)
    assert assign_area(np.array([9.5]), np.array([5.0]), flipped).tolist() == [0]
