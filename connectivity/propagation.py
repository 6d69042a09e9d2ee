r"""Path-loss models for mobile and Wi-Fi signals, and received power on a grid.

Every model refuses inputs outside its published validity range with a
:class:`~connectivity.errors.PropagationRangeError` that names the parameter, its value and the
range. Distances are in metres, frequencies in MHz, heights in metres, losses in dB.

- :func:`free_space_loss_db` — Friis free space:
  :math:`L = 20\log_{10} d_{km} + 20\log_{10} f_{MHz} + 32.44`.
- :func:`log_distance_loss_db` — :math:`L = L_{fs}(d_0) + 10\,n\,\log_{10}(d/d_0)`, with the
  path-loss exponent :math:`n` as a parameter (about 2 in free space, 2.7–3.5 outdoors in towns,
  3–4 through walls).
- :func:`okumura_hata_loss_db` — Hata (1980), 150–1500 MHz, base 30–200 m, mobile 1–10 m,
  1–20 km; ``urban``, ``suburban`` or ``open`` areas.
- :func:`cost231_hata_loss_db` — COST 231 extension of Hata, 1500–2000 MHz, same heights and
  distances; ``urban`` adds the 3 dB metropolitan correction, ``suburban`` none, and ``open``
  applies Hata's open-area correction to the suburban value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from connectivity.errors import ConnectivityError

logger = logging.getLogger(__name__)

Area = Literal["urban", "suburban", "open"]


class PropagationRangeError(ConnectivityError, ValueError):
    """A propagation model was asked for an input outside its validity range."""


def _check_range(name: str, value: ArrayLike, low: float, high: float, model: str) -> None:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr < low) | (arr > high)
    if np.any(bad):
        first = float(arr[bad].flat[0]) if arr.ndim else float(arr)
        raise PropagationRangeError(
            f"{model}: {name} = {first:g} is outside the model's validity range [{low:g}, {high:g}]"
        )


def free_space_loss_db(distance_m: ArrayLike, frequency_mhz: float) -> np.ndarray:
    """Free-space path loss (Friis).

    Examples
    --------
    >>> round(float(free_space_loss_db(100.0, 2400.0)), 1)
    80.0
    """
    _check_range("frequency_mhz", frequency_mhz, 1.0, 100_000.0, "free space")
    _check_range("distance_m", distance_m, 1e-3, 1e8, "free space")
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    return np.asarray(20 * np.log10(d_km) + 20 * np.log10(frequency_mhz) + 32.44)


def log_distance_loss_db(
    distance_m: ArrayLike,
    frequency_mhz: float,
    *,
    exponent: float = 3.0,
    reference_m: float = 1.0,
) -> np.ndarray:
    """Log-distance path loss, free space up to ``reference_m`` then exponent ``n``.

    Examples
    --------
    >>> a = float(log_distance_loss_db(10.0, 2400.0, exponent=3.0))
    >>> b = float(log_distance_loss_db(100.0, 2400.0, exponent=3.0))
    >>> round(b - a, 6)
    30.0
    """
    _check_range("exponent", exponent, 1.0, 6.0, "log-distance")
    _check_range("reference_m", reference_m, 0.1, 1000.0, "log-distance")
    _check_range("distance_m", distance_m, reference_m, 1e6, "log-distance")
    d = np.asarray(distance_m, dtype=float)
    return np.asarray(
        free_space_loss_db(reference_m, frequency_mhz) + 10 * exponent * np.log10(d / reference_m)
    )


def _mobile_correction(frequency_mhz: float, mobile_height_m: float, large_city: bool) -> float:
    lf = np.log10(frequency_mhz)
    if large_city:
        if frequency_mhz >= 300:
            return float(3.2 * np.log10(11.75 * mobile_height_m) ** 2 - 4.97)
        return float(8.29 * np.log10(1.54 * mobile_height_m) ** 2 - 1.1)
    return float((1.1 * lf - 0.7) * mobile_height_m - (1.56 * lf - 0.8))


def _hata_checks(
    model: str, f: float, lo_f: float, hi_f: float, hb: float, hm: float, d: ArrayLike
) -> None:
    _check_range("frequency_mhz", f, lo_f, hi_f, model)
    _check_range("base_height_m", hb, 30.0, 200.0, model)
    _check_range("mobile_height_m", hm, 1.0, 10.0, model)
    _check_range("distance_m", d, 1000.0, 20000.0, model)


def okumura_hata_loss_db(
    distance_m: ArrayLike,
    frequency_mhz: float,
    *,
    base_height_m: float = 30.0,
    mobile_height_m: float = 1.5,
    area: Area = "urban",
    large_city: bool = False,
) -> np.ndarray:
    """Okumura-Hata path loss (Hata 1980).

    Examples
    --------
    >>> round(float(okumura_hata_loss_db(1000.0, 900.0)), 1)
    126.4
    """
    _hata_checks(
        "Okumura-Hata", frequency_mhz, 150.0, 1500.0, base_height_m, mobile_height_m, distance_m
    )
    lf = np.log10(frequency_mhz)
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    a_hm = _mobile_correction(frequency_mhz, mobile_height_m, large_city)
    urban = (
        69.55
        + 26.16 * lf
        - 13.82 * np.log10(base_height_m)
        - a_hm
        + (44.9 - 6.55 * np.log10(base_height_m)) * np.log10(d_km)
    )
    if area == "urban":
        return np.asarray(urban)
    if area == "suburban":
        return np.asarray(urban - 2 * np.log10(frequency_mhz / 28.0) ** 2 - 5.4)
    if area == "open":
        return np.asarray(urban - 4.78 * lf**2 + 18.33 * lf - 40.94)
    raise PropagationRangeError(f"Okumura-Hata: unknown area {area!r}; use urban, suburban, open")


def cost231_hata_loss_db(
    distance_m: ArrayLike,
    frequency_mhz: float,
    *,
    base_height_m: float = 30.0,
    mobile_height_m: float = 1.5,
    area: Area = "urban",
) -> np.ndarray:
    """COST 231 Hata path loss (1500–2000 MHz).

    Examples
    --------
    >>> round(float(cost231_hata_loss_db(1000.0, 1800.0, area="suburban")), 1)
    136.2
    """
    _hata_checks(
        "COST-231 Hata", frequency_mhz, 1500.0, 2000.0, base_height_m, mobile_height_m, distance_m
    )
    lf = np.log10(frequency_mhz)
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    a_hm = _mobile_correction(frequency_mhz, mobile_height_m, large_city=False)
    base = (
        46.3
        + 33.9 * lf
        - 13.82 * np.log10(base_height_m)
        - a_hm
        + (44.9 - 6.55 * np.log10(base_height_m)) * np.log10(d_km)
    )
    if area == "urban":
        return np.asarray(base + 3.0)
    if area == "suburban":
        return np.asarray(base)
    if area == "open":
        return np.asarray(base - 4.78 * lf**2 + 18.33 * lf - 40.94)
    raise PropagationRangeError(f"COST-231 Hata: unknown area {area!r}; use urban, suburban, open")


@dataclass(frozen=True)
class Transmitter:
    """A transmitter: position (metric CRS), power, frequency and antenna height."""

    x: float
    y: float
    power_dbm: float
    frequency_mhz: float
    height_m: float = 30.0


def received_power_raster(
    transmitters: list[Transmitter],
    bounds: tuple[float, float, float, float],
    cell_size_m: float,
    path: Path,
    *,
    crs: str,
    loss_db: Callable[[np.ndarray, Transmitter], np.ndarray],
    max_range_m: float,
    window_rows: int = 256,
    nodata_dbm: float = -200.0,
) -> Path:
    """Write the best received power (dBm) from any transmitter on a grid, as a GeoTIFF.

    The grid is processed in windows of ``window_rows`` rows, and each window only considers
    transmitters within ``max_range_m`` of it, so large territories fit in memory.

    Parameters
    ----------
    transmitters
        Transmitters in the raster's CRS.
    bounds
        ``(xmin, ymin, xmax, ymax)`` in metres; the grid is aligned on multiples of the cell.
    cell_size_m
        Side of the square cells.
    path
        GeoTIFF to write.
    crs
        The raster's CRS (projected, metres).
    loss_db
        Path loss for an array of distances and a transmitter (for example a lambda around
        :func:`log_distance_loss_db`).
    max_range_m
        Beyond this distance a transmitter is ignored.
    window_rows
        Rows per processing window.
    nodata_dbm
        Value of cells no transmitter reaches.
    """
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    xmin = np.floor(bounds[0] / cell_size_m) * cell_size_m
    ymax = np.ceil(bounds[3] / cell_size_m) * cell_size_m
    width = int(np.ceil((bounds[2] - xmin) / cell_size_m))
    height = int(np.ceil((ymax - bounds[1]) / cell_size_m))
    transform = Affine(cell_size_m, 0.0, xmin, 0.0, -cell_size_m, ymax)
    tx_xy = np.array([[t.x, t.y] for t in transmitters], dtype=float).reshape(-1, 2)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": nodata_dbm,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        xs = xmin + (np.arange(width) + 0.5) * cell_size_m
        for row0 in range(0, height, window_rows):
            rows = min(window_rows, height - row0)
            ys = ymax - (row0 + np.arange(rows) + 0.5) * cell_size_m
            best = np.full((rows, width), nodata_dbm, dtype=float)
            near = (
                ((tx_xy[:, 1] <= ys.max() + max_range_m) & (tx_xy[:, 1] >= ys.min() - max_range_m))
                if len(tx_xy)
                else np.zeros(0, dtype=bool)
            )
            gx, gy = np.meshgrid(xs, ys)
            for i in np.flatnonzero(near):
                t = transmitters[i]
                dist = np.hypot(gx - t.x, gy - t.y)
                reach = dist <= max_range_m
                if not reach.any():
                    continue
                power = np.full(dist.shape, nodata_dbm)
                power[reach] = t.power_dbm - loss_db(dist[reach], t)
                np.maximum(best, power, out=best)
            dst.write(best.astype("float32"), 1, window=Window(0, row0, width, rows))
    logger.info("propagation: %d × %d raster of received power written to %s", width, height, path)
    return path


def coverage_class(power_dbm: np.ndarray, *, basic_dbm: float, good_dbm: float) -> np.ndarray:
    """Classify received power: 0 none, 1 basic (≥ ``basic_dbm``), 2 good (≥ ``good_dbm``)."""
    if good_dbm < basic_dbm:
        raise PropagationRangeError(
            f"coverage thresholds: good ({good_dbm} dBm) must not be below basic ({basic_dbm} dBm)"
        )
    p = np.asarray(power_dbm, dtype=float)
    return np.where(p >= good_dbm, 2, np.where(p >= basic_dbm, 1, 0)).astype(np.int8)


@dataclass(frozen=True)
class Calibration:
    """A log-distance model fitted to measured samples.

    ``loss_db(d) = intercept_db + 10 * exponent * log10(d / 1 m)``; ``rmse_db`` is the fit
    error on the samples, ``n_samples`` how many were used.
    """

    exponent: float
    intercept_db: float
    rmse_db: float
    n_samples: int

    def loss_db(self, distance_m: ArrayLike) -> np.ndarray:
        """Path loss of the fitted model."""
        d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
        return np.asarray(self.intercept_db + 10 * self.exponent * np.log10(d))


def calibrate_log_distance(
    distance_m: ArrayLike, received_dbm: ArrayLike, *, transmit_power_dbm: float
) -> Calibration:
    """Fit the log-distance exponent and intercept to measured signal samples.

    Uses scikit-learn's :class:`~sklearn.linear_model.HuberRegressor`, robust to the outliers
    that drive tests and crowd-sourced measurements contain (a reading behind a wall, a
    mislocated sample).

    Parameters
    ----------
    distance_m
        Distance of each sample from the transmitter.
    received_dbm
        Received signal strength of each sample.
    transmit_power_dbm
        Transmitter power (EIRP), so that loss = power - received.

    Raises
    ------
    PropagationRangeError
        Fewer than 10 usable samples, or distances that do not vary.
    """
    from sklearn.linear_model import HuberRegressor

    d = np.asarray(distance_m, dtype=float)
    rx = np.asarray(received_dbm, dtype=float)
    ok = np.isfinite(d) & np.isfinite(rx) & (d >= 1.0)
    if ok.sum() < 10:
        raise PropagationRangeError(
            f"calibration: {int(ok.sum())} usable samples (finite, at least 1 m away); need 10"
        )
    x = 10 * np.log10(d[ok])
    if np.ptp(x) < 1.0:
        raise PropagationRangeError("calibration: the samples' distances barely vary")
    loss = transmit_power_dbm - rx[ok]
    model = HuberRegressor().fit(x.reshape(-1, 1), loss)
    fitted = model.predict(x.reshape(-1, 1))
    rmse = float(np.sqrt(np.mean((fitted - loss) ** 2)))
    result = Calibration(float(model.coef_[0]), float(model.intercept_), rmse, int(ok.sum()))
    logger.info(
        "propagation: calibrated exponent %.2f, intercept %.1f dB, RMSE %.1f dB on %d samples",
        result.exponent,
        result.intercept_db,
        result.rmse_db,
        result.n_samples,
    )
    return result
