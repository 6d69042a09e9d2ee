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
    "capex",
    "opex_per_year",
    "tco",
    "npc",
    "npc_per_new_person",
    "backhaul",
    "capacity_users",
    "served_users",
]
"""``selected_sites.csv``. Money (``capex``, ``opex_per_year``, ``tco``, ``npc`` and the net
present cost per person newly covered) and ``backhaul`` are empty without a ``money`` section;
``capacity_users`` and ``served_users`` (simultaneous users) without a ``capacity`` section."""

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
MONEY_SUMMARY_COLUMNS = ["capex", "opex_per_year", "tco", "npc", "npc_per_new_person"]
"""Added to the summary by locality with a ``money`` section: the chosen sites' costs."""
CAPACITY_SUMMARY_COLUMNS = ["capacity_users", "served_users", "people_unserved_in_reach"]
"""Added with a ``capacity`` section: the chosen sites' capacity and the users they serve,
and the people within reach of an open site (new or existing) whose demand it cannot serve."""


def selected_sites_table(results: Results) -> pd.DataFrame:
    """Return ``selected_sites.csv``: one row per chosen site, best first."""
    sel = pd.DataFrame(results.selected.drop(columns="geometry"))
    new = sel["new_people_covered"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sel["npc_per_new_person"] = np.where(
            new > 0, sel["npc"].to_numpy(dtype=float) / new, np.nan
        )
    table = sel[SELECTED_COLUMNS].copy()
    for col in ("new_people_covered", "new_priority_weight", "served_users", "capacity_users"):
        table[col] = table[col].astype(float).round(1)
    for col in ("capex", "opex_per_year", "tco", "npc", "npc_per_new_person"):
        table[col] = table[col].astype(float).round(0)
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
    columns = list(SUMMARY_COLUMNS)
    s = results.scenario
    if s.money is not None:
        columns += MONEY_SUMMARY_COLUMNS
        money = results.selected.groupby("area_code")[MONEY_SUMMARY_COLUMNS[:-1]].sum()
        table = table.merge(money, left_on="locality_code", right_index=True, how="left")
        table[MONEY_SUMMARY_COLUMNS[:-1]] = table[MONEY_SUMMARY_COLUMNS[:-1]].fillna(0.0).round(0)
        gained = (table["covered_after"] - table["covered_before"]).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["npc_per_new_person"] = np.where(
                gained > 0, (table["npc"] / gained).round(0), np.nan
            )
    if results.capacity is not None:
        columns += CAPACITY_SUMMARY_COLUMNS
        sel = results.selected.assign(
            capacity_users=results.capacity.capacity_users,
            served_users=results.capacity.served_users,
        )
        use = sel.groupby("area_code")[["capacity_users", "served_users"]].sum()
        table = table.merge(use, left_on="locality_code", right_index=True, how="left")
        table[["capacity_users", "served_users"]] = (
            table[["capacity_users", "served_users"]].fillna(0.0).round(1)
        )
        pts = results.points
        unserved = pts.population * np.maximum(
            results.capacity.reach_after - results.point_coverage_after, 0.0
        )
        area = results.cells["area_code"].to_numpy()[pts.cell]
        by_area = pd.Series(unserved).groupby(area).sum()
        table["people_unserved_in_reach"] = (
            table["locality_code"].map(by_area).fillna(0.0).round(0).astype(np.int64)
        )
    return table[columns]
