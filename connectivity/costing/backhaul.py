r"""Each site's way to the internet: the cheapest feasible of fibre, microwave and satellite.

- **Fibre** from the nearest hub (a point that has the internet: a fibre node, a tower, an
  existing Wi-Fi zone): the route along the streets of an OpenStreetMap file where one is given
  (:func:`connectivity.network.route_lengths`), else the straight line; cost per metre, once and
  per year, plus a fixed cost; routes over ``max_length_m`` are not offered.
- **Point-to-point microwave** to a hub within ``max_range_m`` whose path keeps the required
  share of the first Fresnel zone clear over the DEM, the earth's curvature included
  (:func:`connectivity.propagation.terrain_obstruction`): a clearance :math:`c` of the first
  zone is a knife-edge parameter :math:`\nu \le -c\sqrt{2}`. A site or a path that leaves
  the DEM has no microwave option: its line of sight is unknown.
- **Satellite**: fixed costs, feasible anywhere.

Options are compared by net present cost (:mod:`connectivity.costing.money`); the chosen one
and its costs join the site's. A site with no feasible option is refused by name.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from connectivity.costing.money import annuity_factor
from connectivity.costing.spec import BackhaulSpec, MicrowaveSpec, MoneySpec
from connectivity.errors import LayerError
from connectivity.propagation import Terrain, Transmitter, terrain_obstruction

logger = logging.getLogger(__name__)

OPTIONS = ("fibre", "microwave", "satellite")
BACKHAUL_COLUMNS = ["backhaul", "backhaul_capex", "backhaul_opex_per_year", "backhaul_length_m"]


@dataclass(frozen=True)
class Option:
    """One way to bring the internet to every site: feasible or not, its costs and length."""

    name: str
    feasible: np.ndarray
    capex: np.ndarray
    opex_per_year: np.ndarray
    length_m: np.ndarray


def fibre_option(spec: BackhaulSpec, route_m: np.ndarray) -> Option:
    """Return fibre over routes of the given lengths (infinite: no route within the limit)."""
    f = spec.fibre
    assert f is not None
    ok = np.isfinite(route_m) & (route_m <= f.max_length_m)
    length = np.where(ok, route_m, np.nan)
    return Option(
        "fibre",
        ok,
        np.where(ok, f.capex_fixed + f.capex_per_m * np.nan_to_num(length), np.inf),
        np.where(ok, f.opex_per_year + f.opex_per_m_year * np.nan_to_num(length), np.inf),
        length,
    )


def line_of_sight(
    site_xy: np.ndarray, hub_xy: np.ndarray, terrain: Terrain, m: MicrowaveSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Return whether each site sees its nearest visible hub within range, and that distance.

    Every hub within ``max_range_m`` is tried, nearest first; the path must stay on the DEM and
    keep ``clearance`` of the first Fresnel zone clear.
    """
    n = len(site_xy)
    seen = np.zeros(n, dtype=bool)
    distance = np.full(n, np.nan)
    if not len(hub_xy) or not n:
        return seen, distance
    tree = cKDTree(hub_xy)
    nu_max = -m.clearance * math.sqrt(2.0)
    site_ground = terrain.ground_m(site_xy[:, 0], site_xy[:, 1])
    for i in np.flatnonzero(np.isfinite(site_ground)):
        near = tree.query_ball_point(site_xy[i], r=m.max_range_m)
        if not near:
            continue
        hubs = hub_xy[near]
        order = np.argsort(np.hypot(*(hubs - site_xy[i]).T), kind="stable")
        hubs = hubs[order]
        on_dem = _profile_on_dem(site_xy[i], hubs, terrain)
        if not on_dem.any():
            continue
        tx = Transmitter(
            x=float(site_xy[i, 0]),
            y=float(site_xy[i, 1]),
            power_dbm=0.0,
            frequency_mhz=m.frequency_mhz,
            height_m=m.mast_height_m,
        )
        _, nu = terrain_obstruction(tx, hubs, terrain, receiver_height_m=m.hub_height_m)
        good = on_dem & (nu <= nu_max)
        if good.any():
            j = int(np.argmax(good))
            seen[i] = True
            distance[i] = float(np.hypot(*(hubs[j] - site_xy[i])))
    return seen, distance


def _profile_on_dem(origin: np.ndarray, ends: np.ndarray, terrain: Terrain) -> np.ndarray:
    """Whether the whole straight path from ``origin`` to each end has DEM heights."""
    frac = np.linspace(0.0, 1.0, 49)
    x = origin[0] + np.outer(ends[:, 0] - origin[0], frac)
    y = origin[1] + np.outer(ends[:, 1] - origin[1], frac)
    return np.isfinite(terrain.ground_m(x, y)).all(axis=1)


def microwave_option(
    spec: BackhaulSpec, site_xy: np.ndarray, hub_xy: np.ndarray, terrain: Terrain
) -> Option:
    """Return a radio link to the nearest hub in line of sight, for every site."""
    m = spec.microwave
    assert m is not None
    ok, distance = line_of_sight(site_xy, hub_xy, terrain, m)
    return Option(
        "microwave",
        ok,
        np.where(ok, m.capex, np.inf),
        np.where(ok, m.opex_per_year, np.inf),
        distance,
    )


def satellite_option(spec: BackhaulSpec, n: int) -> Option:
    """Return a satellite terminal at every site."""
    s = spec.satellite
    assert s is not None
    return Option(
        "satellite",
        np.ones(n, dtype=bool),
        np.full(n, s.capex),
        np.full(n, s.opex_per_year),
        np.full(n, np.nan),
    )


def cheapest(options: list[Option], money: MoneySpec, site_ids: Any) -> pd.DataFrame:
    """Return each site's cheapest feasible option by net present cost (the first on ties).

    Raises
    ------
    LayerError
        A site with no feasible option (naming the first sites), since it cannot be connected.
    """
    factor = annuity_factor(money.discount_rate, money.horizon_years)
    npc = np.vstack(
        [np.where(o.feasible, o.capex + o.opex_per_year * factor, np.inf) for o in options]
    )
    best = np.argmin(npc, axis=0)
    stuck = ~np.isfinite(npc.min(axis=0))
    if stuck.any():
        ids = ", ".join(str(s) for s in np.asarray(site_ids)[stuck][:5])
        raise LayerError(
            f"backhaul: {int(stuck.sum())} candidate sites have no feasible backhaul (e.g. {ids}): "
            "add a satellite option, hubs nearer to them, or a longer fibre max_length_m"
        )
    pick = np.arange(len(best))
    table = pd.DataFrame(
        {
            "backhaul": np.array([o.name for o in options], dtype=object)[best],
            "backhaul_capex": np.vstack([o.capex for o in options])[best, pick],
            "backhaul_opex_per_year": np.vstack([o.opex_per_year for o in options])[best, pick],
            "backhaul_length_m": np.vstack([o.length_m for o in options])[best, pick],
        }
    )
    counts = table["backhaul"].value_counts()
    logger.info(
        "backhaul: feasible %s; cheapest %s",
        ", ".join(f"{o.name} {int(o.feasible.sum())}" for o in options),
        ", ".join(f"{name} {int(counts.get(name, 0))}" for name in OPTIONS),
    )
    return table
