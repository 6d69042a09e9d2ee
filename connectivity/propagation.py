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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from connectivity.errors import ConnectivityError

logger = logging.getLogger(__name__)

Area = Literal["urban", "suburban", "open"]
NODATA_DBM = -200.0
"""Received power written where no transmitter reaches."""


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


def _hata_distance_terms(
    frequency_mhz: float, base_height_m: float, mobile_height_m: float, d: ArrayLike, large: bool
) -> np.ndarray:
    """Return the antenna-height and distance terms that Hata and COST-231 Hata share."""
    d_km = np.asarray(d, dtype=float) / 1000.0
    log_hb = np.log10(base_height_m)
    a_hm = _mobile_correction(frequency_mhz, mobile_height_m, large)
    return np.asarray(-13.82 * log_hb - a_hm + (44.9 - 6.55 * log_hb) * np.log10(d_km))


def _open_area_correction(frequency_mhz: float) -> float:
    """Return Hata's correction from the urban to the open-area loss (dB, negative)."""
    lf = np.log10(frequency_mhz)
    return float(-4.78 * lf**2 + 18.33 * lf - 40.94)


@dataclass(frozen=True)
class HataValidity:
    """Where a Hata model was fitted: frequency, antenna heights and distance."""

    frequency_mhz: tuple[float, float]
    base_height_m: tuple[float, float] = (30.0, 200.0)
    mobile_height_m: tuple[float, float] = (1.0, 10.0)
    distance_m: tuple[float, float] = (1000.0, 20000.0)


HATA_VALIDITY: dict[str, HataValidity] = {
    "okumura_hata": HataValidity(frequency_mhz=(150.0, 1500.0)),
    "cost231_hata": HataValidity(frequency_mhz=(1500.0, 2000.0)),
}
"""The published validity range of each Hata model (Hata 1980; COST 231, 1999)."""


def _hata_checks(model: str, key: str, f: float, hb: float, hm: float, d: ArrayLike) -> None:
    v = HATA_VALIDITY[key]
    _check_range("frequency_mhz", f, *v.frequency_mhz, model)
    _check_range("base_height_m", hb, *v.base_height_m, model)
    _check_range("mobile_height_m", hm, *v.mobile_height_m, model)
    _check_range("distance_m", d, *v.distance_m, model)


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
        "Okumura-Hata", "okumura_hata", frequency_mhz, base_height_m, mobile_height_m, distance_m
    )
    urban = (
        69.55
        + 26.16 * np.log10(frequency_mhz)
        + _hata_distance_terms(
            frequency_mhz, base_height_m, mobile_height_m, distance_m, large_city
        )
    )
    if area == "urban":
        return urban
    if area == "suburban":
        return np.asarray(urban - 2 * np.log10(frequency_mhz / 28.0) ** 2 - 5.4)
    if area == "open":
        return np.asarray(urban + _open_area_correction(frequency_mhz))
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
        "COST-231 Hata", "cost231_hata", frequency_mhz, base_height_m, mobile_height_m, distance_m
    )
    base = (
        46.3
        + 33.9 * np.log10(frequency_mhz)
        + _hata_distance_terms(frequency_mhz, base_height_m, mobile_height_m, distance_m, False)
    )
    if area == "urban":
        return np.asarray(base + 3.0)
    if area == "suburban":
        return base
    if area == "open":
        return np.asarray(base + _open_area_correction(frequency_mhz))
    raise PropagationRangeError(f"COST-231 Hata: unknown area {area!r}; use urban, suburban, open")


Model = Literal["free_space", "log_distance", "okumura_hata", "cost231_hata"]
LossFunction = Callable[[np.ndarray, "Transmitter"], np.ndarray]
"""Path loss (dB) for an array of distances (m) from one transmitter."""


def loss_function(
    model: Model,
    *,
    area: Area = "open",
    exponent: float = 3.0,
    receiver_height_m: float = 1.5,
    calibration: Calibration | None = None,
) -> LossFunction:
    """Path loss as a function of distance and transmitter, for use over a whole territory.

    Heights and frequencies are still checked against each model's validity range. Distances
    are not: a territory has points nearer than the Hata models' 1 km, where the 1 km loss is
    used (a conservative value), and log-distance and free space use at least 1 m. Keep
    ``max_range_m`` within 20 km for the Hata models. With a ``calibration`` (fitted to
    measured samples by :func:`calibrate_log_distance`) the fitted log-distance model is used
    whatever ``model`` says.
    """

    def loss(distance_m: np.ndarray, t: Transmitter) -> np.ndarray:
        d = np.asarray(distance_m, dtype=float)
        if calibration is not None:
            return calibration.loss_db(d)
        if model == "free_space":
            return free_space_loss_db(np.maximum(d, 1.0), t.frequency_mhz)
        if model == "log_distance":
            return log_distance_loss_db(np.maximum(d, 1.0), t.frequency_mhz, exponent=exponent)
        hata = {"okumura_hata": okumura_hata_loss_db, "cost231_hata": cost231_hata_loss_db}
        if model in hata:
            return hata[model](
                np.clip(d, *HATA_VALIDITY[model].distance_m),
                t.frequency_mhz,
                base_height_m=t.height_m,
                mobile_height_m=receiver_height_m,
                area=area,
            )
        raise PropagationRangeError(f"unknown propagation model {model!r}")

    return loss


@dataclass(frozen=True)
class Transmitter:
    """A transmitter: position (metric CRS), power, frequency, antenna height, technology."""

    x: float
    y: float
    power_dbm: float
    frequency_mhz: float
    height_m: float = 30.0
    technology: str = ""


@dataclass(frozen=True)
class Terrain:
    """A digital elevation model in the scenario's metric CRS.

    ``elevation_m`` is a 2-D array (NaN where unknown) and ``transform`` its affine transform
    (``x = c + a * col``, ``y = f + e * row``), as rasterio gives them.
    """

    elevation_m: np.ndarray
    transform: tuple[float, float, float, float, float, float]

    def ground_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground height at points (nearest DEM cell; NaN outside the DEM)."""
        a, _, c, _, e, f = self.transform
        col = np.floor((np.asarray(x) - c) / a).astype(np.int64)
        row = np.floor((np.asarray(y) - f) / e).astype(np.int64)
        rows, cols = self.elevation_m.shape
        inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        out = np.full(np.shape(col), np.nan)
        out[inside] = self.elevation_m[row[inside], col[inside]]
        return out


def knife_edge_loss_db(nu: ArrayLike) -> np.ndarray:
    r"""Single knife-edge diffraction loss (ITU-R P.526, eq. 31).

    :math:`J(\nu) = 6.9 + 20\log_{10}(\sqrt{(\nu-0.1)^2+1}+\nu-0.1)` for
    :math:`\nu > -0.78`, else 0.

    Examples
    --------
    >>> round(float(knife_edge_loss_db(0.0)), 1)  # an edge touching the path: about 6 dB
    6.0
    """
    v = np.asarray(nu, dtype=float)
    with np.errstate(invalid="ignore"):
        loss = 6.9 + 20 * np.log10(np.sqrt((v - 0.1) ** 2 + 1) + v - 0.1)
    return np.where(v > -0.78, loss, 0.0)


EARTH_RADIUS_M = 6_371_000.0
EFFECTIVE_EARTH_FACTOR = 4.0 / 3.0  # standard atmosphere


def terrain_obstruction(
    tx: Transmitter,
    points_xy: np.ndarray,
    terrain: Terrain,
    *,
    receiver_height_m: float,
    samples: int = 48,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Line of sight and the worst knife-edge parameter on each path from a transmitter.

    The terrain profile is sampled at ``samples`` points along each path; the earth's
    curvature (4/3 effective radius) raises the profile. The obstacle with the largest
    Fresnel-Kirchhoff parameter :math:`\nu = h\sqrt{2d/(\lambda d_1 d_2)}` is the main edge.

    Returns
    -------
    line_of_sight : ndarray of bool
        No profile point rises above the straight line between the antennas.
    nu : ndarray
        The main edge's diffraction parameter (very negative with ample clearance).
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    wavelength_m = 299.792458 / tx.frequency_mhz
    tx_ground = terrain.ground_m(np.array([tx.x]), np.array([tx.y]))[0]
    tx_ground = 0.0 if np.isnan(tx_ground) else tx_ground
    rx_ground = np.nan_to_num(terrain.ground_m(pts[:, 0], pts[:, 1]), nan=tx_ground)
    h_tx = tx_ground + tx.height_m
    h_rx = rx_ground + receiver_height_m
    dist = np.hypot(pts[:, 0] - tx.x, pts[:, 1] - tx.y)
    frac = (np.arange(samples) + 0.5) / samples  # (S,)
    sx = tx.x + np.outer(pts[:, 0] - tx.x, frac)  # (P, S)
    sy = tx.y + np.outer(pts[:, 1] - tx.y, frac)
    ground = terrain.ground_m(sx, sy)
    d1 = np.outer(dist, frac)
    d2 = np.outer(dist, 1 - frac)
    bulge = d1 * d2 / (2 * EFFECTIVE_EARTH_FACTOR * EARTH_RADIUS_M)
    line = h_tx + np.outer(h_rx - h_tx, frac)
    height = ground + bulge - line  # obstacle height above the path (NaN off the DEM)
    with np.errstate(invalid="ignore", divide="ignore"):
        nu = height * np.sqrt(2 * dist[:, None] / (wavelength_m * d1 * d2))
    nu = np.where(np.isnan(nu), -np.inf, nu)
    worst = np.asarray(nu.max(axis=1) if samples else np.full(len(pts), -np.inf))
    line_of_sight = np.asarray(~(np.where(np.isnan(height), -np.inf, height) > 0).any(axis=1))
    return line_of_sight, worst


@dataclass(frozen=True)
class Signal:
    """Best received power at points and whether any transmitter in range is in sight."""

    power_dbm: np.ndarray
    line_of_sight: np.ndarray
    best_transmitter: np.ndarray  # index into the transmitters, -1 where none reaches


def received_power_at(
    points_xy: np.ndarray,
    transmitters: list[Transmitter],
    *,
    loss_db: Callable[[np.ndarray, Transmitter], np.ndarray],
    max_range_m: float,
    terrain: Terrain | None = None,
    receiver_height_m: float = 1.5,
    nodata_dbm: float = NODATA_DBM,
) -> Signal:
    """Received power from the best transmitter at each point, with terrain if given.

    Parameters
    ----------
    points_xy
        (n, 2) points in metres.
    transmitters
        In the same CRS.
    loss_db
        Path loss for an array of distances and a transmitter.
    max_range_m
        Beyond this distance a transmitter is ignored.
    terrain
        Optional DEM: a path without line of sight gets the knife-edge diffraction loss of its
        main obstacle (paths in sight get none: the empirical models already account for
        ground and clutter near the receiver).
    receiver_height_m
        Height of the receiving antenna above ground.
    nodata_dbm
        Power where no transmitter reaches.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    best = np.full(len(pts), nodata_dbm)
    los = np.zeros(len(pts), dtype=bool)
    which = np.full(len(pts), -1, dtype=np.int64)
    for i, t in enumerate(transmitters):
        dist = np.hypot(pts[:, 0] - t.x, pts[:, 1] - t.y)
        reach = np.flatnonzero(dist <= max_range_m)
        if not len(reach):
            continue
        power = t.power_dbm - loss_db(dist[reach], t)
        in_sight = np.ones(len(reach), dtype=bool)
        if terrain is not None:
            in_sight, nu = terrain_obstruction(
                t, pts[reach], terrain, receiver_height_m=receiver_height_m
            )
            # only obstructed paths: the empirical models already include ground clutter
            power = power - np.where(in_sight, 0.0, knife_edge_loss_db(nu))
        better = power > best[reach]
        best[reach[better]] = power[better]
        which[reach[better]] = i
        los[reach] |= in_sight
    return Signal(power_dbm=best, line_of_sight=los, best_transmitter=which)


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid aligned on multiples of its cell size (metres)."""

    xmin: float
    ymax: float
    cell_size_m: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell_size_m: float) -> Grid:
        """Return the smallest aligned grid covering ``(xmin, ymin, xmax, ymax)``."""
        xmin = float(np.floor(bounds[0] / cell_size_m) * cell_size_m)
        ymax = float(np.ceil(bounds[3] / cell_size_m) * cell_size_m)
        width = max(int(np.ceil((bounds[2] - xmin) / cell_size_m)), 1)
        height = max(int(np.ceil((ymax - bounds[1]) / cell_size_m)), 1)
        return cls(xmin, ymax, cell_size_m, width, height)

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients ``(a, b, c, d, e, f)`` as rasterio's ``Affine`` takes them."""
        return (self.cell_size_m, 0.0, self.xmin, 0.0, -self.cell_size_m, self.ymax)

    def windows(self, rows_per_window: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first row, (rows × width, 2) cell centres)`` window by window."""
        xs = self.xmin + (np.arange(self.width) + 0.5) * self.cell_size_m
        for row0 in range(0, self.height, rows_per_window):
            rows = min(rows_per_window, self.height - row0)
            ys = self.ymax - (row0 + np.arange(rows) + 0.5) * self.cell_size_m
            gx, gy = np.meshgrid(xs, ys)
            yield row0, np.column_stack([gx.ravel(), gy.ravel()])


@dataclass(frozen=True)
class SignalRaster:
    """Received power (dBm, float32) on a grid: ``power`` is ``height × width``."""

    grid: Grid
    power: np.ndarray


def power_windows(
    grid: Grid,
    power_at: Callable[[np.ndarray], np.ndarray],
    *,
    rows_per_window: int = 256,
) -> Iterator[tuple[int, np.ndarray]]:
    """Received power on a grid, one window of rows at a time (so large territories fit).

    Yields ``(first row, rows × width float32 array)``; ``power_at`` maps cell centres to dBm
    (for example a lambda around :func:`received_power_at`).
    """
    for row0, centres in grid.windows(rows_per_window):
        values = np.asarray(power_at(centres), dtype="float32")
        yield row0, values.reshape(-1, grid.width)


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
    distance_m: ArrayLike, received_dbm: ArrayLike, *, transmit_power_dbm: ArrayLike
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
        Power (EIRP) of the transmitter each sample hears (one value, or one per sample), so
        that loss = power - received.

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
    power = np.broadcast_to(np.asarray(transmit_power_dbm, dtype=float), d.shape)
    loss = power[ok] - rx[ok]
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
