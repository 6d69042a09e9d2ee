"""The pipeline's costing stage: each candidate's backhaul and costs in the scenario's money.

Reads the hubs, the DEM and the street network the ``backhaul`` section names (through the
pipeline's layer reader, so every file is checked and recorded), chooses each site's backhaul
(:mod:`connectivity.costing.backhaul`) and adds the cost columns
(:data:`connectivity.costing.money.COST_COLUMNS`); ``cost`` becomes the cost the budget limits.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from connectivity import network
from connectivity.costing import backhaul as bh
from connectivity.costing.money import budget_cost, cost_table
from connectivity.costing.spec import BackhaulSpec
from connectivity.propagation import Terrain
from connectivity.reading import Inputs

logger = logging.getLogger("connectivity.pipeline")


def costed_candidates(
    reader: Inputs,
    cand: gpd.GeoDataFrame,
    wifi: gpd.GeoDataFrame,
    mobile_terrain: Terrain | None = None,
) -> gpd.GeoDataFrame:
    """Return the candidates with their backhaul and costs (unchanged without ``money``).

    ``mobile_terrain``: the DEM the mobile section already read, used again when the
    microwave check names the same file.
    """
    s = reader.scenario
    money = s.money
    out = cand.copy()
    if money is None:
        return out
    n = len(out)
    capex = np.nan_to_num(out["site_capex"].to_numpy(dtype=float), nan=0.0)
    opex = np.nan_to_num(out["site_opex_per_year"].to_numpy(dtype=float), nan=0.0)
    out["backhaul"] = "none"
    out["backhaul_capex"] = 0.0
    out["backhaul_opex_per_year"] = 0.0
    out["backhaul_length_m"] = np.nan
    if s.backhaul is not None:
        xy = np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
        chosen = bh.cheapest(
            _options(reader, s.backhaul, xy, wifi, mobile_terrain), money, out["site_id"]
        )
        for column in bh.BACKHAUL_COLUMNS:
            out[column] = chosen[column].to_numpy()
        capex = capex + chosen["backhaul_capex"].to_numpy()
        opex = opex + chosen["backhaul_opex_per_year"].to_numpy()
    table = cost_table(capex, opex, money)
    for column in table.columns:
        out[column] = table[column].to_numpy()
    out["cost"] = budget_cost(table, money)
    logger.info(
        "costs: %d sites, capex %s to %s %s each (backhaul included); the budget limits %s",
        n,
        f"{float(np.min(capex)):,.0f}" if n else "-",
        f"{float(np.max(capex)):,.0f}" if n else "-",
        money.currency,
        money.budget_on,
    )
    return out


def _options(
    reader: Inputs,
    spec: BackhaulSpec,
    site_xy: np.ndarray,
    wifi: gpd.GeoDataFrame,
    mobile_terrain: Terrain | None,
) -> list[bh.Option]:
    hubs = [np.zeros((0, 2))]
    if spec.hubs is not None:
        layer = reader.layer(spec.hubs, "backhaul.hubs", geometry="point")
        hubs.append(np.column_stack([layer.geometry.x, layer.geometry.y]))
    if spec.wifi_hubs and len(wifi):
        hubs.append(np.column_stack([wifi.geometry.x, wifi.geometry.y]))
    hub_xy = np.vstack(hubs)
    options = []
    if spec.fibre is not None:
        f = spec.fibre
        if f.network is not None:
            graph = network.street_graph_from_osm(
                f.network, metric_crs=reader.metric, cache_dir=network.default_cache_dir()
            )
            reader.files.append(f.network)
            route = network.route_lengths(graph, hub_xy, site_xy, limit_m=f.max_length_m)
        elif len(hub_xy):
            route = cKDTree(hub_xy).query(site_xy)[0]
        else:
            route = np.full(len(site_xy), np.inf)
        options.append(bh.fibre_option(spec, route))
    if spec.microwave is not None:
        from connectivity.layers import read_dem

        path = spec.microwave.terrain
        assert path is not None  # checked with the scenario
        mobile = reader.scenario.mobile
        terrain = mobile_terrain if mobile is not None and mobile.terrain == path else None
        if terrain is None:
            terrain = read_dem(path, metric_crs=reader.metric)
            reader.files.append(path)
        options.append(bh.microwave_option(spec, site_xy, hub_xy, terrain))
    if spec.satellite is not None:
        options.append(bh.satellite_option(spec, len(site_xy)))
    return options
