from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity.propagation import (
    Grid,
    PropagationRangeError,
    Transmitter,
    cost231_hata_loss_db,
    coverage_class,
    free_space_loss_db,
    log_distance_loss_db,
    loss_function,
    okumura_hata_loss_db,
    power_windows,
    received_power_at,
)


def test_reference_values() -> None:
    # free space at 100 m and 2.4 GHz: 80.0 dB
    assert float(free_space_loss_db(100.0, 2400.0)) == pytest.approx(80.04, abs=0.01)
    # Hata urban, 900 MHz, base 30 m, mobile 1.5 m, 1 km (small/medium city): 126.4 dB
    assert float(okumura_hata_loss_db(1000.0, 900.0)) == pytest.approx(126.40, abs=0.01)
    # COST-231, 1800 MHz, same geometry: 136.2 dB (suburban, C = 0) and 139.2 dB (C = 3)
    assert float(cost231_hata_loss_db(1000.0, 1800.0, area="suburban")) == pytest.approx(
        136.20, abs=0.01
    )
    assert float(cost231_hata_loss_db(1000.0, 1800.0)) == pytest.approx(139.20, abs=0.01)
    # open areas lose less than suburban, which lose less than urban
    urban, sub, open_ = (
        float(okumura_hata_loss_db(5000.0, 900.0, area=a)) for a in ("urban", "suburban", "open")
    )
    assert open_ < sub < urban


@settings(max_examples=60, deadline=None)
@given(
    d1=st.floats(1000, 19000),
    extra=st.floats(1, 1000),
    f=st.floats(150, 1400),
    df=st.floats(1, 100),
)
def test_loss_grows_with_distance_and_frequency(d1, extra, f, df) -> None:
    assert okumura_hata_loss_db(d1 + extra, f) > okumura_hata_loss_db(d1, f)
    assert okumura_hata_loss_db(d1, f + df) > okumura_hata_loss_db(d1, f)
    assert free_space_loss_db(d1 + extra, f) > free_space_loss_db(d1, f)
    assert log_distance_loss_db(d1 + extra, f, exponent=3.2) > log_distance_loss_db(
        d1, f, exponent=3.2
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: okumura_hata_loss_db(1000.0, 2400.0), r"frequency_mhz = 2400 .*\[150, 1500\]"),
        (lambda: okumura_hata_loss_db(500.0, 900.0), r"distance_m = 500 .*\[1000, 20000\]"),
        (lambda: okumura_hata_loss_db(1000.0, 900.0, base_height_m=10), r"base_height_m = 10"),
        (lambda: cost231_hata_loss_db(1000.0, 900.0), r"COST-231 Hata: frequency_mhz = 900"),
        (lambda: cost231_hata_loss_db(1000.0, 1800.0, mobile_height_m=15), "mobile_height_m"),
        (lambda: log_distance_loss_db(50.0, 2400.0, exponent=9), r"exponent = 9"),
        (lambda: free_space_loss_db(-1.0, 2400.0), r"distance_m = -1"),
    ],
)
def test_out_of_range_inputs_are_refused(call, match) -> None:
    with pytest.raises(PropagationRangeError, match=match):
        call()


def test_raster_crs_transform_and_maximum(tmp_path: Path) -> None:
    import rasterio

    from connectivity.outputs.raster import write_power_raster

    tx = Transmitter(x=4_880_050.0, y=2_060_050.0, power_dbm=20.0, frequency_mhz=2400.0)
    grid = Grid.covering((4_879_000.0, 2_059_000.0, 4_881_000.0, 2_061_000.0), 100.0)
    windows = power_windows(
        grid,
        lambda xy: (
            received_power_at(
                xy,
                [tx],
                loss_db=loss_function("log_distance", exponent=3.0),
                max_range_m=800.0,
            ).power_dbm
        ),
        rows_per_window=7,
    )
    path = tmp_path / "p.tif"
    write_power_raster(path, grid, windows, crs="EPSG:9377")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 9377
        assert src.transform.a == 100.0 and src.transform.e == -100.0
        assert (src.transform.c, src.transform.f) == (4_879_000.0, 2_061_000.0)
        assert (src.width, src.height) == (20, 20)
        band = src.read(1)
        col = int((tx.x - src.transform.c) // src.transform.a)
        row = int((tx.y - src.transform.f) // src.transform.e)
        assert band[row, col] == band.max()
        assert (band[band > src.nodata] <= tx.power_dbm).all()
        assert (band == src.nodata).any()  # corners beyond 800 m


def test_coverage_classes() -> None:
    assert coverage_class(
        np.array([-120.0, -95.0, -70.0]), basic_dbm=-100.0, good_dbm=-80.0
    ).tolist() == [0, 1, 2]
    with pytest.raises(PropagationRangeError, match="must not be below basic"):
        coverage_class(np.zeros(1), basic_dbm=-80.0, good_dbm=-100.0)


def test_calibration_recovers_known_parameters() -> None:
    from connectivity.propagation import calibrate_log_distance

    rng = np.random.default_rng(11)
    d = rng.uniform(5, 400, 500)
    true_loss = 40.0 + 10 * 3.2 * np.log10(d)
    rx = 20.0 - true_loss + rng.normal(0, 4.0, d.size)
    rx[:15] -= 35.0  # a few readings behind walls: outliers
    fit = calibrate_log_distance(d, rx, transmit_power_dbm=20.0)
    assert fit.exponent == pytest.approx(3.2, abs=0.15)
    assert fit.intercept_db == pytest.approx(40.0, abs=2.5)
    assert 3.0 < fit.rmse_db < 10.0
    assert float(fit.loss_db(100.0)) == pytest.approx(40 + 64, abs=3)


def test_calibration_needs_enough_samples() -> None:
    from connectivity.propagation import calibrate_log_distance

    with pytest.raises(PropagationRangeError, match="3 usable samples"):
        calibrate_log_distance([10, 20, 30], [-60, -70, -75], transmit_power_dbm=20)


def test_knife_edge_reference_values() -> None:
    from connectivity.propagation import knife_edge_loss_db

    # ITU-R P.526: 6 dB at grazing incidence (nu = 0), none below nu = -0.78, about 13.9 dB
    # at nu = 1 and 20.5 dB at nu = 2.4 (J(nu) of eq. 31)
    j = knife_edge_loss_db([0.0, -0.8, 1.0, 2.4])
    np.testing.assert_allclose(j, [6.03, 0.0, 13.93, 20.54], atol=0.01)
    assert np.all(np.diff(knife_edge_loss_db(np.linspace(-0.7, 5, 50))) > 0)


def _terrain(heights: np.ndarray, cell_m: float = 100.0):
    from connectivity.propagation import Terrain

    return Terrain(heights, (cell_m, 0.0, 0.0, 0.0, -cell_m, heights.shape[0] * cell_m))


def test_terrain_line_of_sight_and_diffraction() -> None:
    from connectivity.propagation import terrain_obstruction

    flat = np.full((100, 100), 2600.0)  # a high plateau: only relative heights matter
    ridge = flat.copy()
    ridge[:, 50] += 300.0  # a 300 m ridge running north-south at x = 5,000-5,100 m
    tx = Transmitter(x=1000.0, y=5000.0, power_dbm=58.0, frequency_mhz=700.0, height_m=30.0)
    points = np.array([[3000.0, 5000.0], [9000.0, 5000.0], [4500.0, 7000.0]])
    in_sight, nu = terrain_obstruction(tx, points, _terrain(flat), receiver_height_m=1.5)
    assert in_sight.all()
    in_sight, nu = terrain_obstruction(tx, points, _terrain(ridge), receiver_height_m=1.5)
    assert list(in_sight) == [True, False, True]  # only the path across the ridge is blocked
    assert nu[1] > 1
    loss = loss_function("okumura_hata", area="open")
    kwargs = {"loss_db": loss, "max_range_m": 15000.0, "receiver_height_m": 1.5}
    on_flat = received_power_at(points, [tx], terrain=_terrain(flat), **kwargs)
    no_dem = received_power_at(points, [tx], **kwargs)
    behind = received_power_at(points, [tx], terrain=_terrain(ridge), **kwargs)
    np.testing.assert_allclose(on_flat.power_dbm, no_dem.power_dbm)  # no loss in sight
    assert behind.power_dbm[1] < on_flat.power_dbm[1] - 10
    np.testing.assert_allclose(behind.power_dbm[[0, 2]], on_flat.power_dbm[[0, 2]])
    assert list(behind.line_of_sight) == [True, False, True]


def test_dem_is_read_and_reprojected(tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    from connectivity.layers import read_dem

    path = tmp_path / "dem.tif"
    heights = np.linspace(2500, 3500, 60 * 80, dtype="float32").reshape(60, 80)
    heights[0, 0] = -9999
    profile = {
        "driver": "GTiff",
        "width": 80,
        "height": 60,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(0.001, 0, -74.2, 0, -0.001, 4.3),
        "nodata": -9999,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(heights, 1)
    terrain = read_dem(path, metric_crs="EPSG:9377")
    assert terrain.transform[0] > 50  # metres now, not degrees
    valid = terrain.elevation_m[np.isfinite(terrain.elevation_m)]
    assert valid.min() >= 2500 and valid.max() <= 3500
    # a point in the middle of the DEM, in EPSG:9377, has a height between the extremes
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 9377, always_xy=True).transform(-74.16, 4.27)
    h = terrain.ground_m(np.array([x]), np.array([y]))[0]
    assert 2500 < h < 3500


def test_loss_function_clamps_hata_distances_and_checks_heights() -> None:
    tx = Transmitter(x=0.0, y=0.0, power_dbm=58.0, frequency_mhz=700.0, height_m=30.0)
    loss = loss_function("okumura_hata", area="open")
    near = loss(np.array([10.0, 500.0, 1000.0]), tx)
    assert np.ptp(near) == 0  # within 1 km the 1 km loss is used
    assert loss(np.array([5000.0]), tx)[0] > near[0]
    with pytest.raises(PropagationRangeError, match="base_height_m = 10"):
        loss(np.array([2000.0]), Transmitter(0.0, 0.0, 58.0, 700.0, height_m=10.0))
    with pytest.raises(PropagationRangeError, match="frequency_mhz = 2600"):
        loss(np.array([2000.0]), Transmitter(0.0, 0.0, 58.0, 2600.0))
