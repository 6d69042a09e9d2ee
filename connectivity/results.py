"""What a run produced: :class:`Results`.

It sits below both the pipeline, which makes it, and the outputs, which write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from connectivity import mobile, propagation
from connectivity.columns import LoadReport
from connectivity.demand import MissingValues
from connectivity.grid import DemandPoints
from connectivity.optimise import Solution
from connectivity.scenario import Scenario
from connectivity.territory import Territory


@dataclass
class CapacityOutcome:
    """What a capacitated plan serves (with a ``capacity`` section).

    Attributes
    ----------
    take_up, concurrency
        The scenario's shares turning people without home internet into simultaneous users.
    capacity_users, served_users
        Each chosen site's capacity and the users it serves, in rank order.
    zone_capacity_users, zone_served_users_before, zone_served_users_after
        An existing zone's capacity, and the users each serves before and after the plan.
    served_before
        Each analysis point's share served before the plan (0–1, mobile coverage included).
    reach_before, reach_after
        Each point's share within reach of an open site (or mobile coverage): what the
        uncapacitated model would count as covered. Reach minus served is the demand left
        unserved although in reach.
    changes
        Rank by rank, the points whose share served the rank's site changed, and by how much.
    demand_users
        Each point's simultaneous users (before mobile coverage).
    """

    take_up: float
    concurrency: float
    capacity_users: np.ndarray
    served_users: np.ndarray
    zone_capacity_users: float
    zone_served_users_before: np.ndarray
    zone_served_users_after: np.ndarray
    served_before: np.ndarray
    reach_before: np.ndarray
    reach_after: np.ndarray
    changes: list[tuple[np.ndarray, np.ndarray]]
    demand_users: np.ndarray


@dataclass
class Results:
    """Everything a run produced, in the scenario's metric CRS.

    Attributes
    ----------
    scenario
        The resolved scenario.
    territory
        Areas and rural land.
    cells
        Published demand cells with ``coverage_before`` / ``coverage_after`` (share of the
        cell's people within reach, 0–1), ``people_covered_before`` / ``people_covered_after``,
        ``covered_before`` / ``covered_after`` (at least half of the cell's people covered) and
        ``covered_by_rank`` (the rank of the site that brought the cell to half covered; 0 when
        none did).
    points
        The analysis points coverage is computed on (``s × s`` per cell).
    point_coverage_before, point_coverage_after
        Coverage (0–1) of each analysis point before and after the plan.
    existing_wifi
        Existing public Wi-Fi zones used for coverage.
    candidates
        Every candidate site, with ``rank`` (0 when not chosen).
    selected
        The chosen sites in rank order with their gains.
    gaps
        Cells where most people stay out of reach after the plan, dissolved; figures count
        the people out of reach.
    gaps_before
        The same before the plan.
    solution
        The optimiser's answer (objective, bound, gap, method).
    tables
        Extra tables written as ``<name>.csv``: ``plan_comparison`` (with equity floors) and
        ``reach_comparison`` (with walking reach).
    stage_seconds
        Wall time of each stage.
    counts
        Row counts worth reporting (cells, points, candidates, pairs ...).
    load_reports
        What reading each layer cleaned.
    missing_values
        Blank values in the demographic data and what was done about each.
    discretisation
        The check of the analysis grid: the plan's people newly covered on points twice as
        fine, and the share of chosen sites near a corner of the published grid.
    input_files
        Every file read.
    mobile
        Existing mobile coverage (with a ``mobile`` section in the scenario).
    terrain
        The DEM used for propagation, if any.
    signal
        Received power from the existing transmitters and the chosen towers on the demand
        grid (with a ``mobile`` section that asks for the raster and has a transmitter).
    capacity
        What a capacitated plan serves (with a ``capacity`` section).
    """

    scenario: Scenario
    territory: Territory
    cells: gpd.GeoDataFrame
    points: DemandPoints
    point_coverage_before: np.ndarray
    point_coverage_after: np.ndarray
    existing_wifi: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    selected: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    gaps_before: gpd.GeoDataFrame
    solution: Solution | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    load_reports: list[LoadReport] = field(default_factory=list)
    missing_values: list[MissingValues] = field(default_factory=list)
    discretisation: dict[str, Any] = field(default_factory=dict)
    input_files: list[Path] = field(default_factory=list)
    mobile: mobile.MobileCoverage | None = None
    terrain: propagation.Terrain | None = None
    signal: propagation.SignalRaster | None = None
    capacity: CapacityOutcome | None = None

    @property
    def transmitters(self) -> list[propagation.Transmitter]:
        """Existing transmitters and the new towers the plan chose (for the signal raster)."""
        if self.scenario.mobile is None or self.mobile is None:
            return []
        radio = self.scenario.mobile.radio
        towers = self.selected[self.selected["type"] == mobile.TOWER_TYPE]
        new = [mobile.tower_transmitter(float(p.x), float(p.y), radio) for p in towers.geometry]
        return [*self.mobile.transmitters, *new]

    @property
    def rural_coverage(self) -> dict[str, float]:
        """People on rural land and how many of them are covered before and after the plan."""
        c = self.cells
        rural = c["rural"].to_numpy(dtype=bool)
        return {
            "people": float(c["population"].to_numpy()[rural].sum()),
            "covered_before": float(c["people_covered_before"].to_numpy()[rural].sum()),
            "covered_after": float(c["people_covered_after"].to_numpy()[rural].sum()),
        }

    @property
    def summary(self) -> dict[str, float]:
        """City-wide key figures: people, coverage before/after, sites and cost."""
        c = self.cells
        pop = float(c["population"].sum())
        before = float(c["people_covered_before"].sum())
        after = float(c["people_covered_after"].sum())
        w = self.points.demand_weight
        weight = float(w.sum())
        return {
            "population": pop,
            "people_without_internet": float(c["people_without_internet"].sum()),
            "demand_weight": weight,
            "people_covered_before": before,
            "people_covered_after": after,
            "pct_people_covered_before": _pct(before, pop),
            "pct_people_covered_after": _pct(after, pop),
            "pct_weight_covered_before": _pct(float(w @ self.point_coverage_before), weight),
            "pct_weight_covered_after": _pct(float(w @ self.point_coverage_after), weight),
            "sites_selected": float(len(self.selected)),
            "total_cost": float(self.selected["cost"].sum()) if len(self.selected) else 0.0,
        }


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole > 0 else 0.0
