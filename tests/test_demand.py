from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity.demand import priority_multiplier
from connectivity.grid import cells_from_units, grid_pairs
from connectivity.scenario import GroupSpec
from connectivity.territory import Territory

CRS = "EPSG:9377"


def _territory(geom: shapely.Geometry, rural: shapely.Geometry | None = None) -> Territory:
    areas = gpd.GeoDataFrame(
        {"area_code": ["01"], "area_name": ["A"], "area_km2": [0.0], "rural_km2": [0.0]},
        geometry=[geom],
        crs=CRS,
    )
    return Territory(areas=areas, rural=rural if rural is not None else shapely.Polygon())


def _units(geoms: list[shapely.Geometry], pops: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "unit_id": [str(i) for i in range(len(geoms))],
            "population": pops,
            "internet_share": [0.5] * len(geoms),
            "women": [p / 2 for p in pops],
            "low": [0.25] * len(geoms),
        },
        geometry=geoms,
        crs=CRS,
    )


def test_subset_conserves_population(subset_results) -> None:
    cells = subset_results.cells
    assert cells["population"].sum() > 150_000
    assert (cells["population"] > 0).all()
    assert cells["area_code"].isin(["03", "14", "17", "20"]).all()
    assert set(cells["area_code"]) == {"03", "14", "17", "20"}
    # rural centros poblados in Sumapaz are rural, the city centre is not
    assert cells.loc[cells["area_code"] == "20", "rural"].all()
    assert not cells.loc[cells["area_code"] == "17", "rural"].any()
    assert (cells["people_without_internet"] <= cells["population"] + 1e-9).all()
    assert (cells["demand_weight"] >= cells["people_without_internet"] - 1e-9).all()


def test_cells_sit_on_the_grid(subset_results) -> None:
    cells = subset_results.cells
    bounds = cells.geometry.bounds
    assert np.allclose(bounds["minx"] % 100, 0) and np.allclose(bounds["miny"] % 100, 0)
    assert np.allclose(cells.area, 100 * 100)
    assert not cells[["ix", "iy"]].duplicated().any()


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(-5000, 5000),
    y=st.floats(-5000, 5000),
    w=st.floats(10, 3000),
    h=st.floats(10, 3000),
    size=st.sampled_from([50.0, 100.0, 250.0]),
    pop=st.floats(0, 1e5),
)
def test_area_weighting_conserves_counts(x, y, w, h, size, pop) -> None:
    unit = shapely.box(x, y, x + w, y + h)
    territory = _territory(unit.buffer(size * 2))
    cells = cells_from_units(
        _units([unit], [pop]),
        territory,
        cell_size_m=size,
        groups={"women": GroupSpec(columns=["w"])},
        snap_distance_m=0,
    )
    assert cells["population"].sum() == pytest.approx(pop, rel=1e-9, abs=1e-6)
    assert cells["women"].sum() == pytest.approx(pop / 2, rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000), st.floats(20, 900)),
        min_size=1,
        max_size=6,
    )
)
def test_grid_pairs_areas_add_up(discs) -> None:
    geoms = np.array([shapely.Point(x, y).buffer(r) for x, y, r in discs])
    unit, _, _, area, _ = grid_pairs(geoms, 100.0)
    total = np.bincount(unit, weights=area, minlength=len(geoms))
    assert np.allclose(total, shapely.area(geoms), rtol=1e-9)


def test_two_units_split_a_cell_and_shares_are_population_weighted() -> None:
    left, right = shapely.box(0, 0, 50, 100), shapely.box(50, 0, 100, 100)
    units = _units([left, right], [100.0, 300.0])
    units["low"] = [1.0, 0.0]
    units["internet_share"] = [0.0, 1.0]
    cells = cells_from_units(
        units,
        _territory(shapely.box(0, 0, 100, 100)),
        cell_size_m=100,
        groups={"low": GroupSpec(columns=["l"], kind="share", multiplier=2.0)},
    )
    assert len(cells) == 1
    row = cells.iloc[0]
    assert row["population"] == pytest.approx(400)
    assert row["low_share"] == pytest.approx(0.25)
    assert row["people_without_internet"] == pytest.approx(100)
    assert row["priority_multiplier"] == pytest.approx(1 + 2.0 * 0.25)
    assert row["demand_weight"] == pytest.approx(100 * 1.5)


def test_priority_multiplier_formula() -> None:
    import pandas as pd

    cells = pd.DataFrame(
        {
            "population": [100.0, 0.0],
            "women": [50.0, 0.0],
            "low_share": [0.4, 0.0],
            "rural": [True, False],
        }
    )
    groups = {
        "women": GroupSpec(columns=["x"], multiplier=1.0),
        "low": GroupSpec(columns=["y"], kind="share", multiplier=0.5),
    }
    mult = priority_multiplier(cells, groups, rural_multiplier=2.0)
    assert mult.tolist() == pytest.approx([1 + 0.5 + 0.2 + 2.0, 1.0])


def test_rural_cells_and_cells_outside_are_handled() -> None:
    area = shapely.box(0, 0, 1000, 1000)
    rural = shapely.box(0, 0, 500, 1000)
    unit = shapely.box(0, 0, 1500, 1000)  # a third sticks out of the territory
    cells = cells_from_units(
        _units([unit], [1500.0]), _territory(area, rural), cell_size_m=100, snap_distance_m=0
    )
    assert cells["population"].sum() == pytest.approx(1000)
    assert cells["rural"].sum() == 50
