"""Several territories sharing one number of sites or one budget, split by marginal gain.

Each territory's sites are ranked greedily (without its floors: the split is by what each
further site adds); the shared sites or budget go, one site at a time, to the territory whose
next site adds the most priority-weighted demand (per unit of cost with a budget)
(:func:`~connectivity.study.plans.split_by_gain`). Each territory's plan is then solved for its
share with its own method and constraints. Territories are loaded, ranked and solved on the
workers; only the gains and the plans come back.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from connectivity import optimise
from connectivity.optimise.greedy import greedy
from connectivity.study.engine import EngineReport, Shared, load_territory
from connectivity.study.model import PlanResult, PlanSpec, StudyModel, no_plan, solve_plan
from connectivity.study.plans import split_by_gain
from connectivity.study.spec import TerritoriesSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerritoryPlan:
    """One territory's share of the study: its plan and its chosen sites (lon/lat)."""

    name: str
    title: str
    internet_share_known: bool
    result: PlanResult
    sites: pd.DataFrame  # territory, rank, site_id, name, type, lon, lat


def ranked_gains(
    model: StudyModel, *, sites: int | None, budget: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return a territory's greedy gains and the ranked sites' costs (at most ``sites``)."""
    limit = sites if sites is not None else model.n_sites
    problem = optimise.Problem.from_arrays(
        model.matrix,
        model.weights,
        costs=model.costs,
        existing=model.existing,
        k=min(limit, model.n_sites),
        budget=budget,
        name="territory ranking",
    )
    ranking = greedy(problem, None)
    return np.asarray(ranking.gains, dtype=float), model.costs[ranking.sites]


def solve_territory(model: StudyModel, spec: PlanSpec) -> TerritoryPlan:
    """Solve a territory's share and describe its chosen sites in lon/lat."""
    from pyproj import Transformer

    if spec.sites == 0 or spec.budget == 0:
        result = no_plan(model, spec, "no share of the sites")
    else:
        result = solve_plan(model, spec)
    xy = model.site_xy[result.sites]
    lon, lat = Transformer.from_crs(model.crs, "EPSG:4326", always_xy=True).transform(
        xy[:, 0], xy[:, 1]
    )
    table = pd.DataFrame(
        {
            "territory": model.name,
            "rank": np.arange(1, len(result.sites) + 1),
            "site_id": model.site_ids[result.sites],
            "name": model.site_names[result.sites],
            "type": model.site_types[result.sites],
            "lon": np.round(np.asarray(lon, dtype=float), 7),
            "lat": np.round(np.asarray(lat, dtype=float), 7),
        }
    )
    return TerritoryPlan(model.name, model.title, model.internet_share_known, result, table)


def run_territories(
    shared: Shared,
    spec: TerritoriesSpec,
    *,
    algorithm: str,
    first_index: int,
    strict: bool,
    progress: Callable[[int], None] | None = None,
    report: EngineReport | None = None,
) -> list[TerritoryPlan]:
    """Load the other territories on the workers, split the shared sites, solve each share."""
    client = shared.client
    others = [client.submit(load_territory, path, strict, pure=False) for path in spec.scenarios]
    models = [shared.get(), *others]
    gains_f = [
        client.submit(ranked_gains, m, sites=spec.sites, budget=spec.budget, pure=False)
        for m in models
    ]
    ranked = client.gather(gains_f)
    if progress is not None:
        progress(len(models))
    taken = split_by_gain(
        [g for g, _ in ranked], [c for _, c in ranked], sites=spec.sites, budget=spec.budget
    )
    plans_f = []
    for t, (m, k) in enumerate(zip(models, taken, strict=True)):
        costs = ranked[t][1]
        share = PlanSpec(
            index=first_index + t,
            kind="territories",
            plan=f"territory {t + 1}",
            algorithm=algorithm,
            sites=k if spec.budget is None else None,
            budget=float(costs[:k].sum()) if spec.budget is not None else None,
        )
        plans_f.append(client.submit(solve_territory, m, share, pure=False))
    plans: list[TerritoryPlan] = client.gather(plans_f)
    if progress is not None:
        progress(len(models))
    if report is not None:
        report.note_memory(p.result for p in plans)
    plans = [
        dataclasses.replace(
            p, result=dataclasses.replace(p.result, spec=_named(p.result.spec, p.name))
        )
        for p in plans
    ]
    if len({p.internet_share_known for p in plans}) > 1:
        logger.warning(
            "study: the territories count demand differently (some have a home-internet "
            "share, some count every resident): the split compares unlike figures"
        )
    return plans


def _named(spec: PlanSpec, name: str) -> PlanSpec:
    return dataclasses.replace(spec, plan=name, territory=name)


def territory_totals(plans: list[TerritoryPlan], index: int) -> dict[str, Any]:
    """Return the territories' plans added up (one row of ``study.csv``)."""
    rs = [p.result for p in plans]
    return {
        "index": index,
        "sites": sum(len(r.sites) for r in rs),
        "cost": sum(r.cost for r in rs),
        "people_covered": sum(r.people_covered for r in rs),
        "people_newly_covered": sum(r.people_newly_covered for r in rs),
        "population": sum(r.population for r in rs),
        "weight_covered": sum(r.weight_covered for r in rs),
        "total_weight": sum(r.total_weight for r in rs),
        "objective": sum(r.objective for r in rs),
        "bound": sum(r.bound for r in rs),
    }
