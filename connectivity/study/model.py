"""The coverage model a study's plans share, and one plan solved over it (no Dask here).

A :class:`StudyModel` holds what every plan of a study needs and nothing it does not: the
site × point reach, the demand per analysis point, the existing service, the sites' costs and
where sites and points lie (localities, rural land). It is made once from a run's first stages
(:func:`model_from_inputs`) and sent to each worker once. :func:`solve_plan` solves one
:class:`PlanSpec` over it and returns a :class:`PlanResult`: the plan, its bound, and the
people and weight it covers in total and per locality. Everything here is deterministic: the
same model and spec give the same result on any worker.
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from connectivity import coverage, evaluation, mobile, planning
from connectivity.errors import OptimisationError, ScenarioError
from connectivity.optimise import InfeasibleError
from connectivity.scenario import MethodSpec

if TYPE_CHECKING:
    from connectivity.pipeline import PlanInputs

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StudyModel:
    """What every plan of a study is solved over (see the module's text).

    Attributes
    ----------
    name, title
        The scenario's name and title.
    crs
        The metric CRS of ``site_xy``.
    method
        The scenario's method: each plan replaces what its kind varies.
    matrix
        Site × analysis point reach, as the plan is judged (0–1).
    weights, population, existing
        Priority-weighted demand, people and existing coverage (0–1) per analysis point.
    costs
        Cost per site, in the scenario's cost units.
    site_ids, site_names, site_types, site_xy
        The candidate sites.
    groups
        Where sites and points lie (localities, rural land): what equity floors are over.
    areas, point_area
        The localities' codes (sorted) and each point's index into them.
    radius_m
        The service radius of a new site.
    internet_share_known
        Whether demand counts people without home internet (else every resident).
    rebuild
        The sites whose reach a drawn radius rebuilds (Wi-Fi candidates; new towers keep
        theirs), with the points' coordinates, radius and decay; None when radius draws are
        not asked for (the coordinates are then not sent).
    """

    name: str
    title: str
    crs: str
    method: MethodSpec
    matrix: sparse.csr_array
    weights: np.ndarray
    population: np.ndarray
    existing: np.ndarray
    costs: np.ndarray
    site_ids: np.ndarray
    site_names: np.ndarray
    site_types: np.ndarray
    site_xy: np.ndarray
    groups: planning.Groups
    areas: np.ndarray
    point_area: np.ndarray
    radius_m: float
    internet_share_known: bool = True
    rebuild: Rebuild | None = None

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.matrix.shape[0])


@dataclass(frozen=True, eq=False)
class Rebuild:
    """What a drawn service radius needs to rebuild the reach of the Wi-Fi candidates."""

    local: np.ndarray  # bool per site: reach by radius (not a new tower)
    point_xy: np.ndarray
    decay: Literal["binary", "linear"]


def model_from_inputs(pre: PlanInputs, *, with_points: bool = False) -> StudyModel:
    """Return the study model of a run's first stages (``with_points`` for radius draws)."""
    s = pre.scenario
    cand, points, cells = pre.candidates, pre.grid.points, pre.grid.cells
    groups = planning.Groups.of(cand, cells, points, pre.territory)
    areas = np.array(sorted(set(pre.territory.areas["area_code"].astype(str))), dtype=object)
    point_area = np.searchsorted(areas, groups.point_area.astype(str))
    rebuild = None
    if with_points:
        rebuild = Rebuild(
            local=(cand["type"] != mobile.TOWER_TYPE).to_numpy(),
            point_xy=points.xy,
            decay=s.candidates.decay,
        )
    return StudyModel(
        name=s.name,
        title=s.title,
        crs=s.territory.metric_crs,
        method=s.method,
        matrix=pre.reach.matrix,
        weights=points.demand_weight,
        population=points.population,
        existing=pre.existing.points,
        costs=cand["cost"].to_numpy(dtype=float),
        site_ids=cand["site_id"].astype(str).to_numpy(dtype=object),
        site_names=cand["name"].astype(str).to_numpy(dtype=object),
        site_types=cand["type"].astype(str).to_numpy(dtype=object),
        site_xy=planning.xy_of(cand),
        groups=groups,
        areas=areas,
        point_area=point_area,
        radius_m=s.candidates.radius_m,
        internet_share_known=s.demand.internet_share_column is not None,
        rebuild=rebuild,
    )


@dataclass(frozen=True)
class Draw:
    """A seeded perturbation of the uncertain inputs (robustness studies).

    ``seed`` and ``draw`` seed the generator; each locality's demand is multiplied by a factor
    drawn uniformly from ``1 ± demand_share`` (in the order of the sorted locality codes), then
    the radius is drawn uniformly from ``radius_m`` (when given).
    """

    seed: int
    draw: int
    demand_share: float = 0.0
    radius_m: tuple[float, float] | None = None

    def values(self, n_areas: int) -> tuple[np.ndarray, float | None]:
        """Return the factor per locality and the radius (None: the scenario's)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.draw]))
        factors = rng.uniform(1.0 - self.demand_share, 1.0 + self.demand_share, size=n_areas)
        radius = rng.uniform(*self.radius_m) if self.radius_m else None
        return factors, (float(radius) if radius is not None else None)


@dataclass(frozen=True)
class PlanSpec:
    """One plan of a study: what it changes in the scenario's method.

    ``index`` orders the plans in every output; ``sites`` or ``budget`` replace the
    scenario's (a plan with a budget and no sites is a budgeted model); floors replace the
    scenario's where given; ``mandatory`` adds sites (positions) that must be chosen (a later
    phase keeps the earlier ones); ``draw`` perturbs the inputs.
    """

    index: int
    kind: str
    plan: str
    algorithm: str
    sites: int | None = None
    budget: float | None = None
    min_share_per_area: float | None = None
    rural_min_share: float | None = None
    mandatory: tuple[int, ...] = ()
    draw: Draw | None = None
    year: str = ""
    territory: str = ""


@dataclass(frozen=True)
class PlanResult:
    """What one plan found (figures in the model's units; see :func:`solve_plan`)."""

    spec: PlanSpec
    status: str
    sites: np.ndarray
    cost: float
    objective: float
    bound: float
    gap: float
    people_covered: float
    people_newly_covered: float
    population: float
    weight_covered: float
    total_weight: float
    area_people: np.ndarray
    area_population: np.ndarray
    area_weight_covered: np.ndarray
    area_weight: np.ndarray
    radius_m: float
    seconds: float
    worker: str = ""
    peak_rss_mb: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """Whether a plan was found (not infeasible or failed)."""
        return not self.status.startswith(("infeasible", "failed"))

    @property
    def pct_people(self) -> float:
        """People covered after the plan, % of the population."""
        return _pct(self.people_covered, self.population)

    @property
    def pct_weight(self) -> float:
        """Priority-weighted demand covered after the plan, %."""
        return _pct(self.weight_covered, self.total_weight)

    @property
    def lowest_area_pct_weight(self) -> float:
        """The lowest locality's share of its weighted demand covered, % (what floors bind)."""
        has = self.area_weight > 0
        if not has.any():
            return float("nan")
        return float(100.0 * np.min(self.area_weight_covered[has] / self.area_weight[has]))

    @property
    def gini_people(self) -> float:
        """Gini of the people coverage rate across localities, weighted by population."""
        has = self.area_population > 0
        rate = self.area_people[has] / self.area_population[has]
        return evaluation.gini(rate, self.area_population[has])

    def with_notes(self, *notes: str) -> PlanResult:
        """Return the result with notes added."""
        return dataclasses.replace(self, notes=(*self.notes, *notes))


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole > 0 else 0.0


def drawn_inputs(
    model: StudyModel, draw: Draw | None
) -> tuple[sparse.csr_array, np.ndarray, float]:
    """Return the reach, the demand weights and the radius of a draw (the model's without)."""
    radius = model.radius_m
    if draw is None:
        return model.matrix, model.weights, radius
    factors, drawn_radius = draw.values(len(model.areas))
    weights = model.weights * factors[model.point_area]
    matrix = model.matrix
    if drawn_radius is not None:
        if model.rebuild is None:
            raise OptimisationError("a radius draw needs a model built with_points=True")
        rb = model.rebuild
        local = np.flatnonzero(rb.local)
        rows = coverage.coverage_matrix(
            model.site_xy[local], rb.point_xy, drawn_radius, decay=rb.decay, log=False
        )
        others = np.flatnonzero(~rb.local)  # new towers come after the Wi-Fi candidates
        if len(others):
            rows = sparse.vstack([rows, model.matrix[others]], format="csr")
        matrix = sparse.csr_array(rows)
        radius = drawn_radius
    return matrix, weights, radius


def solve_plan(model: StudyModel, spec: PlanSpec) -> PlanResult:
    """Solve one plan of a study over the shared model.

    The scenario's method, constraints and time limit apply, with what ``spec`` changes. An
    infeasible plan (a floor no set of sites can meet) is a result with status
    ``infeasible: <why>``, not an error, so a sweep shows where its floors stop being possible.
    """
    start = time.perf_counter()
    matrix, weights, radius = drawn_inputs(model, spec.draw)
    method = _method_of(model.method, spec)
    try:
        problem = planning.build_problem(
            method,
            matrix,
            weights,
            model.existing,
            model.costs,
            pd.Index(model.site_ids),
            model.groups,
            equity=True,
            mandatory=list(spec.mandatory),
        )
        problem.solve(spec.algorithm, time_limit_s=method.time_limit_s, mip_gap=method.mip_gap)  # type: ignore[arg-type]
    except (InfeasibleError, ScenarioError) as error:
        logger.warning("study: plan %s (%s) is infeasible: %s", spec.plan, spec.kind, error)
        return no_plan(model, spec, f"infeasible: {error}", radius=radius, start=start)
    assert problem.solution is not None
    sol = problem.solution
    sites = np.asarray(sol.ranking.sites, dtype=np.int64)
    after = np.minimum(
        model.existing + np.asarray(matrix[sites].sum(axis=0)).ravel()
        if len(sites)
        else model.existing,
        1.0,
    )
    before = np.minimum(model.existing, 1.0)
    return _result(
        model,
        spec,
        status=sol.status,
        sites=sites,
        objective=float(sol.objective),
        bound=float(sol.bound),
        gap=float(sol.gap),
        weights=weights,
        before=before,
        after=after,
        radius=radius,
        start=start,
    )


def _method_of(method: MethodSpec, spec: PlanSpec) -> MethodSpec:
    c = method.constraints
    constraints = dataclasses.replace(
        c,
        min_share_per_area=c.min_share_per_area
        if spec.min_share_per_area is None
        else spec.min_share_per_area,
        rural_min_share=c.rural_min_share if spec.rural_min_share is None else spec.rural_min_share,
    )
    if spec.sites is None and spec.budget is None:
        return dataclasses.replace(method, constraints=constraints)
    model: Literal["budgeted", "maximal_covering"] = (
        "budgeted" if spec.budget is not None else "maximal_covering"
    )
    return dataclasses.replace(
        method,
        model=model,
        sites=spec.sites,
        budget=spec.budget,
        target_coverage=None,
        constraints=constraints,
    )


def _result(
    model: StudyModel,
    spec: PlanSpec,
    *,
    status: str,
    sites: np.ndarray,
    objective: float,
    bound: float,
    gap: float,
    weights: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    radius: float,
    start: float,
) -> PlanResult:
    n = len(model.areas)
    pop = model.population

    def per_area(values: np.ndarray) -> np.ndarray:
        return np.bincount(model.point_area, weights=values, minlength=n)

    return PlanResult(
        spec=spec,
        status=status,
        sites=sites,
        cost=float(model.costs[sites].sum()) if len(sites) else 0.0,
        objective=objective,
        bound=bound,
        gap=gap,
        people_covered=float(pop @ after),
        people_newly_covered=float(pop @ (after - before)),
        population=float(pop.sum()),
        weight_covered=float(weights @ after),
        total_weight=float(weights.sum()),
        area_people=per_area(pop * after),
        area_population=per_area(pop),
        area_weight_covered=per_area(weights * after),
        area_weight=per_area(weights),
        radius_m=radius,
        seconds=time.perf_counter() - start,
        worker=_worker(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    )


def no_plan(
    model: StudyModel,
    spec: PlanSpec,
    status: str,
    *,
    radius: float | None = None,
    start: float | None = None,
) -> PlanResult:
    """Return a result with no site chosen (an infeasible plan, or a share of no sites)."""
    nan = float("nan")
    before = np.minimum(model.existing, 1.0)
    found = not status.startswith("infeasible")
    base = float(model.weights @ before)
    return _result(
        model,
        spec,
        status=status,
        sites=np.zeros(0, dtype=np.int64),
        objective=base if found else nan,
        bound=base if found else nan,
        gap=0.0 if found else nan,
        weights=model.weights,
        before=before,
        after=before,
        radius=model.radius_m if radius is None else radius,
        start=time.perf_counter() if start is None else start,
    )


def _worker() -> str:
    """Return the address of the Dask worker running this (empty outside one)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""
