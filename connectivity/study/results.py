"""What a study found: :class:`StudyResults`, its table (``study.csv``) and record (``study.json``).

Figures are rounded once, here, so the files are the same byte for byte whatever the number
of workers. Figures per locality are added where they are written, under the run's privacy
rule (:mod:`connectivity.outputs.study`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectivity.study.engine import EngineReport
from connectivity.study.model import PlanResult, StudyModel
from connectivity.study.plans import interval
from connectivity.study.spec import StudySpec
from connectivity.study.territories import TerritoryPlan, territory_totals

COLUMNS = [
    "kind",
    "plan",
    "year",
    "territory",
    "algorithm",
    "status",
    "site_limit",
    "budget",
    "sites",
    "cost",
    "people_covered",
    "people_newly_covered",
    "pct_people_covered",
    "weight_covered",
    "pct_weight_covered",
    "objective",
    "bound",
    "gap_pct",
    "marginal_cost_per_person",
    "lowest_locality_pct_weight",
    "gini_people",
    "min_share_per_area",
    "rural_min_share",
    "radius_m",
]
"""The columns of ``study.csv``, one row per plan."""


@dataclass
class StudyResults:
    """Every plan of a study and what was read off them.

    Attributes
    ----------
    spec
        The scenario's ``study:`` section.
    model
        The coverage model the plans shared (the study's own territory).
    plans
        Every plan but the territories', in output order.
    marginal_cost
        Cost per newly covered person of each budget-curve step, by plan index.
    frequency
        Share (0–1) of the robustness draws choosing each site (None without robustness).
    phase
        Index of the year each site is first chosen in, -1 if never (None without phases).
    years
        The phases' labels.
    territories
        Each territory's share, plan and chosen sites.
    engine
        The cluster, its workers' peak memory, the wall time.
    min_population
        The privacy threshold.
    """

    spec: StudySpec
    model: StudyModel
    plans: list[PlanResult]
    marginal_cost: dict[int, float] = field(default_factory=dict)
    frequency: np.ndarray | None = None
    phase: np.ndarray | None = None
    years: list[str] = field(default_factory=list)
    territories: list[TerritoryPlan] = field(default_factory=list)
    engine: EngineReport | None = None
    min_population: int = 10

    def of_kind(self, kind: str) -> list[PlanResult]:
        """Return the plans of one kind, in order."""
        return [p for p in self.plans if p.spec.kind == kind]

    def table(self) -> pd.DataFrame:
        """One row per plan (``study.csv``): see :data:`COLUMNS`."""
        rows = [self._row(p) for p in self.plans]
        if self.territories:
            rows += [self._row(t.result) for t in self.territories]
            totals = territory_totals(self.territories, len(rows))
            rows.append(
                {
                    "kind": "territories",
                    "plan": "all territories",
                    "territory": "all",
                    "status": "sum of the territories' plans",
                    "sites": totals["sites"],
                    "cost": _round(totals["cost"], 3),
                    "people_covered": _round(totals["people_covered"], 1),
                    "people_newly_covered": _round(totals["people_newly_covered"], 1),
                    "pct_people_covered": _round(
                        _pct(totals["people_covered"], totals["population"]), 4
                    ),
                    "weight_covered": _round(totals["weight_covered"], 3),
                    "pct_weight_covered": _round(
                        _pct(totals["weight_covered"], totals["total_weight"]), 4
                    ),
                    "objective": _round(totals["objective"], 3),
                    "bound": _round(totals["bound"], 3),
                    "gap_pct": _round(
                        100 * max(0.0, totals["bound"] - totals["objective"]) / totals["bound"]
                        if totals["bound"] > 0
                        else float("nan"),
                        4,
                    ),
                }
            )
        table = pd.DataFrame(rows, columns=COLUMNS)
        table["site_limit"] = table["site_limit"].astype("Int64")
        table["sites"] = table["sites"].astype("Int64")
        return table

    def _row(self, p: PlanResult) -> dict[str, Any]:
        s = p.spec
        return {
            "kind": s.kind,
            "plan": s.plan,
            "year": s.year,
            "territory": s.territory or self.model.name,
            "algorithm": s.algorithm,
            "status": p.status,
            "site_limit": s.sites,
            "budget": s.budget,
            "sites": len(p.sites),
            "cost": _round(p.cost, 3),
            "people_covered": _round(p.people_covered, 1),
            "people_newly_covered": _round(p.people_newly_covered, 1),
            "pct_people_covered": _round(p.pct_people, 4),
            "weight_covered": _round(p.weight_covered, 3),
            "pct_weight_covered": _round(p.pct_weight, 4),
            "objective": _round(p.objective, 3),
            "bound": _round(p.bound, 3),
            "gap_pct": _round(100 * p.gap, 4),
            "marginal_cost_per_person": _round(self.marginal_cost.get(s.index, np.nan), 4),
            "lowest_locality_pct_weight": _round(p.lowest_area_pct_weight, 4),
            "gini_people": _round(p.gini_people, 4),
            "min_share_per_area": s.min_share_per_area,
            "rural_min_share": s.rural_min_share,
            "radius_m": _round(p.radius_m, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the study as plain data (``study.json``): spec, plans with their sites, summaries.

        The worker-dependent figures (seconds, memory) are under ``engine`` and each plan's
        ``seconds``; everything else is the same for any number of workers.
        """
        ids = self.model.site_ids
        plans = []
        for p in self.plans:
            plans.append(
                {
                    **{k: _json(v) for k, v in self._row(p).items()},
                    "site_ids": [str(ids[i]) for i in p.sites],
                    "notes": list(p.notes),
                    "seconds": round(p.seconds, 3),
                }
            )
        record: dict[str, Any] = {
            "format": "connectivity-study/1",
            "scenario": self.model.name,
            "kinds": self.spec.kinds,
            "spec": _json(_spec_dict(self.spec)),
            "plans": plans,
        }
        robust = self.of_kind("robustness")
        if robust and self.frequency is not None:
            chosen = np.flatnonzero(self.frequency > 0)
            order = chosen[np.lexsort((ids[chosen].astype(str), -self.frequency[chosen]))]
            record["robustness"] = {
                "draws": len(robust),
                "feasible_draws": sum(r.feasible for r in robust),
                "pct_people_covered_p5_p50_p95": [
                    _round(v, 4) for v in interval([r.pct_people for r in robust])
                ],
                "people_covered_p5_p50_p95": [
                    _round(v, 1) for v in interval([r.people_covered for r in robust])
                ],
                "sites_chosen_in_every_draw": int((self.frequency >= 1.0 - 1e-12).sum()),
                "site_frequency": {str(ids[i]): _round(self.frequency[i], 4) for i in order},
            }
        if self.phase is not None:
            record["phases"] = {
                year: [str(ids[i]) for i in np.flatnonzero(self.phase == y)]
                for y, year in enumerate(self.years)
            }
        if self.territories:
            record["territories"] = [
                {
                    "territory": t.name,
                    "title": t.title,
                    "demand_counts": "people without home internet"
                    if t.internet_share_known
                    else "every resident (no home-internet figure)",
                    "sites": len(t.result.sites),
                    "site_ids": t.sites["site_id"].astype(str).tolist(),
                }
                for t in self.territories
            ]
        if self.engine is not None:
            record["engine"] = self.engine.to_dict()
        return record


def _spec_dict(spec: StudySpec) -> dict[str, Any]:
    import dataclasses

    return {k: v for k, v in dataclasses.asdict(spec).items() if v is not None}


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole > 0 else float("nan")


def _round(value: Any, digits: int) -> Any:
    if value is None:
        return None
    v = float(value)
    return round(v, digits) if np.isfinite(v) else None


def _json(value: Any) -> Any:
    """Plain JSON values: paths as text, NaN as null, numpy scalars as Python numbers."""
    from pathlib import Path

    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
