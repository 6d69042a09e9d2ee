"""The ``study:`` section of a scenario: many plans over one coverage model.

Each kind is optional; a study runs the kinds it names. Values are checked here (no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Algorithm = Literal["greedy", "exact"]


@dataclass(kw_only=True)
class BudgetCurveSpec:
    """Plans at a list of site counts or budgets (in the scenario's cost units).

    ``algorithm`` defaults to the scenario's ``method.algorithm``; exact plans carry their
    bounds. A larger budget never covers less: where a smaller budget's plan covers more (an
    exact search stopped at its time limit), the larger budget keeps that plan, which it can
    afford, and says so.
    """

    sites: list[int] = field(default_factory=list)
    budgets: list[float] = field(default_factory=list)
    algorithm: Algorithm | None = None


@dataclass(kw_only=True)
class PhasesSpec:
    """A rollout by year: each year's sites are fixed in the next (plans are nested).

    Give ``sites_per_year`` or ``budget_per_year`` (one value per year, added to the years
    before); ``years`` labels them (default 1, 2, ...).
    """

    sites_per_year: list[int] = field(default_factory=list)
    budget_per_year: list[float] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    algorithm: Algorithm | None = None


@dataclass(kw_only=True)
class EquityFrontierSpec:
    """A sweep of coverage floors: per locality, for rural land, or both (shares 0–1).

    Each plan sets one floor of ``min_share_per_area`` and, pairwise, of ``rural_min_share``
    (a shorter list repeats its last value); every plan has the scenario's number of sites or
    budget.
    """

    min_share_per_area: list[float] = field(default_factory=list)
    rural_min_share: list[float] = field(default_factory=list)
    algorithm: Algorithm | None = None


@dataclass(kw_only=True)
class RobustnessSpec:
    """Seeded draws that perturb the uncertain inputs within stated ranges.

    ``demand_share`` (e.g. 0.15): each locality's priority-weighted demand is multiplied by a
    factor drawn uniformly from ``1 ± demand_share`` (census shares of homes without internet
    are estimates). ``radius_m`` (e.g. ``[60, 100]``): the service radius is drawn uniformly
    in that range (straight-line reach only). Every draw solves the scenario's plan again.
    """

    draws: int = 32
    seed: int = 0
    demand_share: float = 0.0
    radius_m: list[float] = field(default_factory=list)
    algorithm: Algorithm | None = None


@dataclass(kw_only=True)
class TerritoriesSpec:
    """Territories sharing one number of sites or one budget: split by marginal gain.

    The study's own scenario is the first territory; ``scenarios`` lists the others (paths
    relative to the scenario file). Each territory's sites are ranked greedily; the shared
    ``sites`` (or ``budget``, in the scenarios' common cost units) go, one site at a time, to
    the territory whose next site adds the most priority-weighted demand (per unit of cost
    with a budget), so the split follows the gains and not the territories' sizes. Each
    territory's share is then solved with ``algorithm`` (default: the scenario's).
    """

    scenarios: list[Path] = field(default_factory=list)
    sites: int | None = None
    budget: float | None = None
    algorithm: Algorithm | None = None


@dataclass(kw_only=True)
class StudySpec:
    """A study: which kinds to run (see each kind's text)."""

    budget_curve: BudgetCurveSpec | None = None
    phases: PhasesSpec | None = None
    equity_frontier: EquityFrontierSpec | None = None
    robustness: RobustnessSpec | None = None
    territories: TerritoriesSpec | None = None

    @property
    def kinds(self) -> list[str]:
        """The kinds this study runs, in the order they are run and written."""
        names = ["budget_curve", "phases", "equity_frontier", "robustness", "territories"]
        return [n for n in names if getattr(self, n) is not None]


MAX_PLANS = 2_000
"""At most this many plans in one study (a typo such as ``draws: 64000`` is refused)."""


def study_problems(study: StudySpec, *, reach: str) -> list[str]:
    """Return every problem in a study's values (empty if none)."""
    problems: list[str] = []
    if not study.kinds:
        problems.append(
            "study: name at least one of budget_curve, phases, equity_frontier, robustness, "
            "territories"
        )
    b = study.budget_curve
    if b is not None:
        if bool(b.sites) == bool(b.budgets):
            problems.append("study.budget_curve: give sites or budgets (one of them)")
        problems += _positive("study.budget_curve.sites", b.sites)
        problems += _positive("study.budget_curve.budgets", b.budgets)
    p = study.phases
    if p is not None:
        if bool(p.sites_per_year) == bool(p.budget_per_year):
            problems.append("study.phases: give sites_per_year or budget_per_year (one of them)")
        per_year = p.sites_per_year or p.budget_per_year
        problems += _positive("study.phases.sites_per_year", p.sites_per_year)
        problems += _positive("study.phases.budget_per_year", p.budget_per_year)
        if p.years and len(p.years) != len(per_year):
            problems.append(
                f"study.phases.years: {len(p.years)} years for {len(per_year)} yearly values"
            )
    e = study.equity_frontier
    if e is not None:
        if not (e.min_share_per_area or e.rural_min_share):
            problems.append(
                "study.equity_frontier: give min_share_per_area, rural_min_share or both"
            )
        for key, values in (
            ("min_share_per_area", e.min_share_per_area),
            ("rural_min_share", e.rural_min_share),
        ):
            bad = [v for v in values if not 0 <= v <= 1]
            if bad:
                problems.append(f"study.equity_frontier.{key}: shares lie in 0–1, got {bad[0]}")
    r = study.robustness
    if r is not None:
        if not 1 <= r.draws <= MAX_PLANS:
            problems.append(f"study.robustness.draws: 1 to {MAX_PLANS}, got {r.draws}")
        if not 0 <= r.demand_share < 1:
            problems.append(f"study.robustness.demand_share: 0 to below 1, got {r.demand_share}")
        if r.radius_m:
            if len(r.radius_m) != 2 or not 0 < r.radius_m[0] <= r.radius_m[1]:
                problems.append(
                    f"study.robustness.radius_m: [low, high] in metres, got {r.radius_m}"
                )
            if reach != "radius":
                problems.append(
                    "study.robustness.radius_m: needs straight-line reach (candidates.reach: "
                    "radius); walking reach follows the streets"
                )
        if not (r.demand_share or r.radius_m):
            problems.append("study.robustness: give demand_share, radius_m or both")
    t = study.territories
    if t is not None:
        if not t.scenarios:
            problems.append(
                "study.territories.scenarios: list the other territories' scenario files"
            )
        if (t.sites is None) == (t.budget is None):
            problems.append("study.territories: give sites or budget (one of them)")
        if t.sites is not None and t.sites < 1:
            problems.append(f"study.territories.sites: at least 1, got {t.sites}")
        if t.budget is not None and not t.budget > 0:
            problems.append(f"study.territories.budget: greater than 0, got {t.budget}")
    return problems


def _positive(key: str, values: list[int] | list[float]) -> list[str]:
    bad = [v for v in values if not v > 0]
    return [f"{key}: every value must be greater than 0, got {bad[0]}"] if bad else []
