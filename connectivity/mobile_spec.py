"""The scenario's ``mobile`` section: radios, transmitters, calibration, measurements, new towers.

Checked here, without I/O (:func:`mobile_problems`); read by :mod:`connectivity.mobile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from connectivity.layerspec import LayerSpec
from connectivity.propagation import HATA_VALIDITY


@dataclass(kw_only=True)
class RadioSpec:
    """A mobile radio: transmit power (EIRP), frequency, antenna heights, path-loss model.

    ``model`` is ``okumura_hata`` (150–1500 MHz), ``cost231_hata`` (1500–2000 MHz),
    ``log_distance`` (with ``exponent``) or ``free_space``. For the Hata models ``area``
    (``urban``, ``suburban`` or ``open``) applies to receivers on rural land and
    ``urban_area`` to the rest. A cell has ``basic`` coverage from ``basic_dbm`` and ``good``
    coverage from ``good_dbm`` (received power).
    """

    technology: str = "4G"
    power_dbm: float = 43.0
    frequency_mhz: float = 850.0
    height_m: float = 30.0
    receiver_height_m: float = 1.5
    model: Literal["free_space", "log_distance", "okumura_hata", "cost231_hata"] = "okumura_hata"
    area: Literal["urban", "suburban", "open"] = "open"
    urban_area: Literal["urban", "suburban", "open"] = "urban"
    exponent: float = 3.0
    max_range_m: float = 15000.0
    basic_dbm: float = -105.0
    good_dbm: float = -95.0


@dataclass(kw_only=True)
class TransmitterLayerSpec(LayerSpec):
    """Existing transmitters (points); optional columns override the radio's power/height.

    ``technology_column`` names each transmitter's technology, matched to the ``technology``
    of ``mobile.radio`` or of one of ``mobile.radios``; without it all use ``mobile.radio``.
    """

    name_column: str | None = None
    power_column: str | None = None
    height_column: str | None = None
    technology_column: str | None = None


@dataclass(kw_only=True)
class CalibrationSpec(LayerSpec):
    """Measured signal samples (points with dBm) to fit the log-distance model to.

    Each sample is paired with its nearest existing transmitter of ``technology`` (default:
    ``mobile.radio``'s); the fitted exponent and intercept then replace that radio's model.
    """

    dbm_column: str
    technology: str | None = None


@dataclass(kw_only=True)
class MeasuredSpec(LayerSpec):
    """A measured coverage source: operator ``polygons``, ``speedtest`` tiles or ``places``.

    Polygons all mean ``coverage_class``. Speed-test tiles come as polygons or as a table with
    a ``quadkey_column``; their class follows from the average download speed
    (``download_column`` in ``speed_unit``) against ``basic_mbps`` / ``good_mbps``, and tiles
    with fewer than ``min_tests`` tests are left out.

    ``places``: a table of which technologies reach each place (MinTIC's coverage by
    technology per centro poblado, one row per operator and period), keyed by
    ``place_column``, joined to the ``places`` layer on ``places_code_column`` (polygons, or
    points given the extent ``places_radius_m``). A place's class comes from its latest period
    (``period_columns``): ``good`` where any operator marks any of ``good_columns`` with
    ``available_value``, else ``basic`` where one marks a ``basic_columns``, else none.
    """

    kind: Literal["polygons", "speedtest", "places"]
    place_column: str = "COD CENTRO POBLADO"
    places: LayerSpec | None = None
    places_code_column: str = ""
    places_radius_m: float | None = None
    period_columns: list[str] = field(default_factory=list)
    good_columns: list[str] = field(default_factory=list)
    basic_columns: list[str] = field(default_factory=list)
    available_value: str = "S"

    @property
    def place_table_columns(self) -> list[str]:
        """The columns a ``places`` table is read with."""
        return [self.place_column, *self.period_columns, *self.good_columns, *self.basic_columns]

    coverage_class: Literal["basic", "good"] = "good"
    quadkey_column: str = "quadkey"
    download_column: str = "avg_d_kbps"
    tests_column: str | None = "tests"
    speed_unit: Literal["kbps", "mbps"] = "kbps"
    min_tests: int = 1
    basic_mbps: float = 5.0
    good_mbps: float = 25.0


@dataclass(kw_only=True)
class NewTowersSpec:
    """Candidate tower sites proposed by clustering the demand still without coverage.

    Weighted k-means (scikit-learn) puts ``count`` candidate towers at the centres of the
    uncovered priority-weighted demand; each costs ``cost`` (relative units; with a ``money``
    section ``capex`` and ``opex_per_year`` instead) and is modelled with the mobile ``radio``.
    With ``rural_only`` the towers are placed for, and credited with, rural demand only: urban
    land is assumed to be served by the operators' networks.
    """

    count: int = 12
    rural_only: bool = True
    cost: float = 1.0
    capex: float | None = None
    opex_per_year: float | None = None
    seed: int = 0


@dataclass(kw_only=True)
class MobileSpec:
    """Mobile coverage: existing transmitters, measured coverage, terrain, new towers.

    ``radio`` is the default radio (and the new towers'); ``radios`` adds one per further
    technology, each with its own model and coverage thresholds. With no ``transmitters`` and
    no ``measured`` source, existing mobile coverage is unknown and counts as none; the
    outputs say so.
    """

    def radio_for(self, technology: str | None) -> RadioSpec | None:
        """Return the radio of a technology (``None``: the default radio)."""
        if technology is None:
            return self.radio
        return next((r for r in [self.radio, *self.radios] if r.technology == technology), None)

    radio: RadioSpec = field(default_factory=RadioSpec)
    radios: list[RadioSpec] = field(default_factory=list)
    transmitters: TransmitterLayerSpec | None = None
    calibration: CalibrationSpec | None = None
    measured: list[MeasuredSpec] = field(default_factory=list)
    terrain: Path | None = None
    new_towers: NewTowersSpec | None = None
    raster: bool = True


def mobile_problems(mobile: MobileSpec) -> list[str]:
    """Return every problem in a scenario's mobile section (empty if none)."""
    problems: list[str] = []
    techs = [r.technology for r in [mobile.radio, *mobile.radios]]
    repeated = sorted({t for t in techs if techs.count(t) > 1})
    if repeated:
        problems.append(f"mobile.radios: technology {', '.join(repeated)} is given twice")
    for i, radio in enumerate([mobile.radio, *mobile.radios]):
        problems += _check_radio(radio, "mobile.radio" if i == 0 else f"mobile.radios[{i - 1}]")
    cal = mobile.calibration
    if cal is not None:
        if mobile.transmitters is None:
            problems.append("mobile.calibration: needs mobile.transmitters to measure from")
        if mobile.radio_for(cal.technology) is None:
            problems.append(f"mobile.calibration.technology: no radio for {cal.technology!r}")
    for i, m in enumerate(mobile.measured):
        if m.good_mbps < m.basic_mbps:
            problems.append(f"mobile.measured[{i}].good_mbps must not be below basic_mbps")
        if m.kind == "places":
            if m.places is None or not m.places_code_column:
                problems.append(
                    f"mobile.measured[{i}]: kind places needs a places layer and its "
                    "places_code_column"
                )
            if not (m.good_columns or m.basic_columns):
                problems.append(f"mobile.measured[{i}]: name good_columns or basic_columns")
            if m.places_radius_m is not None and not m.places_radius_m > 0:
                problems.append(f"mobile.measured[{i}].places_radius_m: must be above 0")
    if mobile.new_towers is not None and mobile.new_towers.count < 1:
        problems.append(
            f"mobile.new_towers.count: must be at least 1, got {mobile.new_towers.count}"
        )
    return problems


def _check_radio(r: RadioSpec, key: str) -> list[str]:
    problems: list[str] = []
    for name in ("frequency_mhz", "height_m", "receiver_height_m", "max_range_m", "exponent"):
        value = getattr(r, name)
        if not value > 0:
            problems.append(f"{key}.{name}: must be greater than 0, got {value}")
    if r.good_dbm < r.basic_dbm:
        problems.append(
            f"{key}.good_dbm ({r.good_dbm}) must not be below basic_dbm ({r.basic_dbm})"
        )
    validity = HATA_VALIDITY.get(r.model)
    if validity is not None:
        for name, value, (low, high), what, unit in (
            ("frequency_mhz", r.frequency_mhz, validity.frequency_mhz, "range", "MHz"),
            ("height_m", r.height_m, validity.base_height_m, "base antenna range", "m"),
            (
                "receiver_height_m",
                r.receiver_height_m,
                validity.mobile_height_m,
                "mobile antenna range",
                "m",
            ),
        ):
            if not low <= value <= high:
                problems.append(
                    f"{key}.{name}: {value:g} {unit} is outside {r.model}'s {what} "
                    f"[{low:g}, {high:g}] {unit}"
                )
        far = validity.distance_m[1]
        if r.max_range_m > far:
            problems.append(
                f"{key}.max_range_m: {r.max_range_m:g} m is beyond {r.model}'s {far / 1000:g} km"
            )
    return problems
