"""What a run publishes: its tables and layers after the privacy rule.

The unsuppressed figures stay in :class:`~connectivity.results.Results` for the computation and
the maps' density classes; everything written as a number goes through :func:`published`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from connectivity.outputs import privacy
from connectivity.outputs.tables import selected_sites_table, summary_by_locality
from connectivity.results import Results


@dataclass
class Published:
    """What a run publishes, after the privacy rule: tables, layers and what was suppressed."""

    selected: pd.DataFrame
    summary: pd.DataFrame
    layers: dict[str, gpd.GeoDataFrame]
    suppressed: dict[str, int]
    min_population: int


def published(results: Results) -> Published:
    """Apply the privacy rule (:mod:`connectivity.outputs.privacy`) to what is written."""
    threshold = results.scenario.output.min_population
    groups = {
        name: name if g.kind == "count" else f"{name}_share"
        for name, g in results.scenario.demand.groups.items()
    }
    full_summary = summary_by_locality(results)
    table = selected_sites_table(results)
    cells = results.cells
    gap_rows = pd.Series(np.arange(len(results.gaps)), index=results.gaps["gap_id"].to_numpy())
    cell_gap = np.full(len(cells), -1, dtype=np.int64)
    in_gap = cells["gap_id"].to_numpy() > 0
    cell_gap[in_gap] = gap_rows.loc[cells["gap_id"].to_numpy()[in_gap]].to_numpy()
    hidden = privacy.suppression(
        cells,
        cell_gap,
        full_summary,
        results.gaps,
        table,
        groups=groups,
        threshold=threshold,
    )
    pub_cells, n_cells = privacy.mask_cells(cells, hidden.cells, privacy.cell_columns(groups))
    counts = ["population", "people_without_internet", "covered_before", "covered_after"]
    derived = [c for c in ("npc_per_new_person", "served_users") if c in full_summary.columns]
    summary = privacy.mask_rows(
        full_summary,
        hidden.localities,
        [*counts, "pct_covered_before", "pct_covered_after", *derived],
    )
    if "people_unserved_in_reach" in full_summary.columns:  # a count of its own
        unserved = full_summary["people_unserved_in_reach"].to_numpy(dtype=float)
        small = privacy.small(unserved, threshold) | hidden.localities
        privacy.protect(unserved, small, np.arange(len(unserved)), threshold)
        summary = privacy.mask_rows(summary, small, ["people_unserved_in_reach"])
    gaps = privacy.mask_rows(
        results.gaps, hidden.gaps, ["population", "people_without_internet", "demand_weight"]
    )
    site_columns = [
        "new_people_covered",
        "new_priority_weight",
        "served_users",
        "npc_per_new_person",
    ]
    selected = privacy.mask_rows(table, hidden.sites, site_columns)
    sel_layer = privacy.mask_rows(results.selected, hidden.sites, site_columns)
    if hidden.sites.any():  # a cumulative column's differences would give each gain back
        after_first = np.arange(len(table)) >= int(np.argmax(hidden.sites))
        for frame in (selected, sel_layer):
            frame["cumulative_coverage_pct"] = (
                frame["cumulative_coverage_pct"].astype(float).where(~after_first, np.nan)
            )
    localities = results.territory.areas.merge(
        summary.drop(columns="locality").rename(columns={"locality_code": "area_code"}),
        on="area_code",
        how="left",
    )
    return Published(
        selected=selected,
        summary=summary,
        layers={
            "localities": localities,
            "demand_cells": pub_cells,
            "existing_wifi": results.existing_wifi,
            "candidates": results.candidates,
            "selected_sites": sel_layer,
            "gaps": gaps,
        },
        suppressed={
            "localities": int(hidden.localities.sum()),
            "selected_sites": int(hidden.sites.sum()),
            "demand_cells": n_cells,
            "gaps": int(hidden.gaps.sum()),
        },
        min_population=threshold,
    )
