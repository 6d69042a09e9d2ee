"""Tables for planners: the ranked sites and the summary by locality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectivity.results import Results

SELECTED_COLUMNS = [
    "rank",
    "site_id",
    "name",
    "type",
    "locality",
    "lon",
    "lat",
    "new_people_covered",
    "new_priority_weight",
    "cumulative_coverage_pct",
]

SUMMARY_COLUMNS = [
    "locality_code",
    "locality",
    "population",
    "people_without_internet",
    "covered_before",
    "covered_after",
    "pct_covered_before",
    "pct_covered_after",
    "sites_selected",
]


def selected_sites_table(results: Results) -> pd.DataFrame:
    """Return ``selected_sites.csv``: one row per chosen site, best first."""
    table = pd.DataFrame(results.selected.drop(columns="geometry"))[SELECTED_COLUMNS].copy()
    for col in ("new_people_covered", "new_priority_weight"):
        table[col] = table[col].round(1)
    table["cumulative_coverage_pct"] = table["cumulative_coverage_pct"].round(3)
    return table


def summary_by_locality(results: Results) -> pd.DataFrame:
    """Return ``summary_by_locality.csv``: one row per area of the territory (people counts).

    ``covered_before`` and ``covered_after`` count the people within reach of a site, before
    and after the plan, summed over the analysis points (with partial coverage, each point's
    people times its coverage 0–1); the percentages are of the area's population (0 where
    nobody lives).
    """
    cells = pd.DataFrame(results.cells.drop(columns="geometry"))
    agg = cells.groupby("area_code").agg(
        population=("population", "sum"),
        people_without_internet=("people_without_internet", "sum"),
        covered_before=("people_covered_before", "sum"),
        covered_after=("people_covered_after", "sum"),
    )
    sites = results.selected.groupby("area_code").size().rename("sites_selected")
    areas = results.territory.areas[["area_code", "area_name"]].set_index("area_code")
    table = areas.join(agg).join(sites).fillna(0.0).reset_index()
    table = table.rename(columns={"area_code": "locality_code", "area_name": "locality"})
    pop = table["population"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for when in ("before", "after"):
            table[f"pct_covered_{when}"] = np.where(
                pop > 0, 100.0 * table[f"covered_{when}"] / pop, 0.0
            ).round(3)
    for col in ("population", "people_without_internet", "covered_before", "covered_after"):
        table[col] = table[col].round(0).astype(np.int64)
    table["sites_selected"] = table["sites_selected"].astype(np.int64)
    return table[SUMMARY_COLUMNS]
