from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectivity.propagation import (
    PropagationRangeError,
    Transmitter,
    cost231_hata_loss_db,
    coverage_class,
    free_space_loss_db,
    log_distance_loss_db,
    okumura_hata_loss_db,
    received_power_raster,
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

    tx = Transmitter(x=4_880_050.0, y=2_060_050.0, power_dbm=20.0, frequency_mhz=2400.0)
    path = received_power_raster(
        [tx],
        (4_879_000.0, 2_059_000.0, 4_881_000.0, 2_061_000.0),
        100.0,
        tmp_path / "p.tif",
        crs="EPSG:9377",
        max_range_m=800.0,
        window_rows=7,
        loss_db=lambda d, t: log_distance_loss_db(
            np.maximum(d, 1.0), t.frequency_mhz, exponent=3.0
        ),
    )
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 9377
        assert src.transform.a == 100.0 and src.transform.e == -100.0
        assert (src.transform.c, src.transform.f) == (4_879_000.0, 2_061_000.0)
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
