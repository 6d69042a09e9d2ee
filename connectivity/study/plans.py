"""Which plans each kind of study asks for, and what is read off them once solved (pure).

:func:`plan_specs` turns the scenario's ``study:`` section into :class:`PlanSpec` values, in
the order every output lists them. Once solved: :func:`monotone_curve` keeps a budget curve
from falling, :func:`marginal_costs` prices each step of it, :func:`frequencies` and
:func:`interval` read the robustness draws, :func:`phase_of` the year each site opens, and
:func:`split_by_gain` shares sites or a budget between territories by marginal gain.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Sequence

import numpy as np

from connectivity.scenario import MethodSpec
from connectivity.study.model import Draw, PlanResult, PlanSpec
from connectivity.study.spec import StudySpec

INDEPENDENT_KINDS = ("budget_curve", "equity_frontier", "robustness")
"""Kinds whose plans do not depend on each other (solved all at once)."""


def plan_specs(study: StudySpec, method: MethodSpec) -> list[PlanSpec]:
    """Return the plans of every kind but territories, in output order (phases in year order).

    Budget curves are solved in increasing order of their budgets or site counts (repeats
    dropped); phases add each year's sites or budget to the years before.
    """
    specs: list[PlanSpec] = []

    def add(**values: object) -> None:
        specs.append(PlanSpec(index=len(specs), **values))  # type: ignore[arg-type]

    default = method.algorithm
    if study.budget_curve is not None:
        b = study.budget_curve
        algorithm = b.algorithm or default
        for k in sorted(set(b.sites)):
            add(kind="budget_curve", plan=f"sites={k}", algorithm=algorithm, sites=k)
        for budget in sorted(set(b.budgets)):
            add(kind="budget_curve", plan=f"budget={budget:g}", algorithm=algorithm, budget=budget)
    if study.phases is not None:
        p = study.phases
        algorithm = p.algorithm or default
        per_year = p.sites_per_year or p.budget_per_year
        years = p.years or [str(i + 1) for i in range(len(per_year))]
        total = np.cumsum(np.asarray(per_year, dtype=float))
        for year, value in zip(years, total, strict=True):
            limit = {"sites": int(value)} if p.sites_per_year else {"budget": float(value)}
            add(kind="phases", plan=f"year {year}", algorithm=algorithm, year=year, **limit)
    if study.equity_frontier is not None:
        e = study.equity_frontier
        algorithm = e.algorithm or default
        n = max(len(e.min_share_per_area), len(e.rural_min_share))
        for i in range(n):
            area = _pick(e.min_share_per_area, i)
            rural = _pick(e.rural_min_share, i)
            name = " ".join(
                f"{key}={value:g}"
                for key, value in (("min_share_per_area", area), ("rural_min_share", rural))
                if value is not None
            )
            add(
                kind="equity_frontier",
                plan=name,
                algorithm=algorithm,
                min_share_per_area=area,
                rural_min_share=rural,
            )
    if study.robustness is not None:
        r = study.robustness
        algorithm = r.algorithm or default
        radius = (r.radius_m[0], r.radius_m[1]) if r.radius_m else None
        for d in range(r.draws):
            draw = Draw(seed=r.seed, draw=d, demand_share=r.demand_share, radius_m=radius)
            add(kind="robustness", plan=f"draw {d + 1}", algorithm=algorithm, draw=draw)
    return specs


def _pick(values: list[float], i: int) -> float | None:
    """Return the i-th value, a shorter list repeating its last (None for an empty list)."""
    if not values:
        return None
    return values[min(i, len(values) - 1)]


def next_phase(spec: PlanSpec, before: PlanResult | None) -> PlanSpec:
    """Return a year's plan with the sites of the year before fixed (nested plans)."""
    if before is None:
        return spec
    kept = before.sites if before.feasible else np.asarray(before.spec.mandatory)
    return dataclasses.replace(spec, mandatory=tuple(sorted(int(s) for s in kept)))


def monotone_curve(results: Sequence[PlanResult]) -> list[PlanResult]:
    """Keep a budget curve from falling: a larger budget keeps a smaller one's better plan.

    Plans of one curve (site counts, or budgets) are solved independently; a heuristic or an
    exact search stopped at its time limit can then cover less with more. The smaller plan is
    affordable under the larger budget, so the larger one takes it, and says so.
    """
    out: list[PlanResult] = []
    for group in ("sites", "budget"):
        best: PlanResult | None = None
        for r in results:
            if getattr(r.spec, group) is None:
                continue
            if best is not None and r.feasible and r.weight_covered < best.weight_covered - 1e-9:
                r = dataclasses.replace(
                    best,
                    spec=r.spec,
                    bound=r.bound,  # its own bound: the smaller plan's holds for less money
                    gap=_gap(best.objective, r.bound),
                    status=f"{r.status}; kept the plan of {best.spec.plan}",
                    seconds=r.seconds,
                    worker=r.worker,
                    peak_rss_mb=r.peak_rss_mb,
                ).with_notes(
                    f"its own plan covered {r.weight_covered:.1f} of weighted demand; the plan "
                    f"of {best.spec.plan}, which it can afford, covers {best.weight_covered:.1f}"
                )
            if r.feasible and (best is None or r.weight_covered >= best.weight_covered):
                best = r
            out.append(r)
    return sorted(out, key=lambda r: r.spec.index)


def _gap(objective: float, bound: float) -> float:
    if not (np.isfinite(bound) and bound > 0):
        return float("nan")
    return max(0.0, (bound - objective) / bound)


def marginal_costs(results: Sequence[PlanResult]) -> dict[int, float]:
    """Cost of each step of a curve per person it newly covers (by plan index).

    The first plan of each curve is priced against no plan at all; a step that covers no more
    people has no price (NaN).
    """
    out: dict[int, float] = {}
    for group in ("sites", "budget"):
        cost, people = 0.0, None
        for r in results:
            if getattr(r.spec, group) is None or not r.feasible:
                continue
            base = r.people_covered - r.people_newly_covered if people is None else people
            gained = r.people_covered - base
            out[r.spec.index] = (r.cost - cost) / gained if gained > 1e-9 else float("nan")
            cost, people = r.cost, r.people_covered
    return out


def frequencies(results: Sequence[PlanResult], n_sites: int) -> np.ndarray:
    """Share (0–1) of the feasible draws in which each site is chosen."""
    counts = np.zeros(n_sites)
    feasible = [r for r in results if r.feasible]
    for r in feasible:
        counts[r.sites] += 1
    return counts / len(feasible) if feasible else counts


def interval(values: Sequence[float], low: float = 5.0, high: float = 95.0) -> tuple[float, ...]:
    """Return the ``low``, 50th and ``high`` percentiles of a figure (NaN without draws)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if not len(v):
        return (float("nan"),) * 3
    return tuple(float(x) for x in np.percentile(v, [low, 50.0, high]))


def phase_of(results: Sequence[PlanResult], n_sites: int) -> np.ndarray:
    """Return the index of the first year each site is chosen in (-1 if never), phases in order."""
    phase = np.full(n_sites, -1, dtype=np.int64)
    for year, r in enumerate(results):
        new = r.sites[phase[r.sites] < 0]
        phase[new] = year
    return phase


def split_by_gain(
    gains: Sequence[np.ndarray],
    costs: Sequence[np.ndarray],
    *,
    sites: int | None = None,
    budget: float | None = None,
) -> list[int]:
    """Share sites or a budget between territories by marginal gain; return sites per territory.

    ``gains[t]`` are territory t's greedy gains in rank order (non-increasing: each further
    site adds no more than the one before) and ``costs[t]`` the ranked sites' costs. The
    shared sites go one at a time to the territory whose next site adds the most weight (with
    a budget: the most weight per unit of cost, while it fits); ties go to the earlier
    territory. Each territory's share is then a prefix of its ranking.
    """
    taken = [0] * len(gains)
    left_sites = sites if sites is not None else sum(len(g) for g in gains)
    left_budget = budget if budget is not None else float("inf")

    def value(t: int) -> float:
        g, c = float(gains[t][taken[t]]), float(costs[t][taken[t]])
        if budget is None:
            return g
        return g / c if c > 0 else float("inf")

    # a heap of each territory's next site, best first (ties: the earlier territory)
    heap = [(-value(t), t) for t in range(len(gains)) if len(gains[t])]
    heapq.heapify(heap)
    while left_sites > 0 and heap:
        best_value, t = heapq.heappop(heap)
        if -best_value <= 0:
            break  # no territory's next site adds anything
        cost = float(costs[t][taken[t]])
        if cost > left_budget + 1e-9:
            continue  # its next site does not fit: its share ends here
        left_budget -= cost
        taken[t] += 1
        left_sites -= 1
        if taken[t] < len(gains[t]):
            heapq.heappush(heap, (-value(t), t))
    return taken
