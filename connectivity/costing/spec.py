"""The scenario's ``money``, ``capacity`` and ``backhaul`` sections, checked here (no I/O).

Figures are the planner's: every shipped scenario says where each comes from, or that it is an
assumption to replace (``money.assumptions`` lists those, and the report repeats them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from connectivity.layerspec import LayerSpec

BudgetBasis = Literal["capex", "tco", "npc", "per_year"]


@dataclass(kw_only=True)
class MoneySpec:
    """Costs in a currency over a horizon.

    A site's capital cost (``capex``) is paid once, at the start; its operating cost
    (``opex_per_year``) at the end of each of ``horizon_years`` years. From them: the total cost
    of ownership (``tco`` = capex + horizon × opex), the net present cost (``npc`` = capex +
    the opex discounted at ``discount_rate``) and the equivalent annual cost (``per_year``: the
    npc spread evenly over the horizon at the same rate). ``budget_on`` says which of them
    ``method.budget`` limits. ``price_year`` is the year the figures are in; ``assumptions``
    lists, in words, the figures that have no public source (shown in the report).
    """

    currency: str = "COP"
    price_year: int | None = None
    horizon_years: int = 5
    discount_rate: float = 0.0
    budget_on: BudgetBasis = "capex"
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class CapacitySpec:
    """How many people at once a site must serve: demand in simultaneous users.

    A point's simultaneous users are its people without home internet (those mobile coverage
    does not already serve) × ``take_up`` (the share who would use public Wi-Fi) ×
    ``concurrency`` (the share of those online at the same time at the busiest hour). Each
    candidate layer, and the existing zones, state a ``capacity_users``.
    """

    take_up: float
    concurrency: float


@dataclass(kw_only=True)
class FibreSpec:
    """Fibre from the nearest hub: per metre of route and fixed, once and per year.

    The route is the shortest path along the streets of ``network`` (an OpenStreetMap file)
    where given, else the straight line; routes longer than ``max_length_m`` are not offered.
    """

    capex_per_m: float
    opex_per_m_year: float = 0.0
    capex_fixed: float = 0.0
    opex_per_year: float = 0.0
    max_length_m: float = 20_000.0
    network: Path | None = None


@dataclass(kw_only=True)
class MicrowaveSpec:
    """A point-to-point radio link to a hub within ``max_range_m`` in line of sight.

    Line of sight is checked over ``terrain`` (a DEM, with the earth's curvature): the path
    must keep ``clearance`` of the first Fresnel zone at ``frequency_mhz`` clear, between a mast
    of ``mast_height_m`` at the site and ``hub_height_m`` at the hub. A site or path off the DEM
    gets no microwave option (its line of sight is unknown).
    """

    capex: float
    opex_per_year: float = 0.0
    max_range_m: float = 30_000.0
    mast_height_m: float = 15.0
    hub_height_m: float = 30.0
    frequency_mhz: float = 5_800.0
    clearance: float = 0.6
    terrain: Path | None = None


@dataclass(kw_only=True)
class SatelliteSpec:
    """A satellite terminal: fixed costs, feasible anywhere."""

    capex: float
    opex_per_year: float = 0.0


@dataclass(kw_only=True)
class BackhaulSpec:
    """How a site reaches the internet: the cheapest feasible of the options given.

    ``hubs`` are points that already have it (a fibre node, a tower); the existing Wi-Fi zones
    are hubs too unless ``wifi_hubs`` is false. Options are compared by net present cost.
    """

    hubs: LayerSpec | None = None
    wifi_hubs: bool = True
    fibre: FibreSpec | None = None
    microwave: MicrowaveSpec | None = None
    satellite: SatelliteSpec | None = None


def costing_problems(
    money: MoneySpec | None,
    capacity: CapacitySpec | None,
    backhaul: BackhaulSpec | None,
    *,
    layers: list[tuple[str, dict[str, float | str | None]]],
    existing_capacity: float | None,
    has_wifi: bool,
) -> list[str]:
    """Return every problem in the costing sections (empty if none).

    ``layers`` gives each candidate layer's key and its money and capacity values.
    """
    problems: list[str] = []

    def number(key: str, value: float | None, *, low: float = 0.0, strict: bool = False) -> None:
        if value is None:
            return
        if not (value > low if strict else value >= low):
            word = "greater than" if strict else "at least"
            problems.append(f"{key}: must be {word} {low:g}, got {value}")

    if money is not None:
        number("money.horizon_years", money.horizon_years, low=1)
        if not 0 <= money.discount_rate < 1:
            problems.append(
                f"money.discount_rate: a rate 0–1 (0.12 for 12 %), got {money.discount_rate}"
            )
        if not money.currency.strip():
            problems.append("money.currency: name the currency, e.g. COP")
    for key, values in layers:
        money_given = any(values.get(k) is not None for k in ("capex", "capex_column"))
        if money is not None and not money_given:
            problems.append(f"{key}: give capex (or capex_column): money is on for this scenario")
        if money is None and money_given:
            problems.append(f"{key}: capex needs a money section (currency, horizon, rate)")
        for name in ("capex", "opex_per_year"):
            value = values.get(name)
            number(f"{key}.{name}", value if isinstance(value, float | int) else None)
        cap = values.get("capacity_users")
        number(f"{key}.capacity_users", cap if isinstance(cap, float | int) else None, strict=True)
        if capacity is not None and cap is None and values.get("capacity_column") is None:
            problems.append(f"{key}: give capacity_users (or capacity_column): capacity is on")
    if capacity is not None:
        for name in ("take_up", "concurrency"):
            value = getattr(capacity, name)
            if not 0 < value <= 1:
                problems.append(f"capacity.{name}: a share above 0 and at most 1, got {value}")
        if has_wifi and existing_capacity is None:
            problems.append(
                "existing_coverage.capacity_users: the existing zones serve a bounded number of "
                "users too; give their capacity"
            )
    number("existing_coverage.capacity_users", existing_capacity, strict=True)
    if backhaul is not None:
        if money is None:
            problems.append("backhaul: needs a money section (its costs join the sites')")
        if not (backhaul.fibre or backhaul.microwave or backhaul.satellite):
            problems.append("backhaul: give at least one of fibre, microwave, satellite")
        f, m, s = backhaul.fibre, backhaul.microwave, backhaul.satellite
        if f is not None:
            number("backhaul.fibre.capex_per_m", f.capex_per_m)
            number("backhaul.fibre.opex_per_m_year", f.opex_per_m_year)
            number("backhaul.fibre.capex_fixed", f.capex_fixed)
            number("backhaul.fibre.opex_per_year", f.opex_per_year)
            number("backhaul.fibre.max_length_m", f.max_length_m, strict=True)
        if m is not None:
            number("backhaul.microwave.capex", m.capex)
            number("backhaul.microwave.opex_per_year", m.opex_per_year)
            number("backhaul.microwave.max_range_m", m.max_range_m, strict=True)
            number("backhaul.microwave.mast_height_m", m.mast_height_m)
            number("backhaul.microwave.hub_height_m", m.hub_height_m)
            number("backhaul.microwave.frequency_mhz", m.frequency_mhz, strict=True)
            if not 0 <= m.clearance <= 1:
                problems.append(f"backhaul.microwave.clearance: 0–1, got {m.clearance}")
            if m.terrain is None:
                problems.append(
                    "backhaul.microwave.terrain: line of sight needs a DEM (a raster of heights)"
                )
        if s is not None:
            number("backhaul.satellite.capex", s.capex)
            number("backhaul.satellite.opex_per_year", s.opex_per_year)
        if (f or m) and backhaul.hubs is None and not backhaul.wifi_hubs:
            problems.append("backhaul.hubs: fibre and microwave need hubs (or wifi_hubs: true)")
    return problems
