r"""Choosing sites: coverage location models solved greedily or exactly.

Three models share one data layout, a sparse *site × cell* matrix of coverage qualities
:math:`q_{ji} \in (0, 1]` (1 = fully covered; less for distance decay or a weak signal), demand
weights :math:`w_i \ge 0`, site costs :math:`c_j` and the coverage :math:`q^0_i` that existing
service already gives. A cell's coverage is capped at one:

.. math:: \mathrm{cov}_i(x) = \min\bigl(1,\; q^0_i + \textstyle\sum_j q_{ji} x_j\bigr)

- :class:`MaximalCovering` — maximise :math:`\sum_i w_i\,\mathrm{cov}_i(x)` subject to
  :math:`\sum_j x_j \le k` (Church & ReVelle 1974).
- :class:`BudgetedMaximalCovering` — the same subject to :math:`\sum_j c_j x_j \le B`
  (Khuller, Moss & Naor 1999).
- :class:`SetCovering` — minimise :math:`\sum_j c_j x_j` subject to
  :math:`\sum_i w_i\,\mathrm{cov}_i(x) \ge s \sum_i w_i` (Toregas et al. 1971, with a target
  share :math:`s`).

Each takes :class:`GroupLimit` constraints (mandatory and excluded sites; a minimum or maximum
number of sites and a minimum coverage share for a group such as a locality or the rural area).

Methods:
- ``"greedy"`` — lazy greedy (Minoux 1978). With a budget, sites are taken by gain per unit cost
  and the result is compared with the best single affordable site (Khuller et al.), which
  guarantees at least :math:`\tfrac12(1 - 1/e)` of the optimum; with ``k`` sites and no other
  constraint the guarantee is :math:`1 - 1/e`. The gap to a bound is reported: the LP
  relaxation's where it is small enough to solve quickly; above that, a Lagrangian bound at the
  multipliers of HiGHS's first-order LP solver (PDLP), or from subgradient steps.
- ``"exact"`` — mixed-integer programming with HiGHS (``highspy``), with a time limit and a
  relative MIP gap, started from the greedy solution so a solution is always at hand. Before
  solving, cells covered by the same sites with the same qualities (and in the same constraint
  groups) are merged, summing their weights, and sites whose cells another available site
  covers at no more cost are fixed out. The bound reported is the better of HiGHS's dual bound
  and a Lagrangian bound. On models with ``k`` sites and full-quality coverage, the LP
  relaxation is solved first and rounded by diving; that plan is HiGHS's start, and sites whose
  reduced cost shows they cannot be in a better plan are left out of HiGHS's model. Where even
  the LP relaxation is too large to solve in the time limit, HiGHS's branch and bound cannot
  start: PDLP approximates the relaxation instead, the dive runs over the sites it values most,
  local search improves the plan and PDLP's multipliers give the bound (the status says so).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import heapq
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from scipy import sparse

from connectivity.errors import OptimisationError

logger = logging.getLogger(__name__)

Method = Literal["greedy", "exact"]
METHODS: tuple[str, ...] = ("greedy", "exact")


class InfeasibleError(OptimisationError):
    """The constraints cannot all be met; the message names the one that cannot."""


@dataclass(frozen=True)
class GroupLimit:
    """A constraint on a group of sites and cells (a locality, the rural area, ...).

    Parameters
    ----------
    name
        Shown in messages, e.g. ``"locality 05 USME"``.
    sites
        Boolean mask over sites: the sites that belong to the group.
    cells
        Boolean mask over cells: the cells that belong to the group.
    min_sites, max_sites
        Bounds on the number of chosen sites in the group.
    min_share
        Minimum share (0–1) of the group's demand weight that must be covered.
    """

    name: str
    sites: np.ndarray
    cells: np.ndarray
    min_sites: int = 0
    max_sites: int | None = None
    min_share: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """The chosen sites in rank order.

    Attributes
    ----------
    sites
        Row indices of the chosen sites, best first (ranked by greedy marginal gain).
    gains
        Demand weight newly covered by each chosen site, in rank order.
    newly_covered
        For each chosen site, the cell indices whose coverage it raised.
    covered
        Final coverage per cell (0–1), existing service included.
    total_cost
        Sum of the chosen sites' costs.
    """

    sites: np.ndarray
    gains: np.ndarray
    newly_covered: list[np.ndarray]
    covered: np.ndarray
    total_cost: float


@dataclass
class Solution:
    """What ``solve`` found: objective, bound, gap and the ranked sites."""

    method: str
    ranking: Ranking
    objective: float
    bound: float
    gap: float
    coverage_share: float
    total_cost: float
    status: str
    seconds: float
    n_cells_model: int = 0
    info: dict[str, float] = field(default_factory=dict)

    @property
    def selected(self) -> np.ndarray:
        """Indices of the chosen sites, best first."""
        return self.ranking.sites


# ---------------------------------------------------------------------------------------------
# Coverage helpers
# ---------------------------------------------------------------------------------------------


def coverage_from_distances(
    distances: sparse.csr_array, radius_m: float, *, decay: Literal["binary", "linear"] = "binary"
) -> sparse.csr_array:
    """Turn a sparse site × cell distance matrix into coverage qualities.

    ``binary`` gives 1 within ``radius_m``; ``linear`` falls from 1 at the site to 0 at the
    radius (partial coverage). Stored entries beyond the radius are dropped.
    """
    _check_radius(radius_m)
    d = sparse.csr_array(distances)
    keep = d.data <= radius_m
    if decay == "binary":
        q = np.ones(int(keep.sum()))
    elif decay == "linear":
        q = np.clip(1.0 - d.data[keep] / radius_m, 1e-6, 1.0)
    else:
        raise OptimisationError(f"unknown decay {decay!r}; use 'binary' or 'linear'")
    coo = d.tocoo()
    return sparse.csr_array((q, (coo.row[keep], coo.col[keep])), shape=d.shape)


def _check_radius(radius_m: float) -> None:
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise OptimisationError(
            f"the service radius must be a positive number of metres, got {radius_m}"
        )


def quality_from_geodataframes(
    demand: object,
    sites: object,
    service_radius: float,
    *,
    decay: Literal["binary", "linear"] = "binary",
) -> sparse.csr_array:
    """Return the site × demand coverage qualities of two GeoDataFrames in one metric CRS.

    ``service_radius`` is in metres; a CRS in other linear units (US feet, say) is converted.

    Raises
    ------
    OptimisationError
        The inputs are not GeoDataFrames, their CRSs differ (both are shown), the CRS is
        geographic (degrees: the message says how to reproject), or a geometry is empty or
        missing (the first one's index is shown).
    """
    import geopandas as gpd
    from scipy.spatial import cKDTree

    if not isinstance(demand, gpd.GeoDataFrame) or not isinstance(sites, gpd.GeoDataFrame):
        raise OptimisationError("demand and sites must be GeoDataFrames")
    _check_radius(service_radius)
    if demand.crs is None or sites.crs is None or demand.crs != sites.crs:
        raise OptimisationError(
            f"demand and sites must share one projected CRS (demand: {demand.crs}, "
            f"sites: {sites.crs})"
        )
    if not demand.crs.is_projected:
        raise OptimisationError(
            f"demand and sites are in {demand.crs.name} ({demand.crs.to_string()}), whose "
            "coordinates are not metres; reproject both to a metric CRS first, for example "
            "gdf.to_crs(demand.estimate_utm_crs())"
        )
    metres_per_unit = demand.crs.axis_info[0].unit_conversion_factor
    dxy = _points_xy(demand.geometry.values)
    sxy = _points_xy(sites.geometry.values)
    for name, frame, xy in (("demand", demand, dxy), ("sites", sites, sxy)):
        missing = np.flatnonzero(np.isnan(xy).any(axis=1))
        if len(missing):
            raise OptimisationError(
                f"{name} has {len(missing)} empty or missing geometries (first at index "
                f"{frame.index[missing[0]]!r}); drop or fix them first"
            )
    dxy, sxy = dxy * metres_per_unit, sxy * metres_per_unit
    dist = cKDTree(sxy).sparse_distance_matrix(
        cKDTree(dxy), service_radius, output_type="coo_matrix"
    )
    return coverage_from_distances(sparse.csr_array(dist), service_radius, decay=decay)


def _points_xy(geometries: Any) -> np.ndarray:
    """Return the coordinates of points, or of other geometries' centroids, as an n x 2 array.

    Empty geometries give NaN. Points are read as they are: taking the centroid of 200,000
    points first took 0.3 s, reading them 0.01 s.
    """
    import shapely

    geoms = np.asarray(geometries)
    if not np.all(shapely.get_type_id(geoms) == 0):  # 0: Point
        geoms = shapely.centroid(geoms)
    xy = np.full((len(geoms), 2), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy[present] = shapely.get_coordinates(geoms[present])
    return xy


def _as_quality(matrix: sparse.sparray | sparse.spmatrix | np.ndarray) -> sparse.csr_array:
    m = sparse.csr_array(matrix, dtype=float)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    if m.nnz and (m.data.min() < 0 or m.data.max() > 1 + 1e-12 or not np.isfinite(m.data).all()):
        raise OptimisationError("coverage qualities must lie between 0 and 1")
    return m


def covered_weight(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    sites: Sequence[int] | np.ndarray,
    existing: np.ndarray,
) -> float:
    r"""Return :math:`\sum_i w_i \min(1, q^0_i + \sum_{j \in S} q_{ji})` for a set of sites."""
    cov = existing.astype(float).copy()
    if len(sites):
        cov += np.asarray(matrix[np.asarray(sites, dtype=np.int64)].sum(axis=0)).ravel()
    return float(weights @ np.minimum(cov, 1.0))


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class _CoverageModel:
    """Shared data, validation, greedy and exact solvers of the coverage models."""

    name = "coverage"

    def __init__(
        self,
        matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        *,
        costs: np.ndarray | None = None,
        existing: np.ndarray | None = None,
        mandatory: Sequence[int] = (),
        excluded: Sequence[int] = (),
        limits: Sequence[GroupLimit] = (),
    ) -> None:
        self.matrix = _as_quality(matrix)
        n_sites, n_cells = self.matrix.shape
        self.weights = np.asarray(weights, dtype=float)
        if self.weights.shape != (n_cells,):
            raise OptimisationError(f"{self.weights.size} weights for {n_cells} cells")
        if np.any(self.weights < 0) or not np.all(np.isfinite(self.weights)):
            raise OptimisationError("demand weights must be finite and non-negative")
        self.costs = np.ones(n_sites) if costs is None else np.asarray(costs, dtype=float)
        if self.costs.shape != (n_sites,):
            raise OptimisationError(f"{self.costs.size} costs for {n_sites} sites")
        if np.any(self.costs < 0) or not np.all(np.isfinite(self.costs)):
            raise OptimisationError("site costs must be finite and non-negative")
        self.existing = (
            np.zeros(n_cells) if existing is None else np.clip(np.asarray(existing, float), 0, 1)
        )
        if self.existing.shape != (n_cells,):
            raise OptimisationError(
                f"{self.existing.size} existing-coverage values for {n_cells} cells"
            )
        self.mandatory = np.asarray(list(dict.fromkeys(int(s) for s in mandatory)), dtype=np.int64)
        self.excluded = np.asarray(sorted({int(s) for s in excluded}), dtype=np.int64)
        for label, idx in (("mandatory", self.mandatory), ("excluded", self.excluded)):
            if len(idx) and (idx.min() < 0 or idx.max() >= n_sites):
                raise OptimisationError(f"{label} site index out of range 0..{n_sites - 1}")
        both = np.intersect1d(self.mandatory, self.excluded)
        if len(both):
            raise InfeasibleError(f"site {int(both[0])} is both mandatory and excluded")
        self.limits = list(limits)
        for limit in self.limits:
            if limit.sites.shape != (n_sites,) or limit.cells.shape != (n_cells,):
                raise OptimisationError(f"limit '{limit.name}': masks do not match the matrix")
        self.solution: Solution | None = None

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        service_radius: float,
        *args: float,
        decay: Literal["binary", "linear"] = "binary",
        **kwargs: object,
    ) -> Self:
        """Build the model from a *cell × site* cost (distance) matrix, as spopt does.

        A dense matrix is compared with ``service_radius``; a sparse one is read through its
        stored entries only (missing = out of reach).
        """
        if sparse.issparse(cost_matrix):
            dist = sparse.csr_array(cost_matrix).T.tocsr()
        else:
            dense = np.asarray(cost_matrix, dtype=float).T
            rows, cols = np.nonzero(dense <= service_radius)
            dist = sparse.csr_array((dense[rows, cols], (rows, cols)), shape=dense.shape)
        quality = coverage_from_distances(dist, service_radius, decay=decay)
        return cls(quality, weights, *args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_geodataframe(
        cls,
        demand: Any,
        sites: Any,
        weight_column: str,
        service_radius: float,
        *args: float,
        decay: Literal["binary", "linear"] = "binary",
        cost_column: str | None = None,
        **kwargs: object,
    ) -> Self:
        """Build the model from point GeoDataFrames of demand and sites (same metric CRS)."""
        quality = quality_from_geodataframes(demand, sites, service_radius, decay=decay)
        if cost_column is not None:
            kwargs["costs"] = sites[cost_column].to_numpy(dtype=float)
        weights = demand[weight_column].to_numpy(dtype=float)
        return cls(quality, weights, *args, **kwargs)  # type: ignore[arg-type]

    # -- shared pieces --------------------------------------------------------------------------

    @property
    def total_weight(self) -> float:
        """Total demand weight."""
        return float(self.weights.sum())

    def _k(self) -> int | None:
        return None

    def _budget(self) -> float | None:
        return None

    def _target(self) -> float | None:
        return None

    def _check_feasible(self) -> None:
        """Raise :class:`InfeasibleError` naming a constraint that cannot be met."""
        k, budget = self._k(), self._budget()
        available = np.ones(self.matrix.shape[0], dtype=bool)
        available[self.excluded] = False
        if k is not None and len(self.mandatory) > k:
            raise InfeasibleError(f"{len(self.mandatory)} mandatory sites exceed k = {k}")
        mandatory_cost = float(self.costs[self.mandatory].sum())
        if budget is not None and mandatory_cost > budget + 1e-9:
            raise InfeasibleError(
                f"the mandatory sites cost {mandatory_cost:g}, more than the budget {budget:g}"
            )
        floor_total = 0
        for limit in self.limits:
            n_avail = int((limit.sites & available).sum())
            if limit.min_sites > n_avail:
                raise InfeasibleError(
                    f"'{limit.name}' needs at least {limit.min_sites} sites but has only "
                    f"{n_avail} candidate sites"
                )
            n_mand = int(limit.sites[self.mandatory].sum())
            if limit.max_sites is not None and n_mand > limit.max_sites:
                raise InfeasibleError(
                    f"'{limit.name}' allows at most {limit.max_sites} sites but {n_mand} are "
                    "mandatory"
                )
            if limit.max_sites is not None and limit.min_sites > limit.max_sites:
                raise InfeasibleError(
                    f"'{limit.name}': minimum {limit.min_sites} sites exceeds maximum "
                    f"{limit.max_sites}"
                )
            floor_total += limit.min_sites
            if limit.min_share > 0:
                best = covered_weight(  # every available site together: an upper bound
                    self.matrix[:, limit.cells],
                    self.weights[limit.cells],
                    np.flatnonzero(available),
                    self.existing[limit.cells],
                )
                group_w = float(self.weights[limit.cells].sum())
                if group_w > 0 and best < limit.min_share * group_w - 1e-9:
                    raise InfeasibleError(
                        f"'{limit.name}' needs {100 * limit.min_share:.1f}% of its demand "
                        f"covered but even every candidate site together covers only "
                        f"{100 * best / group_w:.1f}%"
                    )
        if k is not None and floor_total > k:
            raise InfeasibleError(
                f"the minimum numbers of sites per group add up to {floor_total}, more than k = {k}"
            )
        target = self._target()
        if target is not None and self.total_weight > 0:
            best = covered_weight(
                self.matrix, self.weights, np.flatnonzero(available), self.existing
            )
            if best < target * self.total_weight - 1e-9:
                raise InfeasibleError(
                    f"the target of {100 * target:.1f}% coverage cannot be reached: even every "
                    f"candidate site together covers only {100 * best / self.total_weight:.1f}%"
                )

    # -- greedy ---------------------------------------------------------------------------------

    def _greedy(self, progress: Callable[[int], None] | None, *, improve: bool = True) -> Ranking:
        m, w = self.matrix, self.weights
        indptr, indices, data = m.indptr, m.indices, m.data
        n_sites = m.shape[0]
        cov = self.existing.copy()
        k, budget = self._k(), self._budget()
        blocked = np.zeros(n_sites, dtype=bool)
        blocked[self.excluded] = True
        chosen: list[int] = []
        gains: list[float] = []
        new_cells: list[np.ndarray] = []
        spent = 0.0
        site_groups = [np.flatnonzero(limit.sites) for limit in self.limits]
        group_count = np.zeros(len(self.limits), dtype=np.int64)
        member = np.zeros((len(self.limits), n_sites), dtype=bool)
        for g, limit in enumerate(self.limits):
            member[g] = limit.sites

        def gain(site: int, weights: np.ndarray = w) -> float:
            lo, hi = indptr[site], indptr[site + 1]
            idx = indices[lo:hi]
            c = cov[idx]
            return float(weights[idx] @ (np.minimum(1.0, c + data[lo:hi]) - c))

        def take(site: int, g: float) -> None:
            nonlocal spent
            lo, hi = indptr[site], indptr[site + 1]
            idx = indices[lo:hi]
            before = cov[idx].copy()
            cov[idx] = np.minimum(1.0, before + data[lo:hi])
            chosen.append(site)
            gains.append(g)
            new_cells.append(idx[cov[idx] > before])
            spent += float(self.costs[site])
            blocked[site] = True
            group_count[:] += member[:, site]
            if progress is not None:
                progress(1)

        def allowed(site: int) -> bool:
            if blocked[site]:
                return False
            if budget is not None and spent + self.costs[site] > budget + 1e-9:
                return False
            return not any(
                limit.max_sites is not None
                and member[g, site]
                and group_count[g] >= limit.max_sites
                for g, limit in enumerate(self.limits)
            )

        def room() -> bool:
            return k is None or len(chosen) < k

        def run(
            pool: np.ndarray, done: Callable[[], bool], by_ratio: bool, weights: np.ndarray = w
        ) -> None:
            def key(site: int, g: float) -> float:
                return g / max(self.costs[site], 1e-12) if by_ratio else g

            heap = [(-key(int(s), gain(int(s), weights)), int(s)) for s in pool if not blocked[s]]
            heapq.heapify(heap)
            while heap and room() and not done():
                neg, site = heapq.heappop(heap)
                if not allowed(site):
                    continue
                g = gain(site, weights)
                fresh = key(site, g)
                if heap and fresh < -heap[0][0] - 1e-12 and fresh < -neg - 1e-12:
                    heapq.heappush(heap, (-fresh, site))
                    continue
                if g <= 1e-12 and (done is _never or weights is not w):
                    break
                take(site, gain(site))

        for site in self.mandatory:
            take(int(site), gain(int(site)))

        by_ratio = budget is not None and not np.allclose(self.costs, self.costs[0])
        for g, limit in enumerate(self.limits):
            cells = limit.cells
            group_w = float(w[cells].sum())

            def floor_met(
                g: int = g,
                limit: GroupLimit = limit,
                cells: np.ndarray = cells,
                group_w: float = group_w,
            ) -> bool:
                if group_count[g] < limit.min_sites:
                    return False
                if limit.min_share > 0 and group_w > 0:
                    return float(w[cells] @ np.minimum(cov[cells], 1.0)) >= (
                        limit.min_share * group_w - 1e-9
                    )
                return True

            if not floor_met():
                # the site count from the group's own sites, then the share from any site,
                # choosing by the gain on the group's cells
                if group_count[g] < limit.min_sites:

                    def count_met(g: int = g, n: int = limit.min_sites) -> bool:
                        return bool(group_count[g] >= n)

                    run(site_groups[g], count_met, by_ratio)
                if limit.min_share > 0:
                    run(np.arange(n_sites), floor_met, by_ratio, np.where(cells, w, 0.0))
                if not floor_met():
                    raise InfeasibleError(
                        f"greedy could not meet the floor of '{limit.name}' within the "
                        "number of sites or budget left"
                    )
        target = self._target()
        if target is not None:
            goal = target * self.total_weight

            def target_met() -> bool:
                return float(w @ np.minimum(cov, 1.0)) >= goal - 1e-9

            run(np.arange(n_sites), target_met, by_ratio=True)
            if not target_met():
                reached = 100 * float(w @ np.minimum(cov, 1.0)) / self.total_weight
                raise InfeasibleError(
                    f"the target of {100 * target:.1f}% coverage cannot be reached "
                    f"(greedy reached {reached:.1f}%)"
                )
        else:
            run(np.arange(n_sites), _never, by_ratio)
        ranking = Ranking(
            sites=np.asarray(chosen, dtype=np.int64),
            gains=np.asarray(gains, dtype=float),
            newly_covered=new_cells,
            covered=cov,
            total_cost=spent,
        )
        if budget is not None and by_ratio and not self.limits and not len(self.mandatory):
            ranking = self._best_single_if_better(ranking)
        if improve:
            ranking = self._interchange(ranking)
        return ranking

    def _iterated_interchange(
        self,
        ranking: Ranking,
        *,
        patience: int = 15,
        max_rounds: int = 60,
        seed: int = 0,
        max_seconds: float | None = None,
        bound: float | None = None,
    ) -> Ranking:
        """Interchange, then escape its local optimum by perturbation (iterated local search).

        Each round drops up to a third of the plan's sites at random (never mandatory ones), refills
        greedily without them, and runs the interchange again; a round's plan replaces the best
        only when it covers more. Stops after ``patience`` rounds without improvement, after
        ``max_rounds``, when the rounds have scanned for swaps twice as often as the first
        interchange did (at least 100 times), or after ``max_seconds``. The budget is counted in
        work, not time, so that the same instance gives the same plan (it is seeded) on any
        machine; only ``max_seconds`` (used under the exact solver's time limit) depends on
        the clock. Stops as soon as the plan reaches ``bound`` (a bound on the objective, such
        as the LP relaxation's), where it is proven optimal.
        """
        import time

        start = time.perf_counter()
        best = self._interchange(ranking)
        if not self._interchange_applies(best):
            return best
        scans_left = max(100, 2 * self._scans)
        m = self.matrix
        w_open = self._open_weights()
        best_value = float(w_open @ (m[best.sites].sum(axis=0) > 0)) if len(best.sites) else 0.0
        # the k best single-site gains bound any plan (coverage is submodular): when the plan
        # reaches that bound it is optimal and there is nothing to search for
        singles = m @ w_open
        singles[self.excluded] = 0.0
        k = len(best.sites)
        ceiling = float(np.sort(singles)[-k:].sum())
        if bound is not None and np.isfinite(bound):  # in covered open weight, as best_value
            ceiling = min(ceiling, bound - covered_weight(m, self.weights, [], self.existing))
        if best_value >= ceiling - 1e-9:
            return best
        fixed = {int(s) for s in self.mandatory}
        rng = np.random.default_rng(seed)
        stale = 0
        for _ in range(max_rounds):
            out_of_time = max_seconds is not None and time.perf_counter() - start > max_seconds
            if stale >= patience or scans_left <= 0 or out_of_time:
                break
            sites = [int(s) for s in best.sites]
            free = [i for i, s in enumerate(sites) if s not in fixed]
            n_drop = min(len(free), int(rng.integers(1, max(2, len(sites) // 3 + 1))))
            if n_drop == 0:
                break
            drop = set(rng.choice(free, size=n_drop, replace=False).tolist())
            banned = np.zeros(m.shape[0], dtype=bool)
            banned[self.excluded] = True
            banned[[sites[i] for i in drop]] = True
            kept = self._greedy_fill([s for i, s in enumerate(sites) if i not in drop], banned, k)
            trial = self._interchange(
                rank_selection(self.matrix, self.weights, kept, self.existing, self.costs)
            )
            scans_left -= self._scans
            value = float(w_open @ (m[trial.sites].sum(axis=0) > 0))
            if value > best_value + 1e-9:
                best, best_value, stale = trial, value, 0
                if best_value >= ceiling - 1e-9:
                    break
            else:
                stale += 1
        return best

    def _greedy_fill(self, sites: list[int], banned: np.ndarray, k: int) -> list[int]:
        """Add sites to ``sites`` by greatest added weight until there are ``k``.

        Full-quality coverage only (where the interchange applies); ``banned`` sites and those
        already in ``sites`` are never added, and filling stops early when no other site adds
        weight (as the greedy method does), so ``k`` may exceed the sites there are.
        """
        m = self.matrix
        open_w = self._open_weights()
        if sites:
            open_w[np.asarray(m[sites].sum(axis=0)).ravel() > 0] = 0.0
        banned = banned.copy()
        banned[sites] = True
        sites = list(sites)
        while len(sites) < k:
            gain = m @ open_w
            gain[banned] = -np.inf
            a = int(np.argmax(gain))
            if not gain[a] > 0:  # every site left is banned or adds nothing
                break
            sites.append(a)
            banned[a] = True
            open_w[m.indices[m.indptr[a] : m.indptr[a + 1]]] = 0.0
        return sites

    def _open_weights(self) -> np.ndarray:
        """Each cell's weight times the part existing coverage leaves open, :math:`w_i (1 - q^0_i)`.

        With full-quality coverage, a chosen site covering a cell adds exactly this, so the
        interchange and local search, which sum it over covered cells, rank plans as the
        objective does (existing coverage between 0 and 1 included).
        """
        return self.weights * (1.0 - np.minimum(self.existing, 1.0))

    def _swaps_apply(self) -> bool:
        """Whether the model suits the interchange: k sites, full quality, no other rules."""
        m = self.matrix
        return not (
            self._k() is None
            or self._budget() is not None
            or bool(self.limits)
            or not m.nnz
            or m.data.min() < 1.0
        )

    def _interchange_applies(self, ranking: Ranking) -> bool:
        return self._swaps_apply() and len(ranking.sites) >= 1

    def _dive_applies(self) -> bool:
        """Whether the exact method dives from the LP relaxation (k sites, the LP solvable)."""
        return self._swaps_apply() and self._merged_cells()[0].nnz <= _LP_BOUND_MAX_NNZ

    def _interchange(self, ranking: Ranking, max_passes: int = 50) -> Ranking:
        """Improve a plan by swapping chosen sites for others (Teitz & Bart 1968).

        Applied to full-quality coverage with a number of sites and no group limits; each swap
        must raise the covered weight, so the result is never worse than the greedy plan. Uses
        the fast-interchange bookkeeping (Whitaker 1983): how many chosen sites cover each
        cell, and which one when only one does. ``self._scans`` counts its scans for swaps.
        """
        self._scans = 0
        m = self.matrix
        if not self._interchange_applies(ranking):
            return ranking
        indptr, indices = m.indptr, m.indices
        w = self._open_weights()
        chosen = [int(s) for s in ranking.sites]
        fixed = {int(s) for s in self.mandatory}
        blocked = np.zeros(m.shape[0], dtype=bool)
        blocked[self.excluded] = True
        count = np.zeros(m.shape[1], dtype=np.int64)
        for site in chosen:
            count[indices[indptr[site] : indptr[site + 1]]] += 1
        improved_any = False
        for _ in range(max_passes):
            self._scans += 1
            in_plan = np.zeros(m.shape[0], dtype=bool)
            in_plan[chosen] = True
            # owner of each singly covered cell
            owner = np.full(m.shape[1], -1, dtype=np.int64)
            loss = np.zeros(len(chosen))
            for pos, site in enumerate(chosen):
                cells = indices[indptr[site] : indptr[site + 1]]
                single = cells[count[cells] == 1]
                owner[single] = pos
                loss[pos] = w[single].sum()
            loss_fixed = np.array(
                [np.inf if s in fixed else v for s, v in zip(chosen, loss, strict=True)]
            )
            open_w = np.where(count > 0, 0.0, w)
            gain = m @ open_w
            gain[in_plan | blocked] = -np.inf
            best_pair = self._best_swap(gain, owner, w, loss_fixed)
            if best_pair is None:
                break
            j, a = best_pair
            out_site = chosen[j]
            count[indices[indptr[out_site] : indptr[out_site + 1]]] -= 1
            count[indices[indptr[a] : indptr[a + 1]]] += 1
            chosen[j] = a
            improved_any = True
        if not improved_any:
            return ranking
        return rank_selection(self.matrix, self.weights, chosen, self.existing, self.costs)

    def _best_swap(
        self, gain: np.ndarray, owner: np.ndarray, w: np.ndarray, loss: np.ndarray
    ) -> tuple[int, int] | None:
        """Return the swap (plan position, site in) of largest net gain above zero, if any.

        The net gain of bringing site ``a`` in for the site at position ``j`` is what ``a``
        adds, minus what only ``j`` covered, plus what of that ``a`` covers too. All of them
        at once: the overlaps are one sparse product of the candidates' rows with the cells
        each chosen site alone covers. Among equal nets, the site with the larger added gain
        (then the lower index) and the earlier position win.
        """
        rows = np.flatnonzero(gain > 1e-9)  # a net gain never exceeds the added gain
        if not len(rows):
            return None
        k = len(loss)
        single = np.flatnonzero(owner >= 0)
        alone = sparse.csr_array(
            (w[single], (single, owner[single])), shape=(self.matrix.shape[1], k)
        )
        overlap = (self.matrix[rows] @ alone).toarray() if len(single) else np.zeros((len(rows), k))
        net = gain[rows, None] - loss[None, :] + overlap
        best_j = np.argmax(net, axis=1)
        best_net = net[np.arange(len(rows)), best_j]
        top = float(best_net.max())
        if not top > 1e-9:
            return None
        tied = np.flatnonzero(best_net == top)
        pick = tied[np.lexsort((rows[tied], -gain[rows[tied]]))[0]]
        return int(best_j[pick]), int(rows[pick])

    def _best_single_if_better(self, ranking: Ranking) -> Ranking:
        budget = self._budget()
        assert budget is not None
        affordable = np.flatnonzero(self.costs <= budget + 1e-9)
        affordable = np.setdiff1d(affordable, self.excluded)
        if not len(affordable):
            return ranking
        open_w = self._open_weights()
        single = np.asarray(self.matrix[affordable] @ open_w).ravel()
        best = int(affordable[int(np.argmax(single))])
        if (
            covered_weight(self.matrix, self.weights, [best], self.existing)
            > covered_weight(self.matrix, self.weights, ranking.sites, self.existing) + 1e-9
        ):
            return rank_selection(self.matrix, self.weights, [best], self.existing, self.costs)
        return ranking

    # -- exact ----------------------------------------------------------------------------------

    def _merged_cells(self) -> tuple[sparse.csr_array, np.ndarray, np.ndarray, list[np.ndarray]]:
        """Merge cells with identical coverage columns, existing coverage and group membership.

        Computed once per set of limits (the LP bound, the MILP and the Lagrangian bound all
        use it).

        Returns the merged cell × site quality matrix, merged weights, merged existing coverage
        and, for every limit, the merged cells' membership masks.
        """
        key = tuple(id(limit) for limit in self.limits)
        cached = getattr(self, "_merged_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        result = self._merge_cells()
        self._merged_cache = (key, result)
        return result

    def _merge_cells(self) -> tuple[sparse.csr_array, np.ndarray, np.ndarray, list[np.ndarray]]:
        cols = self.matrix.T.tocsr()  # cell × site
        cols.sort_indices()
        open_cells = (np.diff(cols.indptr) > 0) & (self.existing < 1.0) & (self.weights > 0)
        share_limits = [lim for lim in self.limits if lim.min_share > 0]
        extra_keys = [self.existing] + [lim.cells for lim in share_limits]
        group_of = _identical_rows(cols, open_cells, extra_keys)
        if group_of is None:  # two different cells hashed alike: group them one by one
            group_of = _identical_rows_by_bytes(cols, open_cells, extra_keys)
        n_groups = int(group_of.max()) + 1 if len(group_of) else 0
        rows = np.flatnonzero(group_of >= 0)
        _, first_pos = np.unique(group_of[rows], return_index=True)
        first = rows[first_pos]  # representative cell of each merged group
        merged_q = cols[first] if n_groups else sparse.csr_array((0, self.matrix.shape[0]))
        merged_w = np.bincount(group_of[rows], weights=self.weights[rows], minlength=n_groups)
        merged_e = self.existing[first] if n_groups else np.zeros(0)
        masks = [lim.cells[first] if n_groups else np.zeros(0, bool) for lim in self.limits]
        return sparse.csr_array(merged_q), merged_w, merged_e, masks

    def _dominated_sites_cached(self, q: sparse.csr_array) -> np.ndarray:
        """:meth:`_dominated_sites` of the merged matrix ``q``, computed once per ``q``."""
        cached = getattr(self, "_dominated_cache", None)
        if cached is None or cached[0] is not q:
            cached = (q, self._dominated_sites(q))
            self._dominated_cache = cached
        return cached[1]

    def _dominated_sites(self, q: sparse.csr_array) -> np.ndarray:
        """Sites that can be left out of the MILP without changing its optimum.

        A site that covers no open cell is dominated. With full-quality coverage, so is a site
        whose cells are all covered by another site that is not excluded, costs no more and
        is in the same constraint groups: in any plan, the one can replace the other, or the
        dominated site adds nothing when both are chosen. Among sites covering the same cells at
        the same cost, the lowest index stays. Mandatory sites, and sites in a group with a
        minimum number of sites (the count may need them), are kept.

        On the benchmark's 10,000 x 1,000 instance at 800 m this leaves out 124 of the 981
        sites that cover an open cell.
        """
        n_sites = self.matrix.shape[0]
        rows = q.T.tocsr()  # site x merged cell
        protected = np.zeros(n_sites, dtype=bool)
        protected[self.mandatory] = True
        for limit in self.limits:
            if limit.min_sites > 0:
                protected |= limit.sites
        size = np.diff(rows.indptr)
        dominated = (size == 0) & ~protected
        if rows.nnz and rows.data.min() < 1.0:
            return dominated  # partial qualities add up, so a covered subset is not redundant
        available = np.ones(n_sites, dtype=bool)
        available[self.excluded] = False
        if self.limits:
            memberships = np.column_stack([lim.sites for lim in self.limits])
            group = np.unique(memberships, axis=0, return_inverse=True)[1].ravel()
        else:
            group = np.zeros(n_sites, dtype=np.int64)
        # a site's dominators all cover its least-covered cell: those are the pairs to test
        cover_count = np.diff(q.indptr)  # sites covering each merged cell
        rows.sort_indices()
        site_of = np.repeat(np.arange(n_sites), size)
        rarest_first = rows.indices[np.lexsort((cover_count[rows.indices], site_of))]
        has = np.flatnonzero((size > 0) & ~protected)
        rarest = rarest_first[rows.indptr[:-1][has]]
        n_by = cover_count[rarest]
        j = np.repeat(has, n_by)
        within = np.arange(n_by.sum()) - np.repeat(np.cumsum(n_by) - n_by, n_by)
        by = q.indices[np.repeat(q.indptr[rarest], n_by) + within]  # is j dominated by `by`?
        cost = self.costs
        keep = (
            (j != by)
            & available[by]
            & (size[by] >= size[j])
            & (cost[by] <= cost[j])
            & (group[by] == group[j])
            & (  # strictly better, or a twin with a lower index
                (size[by] > size[j]) | (cost[by] < cost[j]) | (by < j)
            )
        )
        j, by = j[keep], by[keep]
        # then check j's other cells, rarest first, dropping a pair at its first miss
        n_cells = rows.shape[1]
        covers = site_of.astype(np.int64) * n_cells + rows.indices  # sorted (site, cell) keys
        step = 1
        while len(j):
            probing = np.flatnonzero(size[j] > step)
            if not len(probing):
                break
            probe = (
                by[probing].astype(np.int64) * n_cells
                + rarest_first[rows.indptr[j[probing]] + step]
            )
            at = np.minimum(np.searchsorted(covers, probe), len(covers) - 1)
            alive = np.ones(len(j), dtype=bool)
            alive[probing[covers[at] != probe]] = False
            j, by = j[alive], by[alive]
            step += 1
        dominated[j] = True
        return dominated

    def _exact(
        self,
        time_limit_s: float | None,
        mip_gap: float,
        relax: bool = False,
        start_sites: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, float, float, str, int]:
        """Solve the MILP (or its LP relaxation); returns x, objective, bound, status, cells.

        The time limit covers building the model as well as HiGHS's run.
        """
        began = time.perf_counter()
        model = self._milp(relax)
        n_sites, n_cells, base = model.n_sites, model.n_cells, model.base
        start = None
        if start_sites is not None and not relax:
            x0 = np.zeros(n_sites)
            x0[start_sites] = 1.0
            y0 = np.minimum(model.ub[n_sites:], model.q @ x0) if n_cells else np.zeros(0)
            start = np.concatenate([x0, y0])
        time_limit_s = _seconds_left(time_limit_s, began, floor=0.5)
        solve = functools.partial(_run_highs, model, time_limit_s=time_limit_s, mip_gap=mip_gap)
        run = solve(start=start)
        if start is not None and run.x is not None and not self._consistent(run, base, relax):
            # seen with HiGHS 1.16: after a MIP start, a model solved in presolve came back
            # "optimal" with the start's sites and a wrong objective; solve again without it
            logger.debug("optimise: HiGHS answer after the MIP start is inconsistent; re-solving")
            run = solve(start=None)
        if run.status == "infeasible":
            return None, np.nan, np.nan, run.status, n_cells
        if run.x is None:
            raise OptimisationError(f"HiGHS found no solution ({run.status})")
        if model.minimise_cost:
            objective, bound = run.objective, run.bound
        else:
            objective, bound = base - run.objective, base - run.bound
        return run.x[:n_sites], objective, bound, run.status, n_cells

    def _milp(self, relax: bool) -> _Milp:
        """Build the MILP (or its LP relaxation) over the merged cells as arrays for HiGHS."""
        q, w, e, masks = self._merged_cells()
        n_sites = self.matrix.shape[0]
        n_cells = q.shape[0]
        base = covered_weight(self.matrix, self.weights, [], self.existing)
        k, budget, target = self._k(), self._budget(), self._target()
        minimise_cost = target is not None
        # variables: x (sites) then y (added coverage of merged cells, 0..1-e)
        c = (
            np.concatenate([self.costs, np.zeros(n_cells)])
            if minimise_cost
            else np.concatenate([np.zeros(n_sites), -w])
        )
        lb = np.zeros(n_sites + n_cells)
        ub = np.concatenate([np.ones(n_sites), 1.0 - e])
        ub[:n_sites][self._dominated_sites_cached(q)] = 0.0
        lb[self.mandatory] = 1.0
        ub[self.excluded] = 0.0
        rows: list[sparse.sparray] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        if n_cells:  # y_i - sum_j q_ij x_j <= 0
            rows.append(sparse.hstack([-q, sparse.eye_array(n_cells)], format="csr"))
            lo.append(np.full(n_cells, -np.inf))
            hi.append(np.zeros(n_cells))

        def add(
            row_x: np.ndarray | None, row_y: np.ndarray | None, low: float, high: float
        ) -> None:
            rx = np.zeros(n_sites) if row_x is None else row_x
            ry = np.zeros(n_cells) if row_y is None else row_y
            rows.append(sparse.csr_array(np.concatenate([rx, ry])[None, :]))
            lo.append(np.array([low]))
            hi.append(np.array([high]))

        if k is not None:
            add(np.ones(n_sites), None, -np.inf, k)
        if budget is not None:
            add(self.costs.astype(float), None, -np.inf, budget)
        if target is not None:
            add(None, w, target * self.total_weight - base, np.inf)
        for limit, mask in zip(self.limits, masks, strict=True):
            if limit.min_sites > 0 or limit.max_sites is not None:
                high = np.inf if limit.max_sites is None else float(limit.max_sites)
                add(limit.sites.astype(float), None, float(limit.min_sites), high)
            if limit.min_share > 0:
                group_w = float(self.weights[limit.cells].sum())
                group_base = covered_weight(
                    self.matrix[:, limit.cells],
                    self.weights[limit.cells],
                    [],
                    self.existing[limit.cells],
                )
                add(None, np.where(mask, w, 0.0), limit.min_share * group_w - group_base, np.inf)
        return _Milp(
            c=c,
            matrix=sparse.vstack(rows, format="csr") if rows else None,
            row_lo=np.concatenate(lo) if lo else np.zeros(0),
            row_hi=np.concatenate(hi) if hi else np.zeros(0),
            lb=lb,
            ub=ub,
            integrality=np.concatenate([np.full(n_sites, 0 if relax else 1), np.zeros(n_cells)]),
            q=q,
            n_sites=n_sites,
            base=base,
            minimise_cost=minimise_cost,
            weighted_rows=budget is not None
            or target is not None
            or any(limit.min_share > 0 for limit in self.limits),
        )

    def _lp_dive(self, warm: Ranking, time_limit_s: float | None) -> Ranking:
        """Round the LP relaxation by diving; return the better of that plan and ``warm``."""
        return self._dive_with_relaxation(warm, time_limit_s)[0]

    def _dive_with_relaxation(
        self, warm: Ranking, time_limit_s: float | None, *, lp_time_s: float | None = None
    ) -> tuple[Ranking, _Relaxation | None]:
        """Round the LP relaxation by diving; return the better of that plan and ``warm``.

        A primal heuristic for maximal-covering models: on large ones HiGHS cannot close the
        search in the time limit and the plan it returns is the one it started from; on smaller
        ones a near-optimal plan lets reduced-cost fixing drop most sites. Solves the LP
        relaxation, then repeatedly fixes the sites with the largest fractional values to 1 and
        re-solves (dual simplex from the last basis), ``ceil(k / 20)`` sites at a time, until
        the LP solution is integral; fills any sites left greedily and improves the plan by
        interchange. On the benchmark's 40,000 x 10,000 instance at 300 m (k = 200) the plan
        covers 591,232 in 16 s, against 581,919 for greedy with iterated local search and
        592,207 for HiGHS after 20 minutes.

        Up to 200,000 nonzeros the LP is solved by primal simplex: no site chosen is a feasible
        start, and on the benchmark's 5,000 x 500 instance at 800 m it takes 0.05 s where dual
        simplex takes 0.30 s. Also returns the LP's optimum and reduced costs, for
        :meth:`_fixed_by_reduced_cost`.

        Applies to ``k`` sites with full-quality coverage and no group limits (where the
        interchange applies) on models up to 500,000 nonzeros after merging; otherwise, or when
        the LP is not solved within the time limit, returns ``warm`` and None. ``lp_time_s``, if
        longer, lets the LP run past ``time_limit_s``; the plan is then the LP's sites at 1,
        filled greedily and improved by interchange, without diving.
        """
        # above _LP_BOUND_MAX_NNZ (measured: 40,000 x 10,000 at 800 m, 2.8 million nonzeros,
        # and 200,000 x 10,000) the LP was not solved in 24 s, and interior point overran the
        # time limit there
        k = self._k()
        if k is None or not len(warm.sites) or not self._dive_applies():
            return warm, None
        started = time.perf_counter()

        def left() -> float | None:
            return _seconds_left(time_limit_s, started, floor=-np.inf)

        model = self._milp(relax=True)
        lp_limit_s = time_limit_s
        if time_limit_s is not None and lp_time_s is not None:
            lp_limit_s = max(time_limit_s, lp_time_s)
        h = _highs(model, time_limit_s=lp_limit_s, mip_gap=0.0)
        if model.matrix is not None and model.matrix.nnz <= _IPM_MIN_NNZ:
            h.setOptionValue("simplex_strategy", _PRIMAL_SIMPLEX)
        h.run()
        run = _highs_result(h, is_mip=False)
        if run.status != "optimal" or run.x is None:
            logger.debug("optimise: the LP for the dive was not solved in time; skipped")
            return warm, None
        relaxation = _Relaxation(
            objective=run.objective,
            bound=model.base - run.objective,
            values=run.x[: model.n_sites].copy(),
            reduced_costs=np.asarray(h.getSolution().col_dual, dtype=float)[: model.n_sites],
        )
        x = run.x
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", _DUAL_SIMPLEX)  # the re-solves start infeasible
        per_step = -(-k // 20)
        n_sites = model.n_sites
        while True:
            xs = x[:n_sites]
            frac = np.flatnonzero((xs > 1e-6) & (xs < 1 - 1e-6))
            remaining = left()
            if not len(frac) or (remaining is not None and remaining <= 0):
                break
            for j in frac[np.argsort(-xs[frac], kind="stable")][:per_step]:
                h.changeColBounds(int(j), 1.0, 1.0)
            if remaining is not None:  # HiGHS counts its time limit over all runs
                h.setOptionValue("time_limit", h.getRunTime() + remaining)
            h.run()
            run = _highs_result(h, is_mip=False)
            if run.status != "optimal" or run.x is None:
                break
            x = run.x
        banned = np.zeros(n_sites, dtype=bool)
        banned[self.excluded] = True
        # filled greedily when the dive stopped before the LP solution was integral
        sites = self._greedy_fill(
            [int(j) for j in np.flatnonzero(x[:n_sites] > 1 - 1e-6)], banned, k
        )
        plan = self._interchange(
            rank_selection(self.matrix, self.weights, sites, self.existing, self.costs)
        )
        dive, before = self._objective_of(plan), self._objective_of(warm)
        logger.debug(
            "optimise: LP dive %.1f against %.1f (%.1f s)",
            dive,
            before,
            time.perf_counter() - started,
        )
        return (plan if dive > before + 1e-9 else warm), relaxation

    def _fixed_by_reduced_cost(self, relaxation: _Relaxation, plan: Ranking) -> np.ndarray:
        """Sites that no plan containing them can make better than ``plan`` (reduced-cost fixing).

        A site at zero in the LP optimum with reduced cost :math:`d_j` caps every plan that
        contains it at the LP optimum less :math:`d_j`; when that is below ``plan``'s coverage,
        the site cannot be in a better plan. Sites in ``plan`` and mandatory sites are never
        fixed. On the benchmark's 5,000 x 500 instance at 800 m, with the dive's plan, this fixes
        364 of 500 sites.
        """
        base = covered_weight(self.matrix, self.weights, [], self.existing)
        incumbent = -(self._objective_of(plan) - base)  # HiGHS's minimisation form
        tolerance = 1e-7 * max(1.0, abs(incumbent))
        fixed = (relaxation.values < 1e-9) & (
            relaxation.objective + relaxation.reduced_costs > incumbent + tolerance
        )
        fixed[plan.sites] = False
        fixed[self.mandatory] = False
        return fixed

    def _exact_on_remaining(
        self, plan: Ranking, fixed: np.ndarray, time_limit_s: float | None, mip_gap: float
    ) -> tuple[Ranking, float, str, int]:
        """Solve the MILP over the sites not ``fixed`` out, started from ``plan``.

        Leaving the fixed sites out of the model (rather than bounding them at zero) also drops
        the cells only they reach and merges cells anew, so the model HiGHS gets is smaller. The
        bound it proves holds for the whole model: a plan with a fixed site covers less than
        ``plan``. Returns the plan (never worse than ``plan``), the bound, HiGHS's status and the
        number of merged cells in its model.
        """
        k = self._k()
        assert k is not None
        keep = np.union1d(np.flatnonzero(~fixed), plan.sites)
        keep = np.setdiff1d(keep, self.excluded)
        keep = np.union1d(keep, self.mandatory).astype(np.int64)
        sub = self._restricted_to(keep, k)
        x, _, bound, status, n_cells = sub._exact(
            time_limit_s, mip_gap, start_sites=np.searchsorted(keep, plan.sites)
        )
        ranking = plan
        if x is not None:
            found = rank_selection(
                self.matrix, self.weights, keep[np.flatnonzero(x > 0.5)], self.existing, self.costs
            )
            if self._objective_of(found) > self._objective_of(plan) + 1e-9:
                ranking = found
        logger.debug(
            "optimise: %d of %d sites fixed out by reduced cost; HiGHS on the rest: %s",
            int(fixed.sum()),
            len(fixed),
            status,
        )
        if np.isfinite(bound):
            bound = max(bound, self._objective_of(ranking))
        return ranking, bound, status, n_cells

    def _pdlp_relaxation(self, time_limit_s: float | None) -> tuple[np.ndarray, np.ndarray] | None:
        """Approximate the LP relaxation by HiGHS's first-order solver (PDLP).

        For models whose LP relaxation is too large to solve within the time limit (the
        benchmark's 40,000 x 10,000 instance at 800 m: 2.8 million nonzeros, 196 s by interior
        point). PDLP's iterates are only approximately optimal, but its row duals, clipped to
        ``0 <= lambda_i <= w_i``, are Lagrangian multipliers of the coverage rows, and every such
        multiplier gives a valid bound (:meth:`_lagrangian_bound`). Measured there: after 10 s
        the bound is within 0.05 % of the LP optimum (1,189,534 against 1,188,901), where 300
        subgradient steps (4 s) stop 2.7 % above it.

        Returns the sites' LP values and the multipliers, or None for set covering (a
        minimisation, which this bound does not serve) and when PDLP returns no duals.
        """
        if self._target() is not None:
            return None
        model = self._milp(relax=True)
        if model.n_cells == 0:
            return None
        h = _highs(model, time_limit_s=time_limit_s, mip_gap=0.0)
        h.setOptionValue("solver", "pdlp")
        h.run()
        solution = h.getSolution()
        duals = np.asarray(solution.row_dual, dtype=float)[: model.n_cells]
        values = np.asarray(solution.col_value, dtype=float)[: model.n_sites]
        if len(duals) < model.n_cells or len(values) < model.n_sites:
            return None
        weights = self._merged_cells()[1]
        # HiGHS minimises -w y subject to y - q x <= 0: those rows' duals are <= 0
        return values, np.clip(-duals, 0.0, weights)

    def _restricted_to(self, keep: np.ndarray, k: int) -> MaximalCovering:
        """Return the k-site model over the sites ``keep`` (sorted, with every mandatory site).

        Same cells, weights and existing coverage; site ``i`` of the result is ``keep[i]``.
        """
        return MaximalCovering(
            self.matrix[keep],
            self.weights,
            k,
            costs=self.costs[keep],
            existing=self.existing,
            mandatory=np.searchsorted(keep, self.mandatory).tolist(),
        )

    def _restricted_dive(
        self, warm: Ranking, guide: np.ndarray, time_limit_s: float | None
    ) -> Ranking:
        """LP dive (:meth:`_lp_dive`) over the sites the relaxation values most.

        For models too large for the dive itself. Takes the sites with the largest values in
        ``guide`` (PDLP's approximate LP solution) until they cover ``_RESTRICTED_DIVE_NNZ``
        merged cell-site pairs, adds the plan's and the mandatory sites, dives on that smaller
        model and improves the result by interchange on the whole one. Returns the better of
        that plan and ``warm``.
        """
        k = self._k()
        if k is None or not self._interchange_applies(warm):
            return warm
        q = self._merged_cells()[0]
        n_sites = self.matrix.shape[0]
        pairs = np.bincount(q.indices, minlength=n_sites)  # merged cells each site covers
        usable = np.ones(n_sites, dtype=bool)
        usable[self.excluded] = False
        order = np.flatnonzero(usable & (pairs > 0))
        order = order[np.argsort(-guide[order], kind="stable")]
        chosen = order[np.cumsum(pairs[order]) <= _RESTRICTED_DIVE_NNZ]
        keep = np.union1d(np.union1d(chosen, warm.sites), self.mandatory).astype(np.int64)
        sub = self._restricted_to(keep, k)
        start = np.searchsorted(keep, warm.sites)
        sub_warm = rank_selection(sub.matrix, sub.weights, start, sub.existing, sub.costs)
        dived = sub._lp_dive(sub_warm, time_limit_s)
        if dived is sub_warm:
            return warm
        plan = self._interchange(
            rank_selection(self.matrix, self.weights, keep[dived.sites], self.existing, self.costs)
        )
        value, before = self._objective_of(plan), self._objective_of(warm)
        logger.debug(
            "optimise: dive over %d of %d sites: %.1f against %.1f",
            len(keep),
            n_sites,
            value,
            before,
        )
        return plan if value > before + 1e-9 else warm

    def _consistent(self, run: _HighsRun, base: float, relax: bool) -> bool:
        """Check HiGHS's objective against the objective of the sites it returned."""
        if relax or run.x is None:
            return True
        sites = np.flatnonzero(run.x[: self.matrix.shape[0]] > 0.5)
        if self._target() is not None:
            own = float(self.costs[sites].sum())
            reported = run.objective
        else:
            own = covered_weight(self.matrix, self.weights, sites, self.existing)
            reported = base - run.objective
        if self._target() is None and own > reported:  # y may sit below its cap: fine
            return True
        return abs(own - reported) <= 1e-6 * max(1.0, abs(own))

    def _explain_greedy_failure(self, reason: str, time_limit_s: float | None) -> str:
        """Say whether a plan the greedy method could not build exists at all.

        Greedy can miss a floor that a plan meets (it spent the sites or budget on others first),
        so the MILP is asked for any plan that meets every constraint (a MIP gap of 100 %
        stops HiGHS at the first one). If there is none, the constraint that cannot be met is
        named instead.
        """
        x, *_, status, _ = self._exact(time_limit_s, 1.0)
        if x is not None:
            return f"{reason}; a plan that meets all the constraints exists: use the exact method"
        if status == "infeasible":
            return self._diagnose_infeasible()
        return reason

    def _diagnose_infeasible(self) -> str:
        """Find a limit whose removal makes the LP relaxation feasible."""
        limits = self.limits
        for i, limit in enumerate(limits):
            self.limits = [lim for j, lim in enumerate(limits) if j != i]
            try:
                x, *_ = self._exact(None, 1e-4, relax=True)
            finally:
                self.limits = limits
            if x is not None:
                return f"the constraint on '{limit.name}' cannot be met with the others"
        return "the constraints (k, budget, target, mandatory sites and floors) conflict"

    def _n_model_cells(self) -> int:
        return int(self._merged_cells()[0].shape[0])

    def _lagrangian_bound(
        self,
        warm: Ranking | None,
        tolerance: float,
        iterations: int = 300,
        *,
        start: np.ndarray | None = None,
        max_seconds: float | None = None,
    ) -> float:
        r"""Upper bound on a maximisation by Lagrangian relaxation of the coverage rows.

        Relaxing :math:`y_i \le \sum_j q_{ji} x_j` with multipliers
        :math:`0 \le \lambda_i \le w_i` gives
        :math:`L(\lambda) = \sum_i u_i \max(0, w_i - \lambda_i) + \max_x \sum_j x_j
        \sum_i \lambda_i q_{ji}` over the cardinality or budget constraint (a knapsack bounded
        by its fractional relaxation); every :math:`\lambda` gives a valid bound, and
        subgradient steps (Polyak, towards the greedy value) lower it. Cheap where the LP
        relaxation is too large to solve. ``start`` gives the first multipliers (PDLP's, from
        :meth:`_pdlp_relaxation`; otherwise :math:`w / 2`); ``max_seconds`` caps the steps.
        Returns NaN for set covering.
        """
        if self._target() is not None:
            return np.nan
        q, w, e, _ = self._merged_cells()
        if q.shape[0] == 0:
            return covered_weight(self.matrix, self.weights, [], self.existing)
        base = covered_weight(self.matrix, self.weights, [], self.existing)
        u = 1.0 - e
        qt = sparse.csr_array(q.T)
        k, budget = self._k(), self._budget()
        mandatory = self.mandatory
        free = np.ones(qt.shape[0], dtype=bool)
        free[mandatory] = False
        free[self.excluded] = False
        free_idx = np.flatnonzero(free)
        costs = self.costs
        target = (self._objective_of(warm) - base) if warm is not None else 0.0

        def x_part(score: np.ndarray) -> tuple[float, np.ndarray]:
            fixed = float(score[mandatory].sum())
            pos = free_idx[score[free_idx] > 0]
            values = []
            picks = []
            if k is not None:
                room = max(k - len(mandatory), 0)
                top = pos[np.argsort(-score[pos], kind="stable")[:room]]
                values.append(float(score[top].sum()))
                picks.append(top)
            if budget is not None:
                room_b = budget - float(costs[mandatory].sum())
                ratio = score[pos] / np.maximum(costs[pos], 1e-12)
                order = pos[np.argsort(-ratio, kind="stable")]
                spent = np.cumsum(costs[order])
                whole = order[spent <= room_b + 1e-9]
                value = float(score[whole].sum())
                if len(whole) < len(order):
                    nxt = order[len(whole)]
                    left = room_b - float(costs[whole].sum())
                    if costs[nxt] > 0:
                        value += score[nxt] * max(left, 0.0) / costs[nxt]
                values.append(value)
                picks.append(whole)
            best = int(np.argmin(values))
            return fixed + values[best], np.concatenate([mandatory, picks[best]])

        lam = 0.5 * w if start is None else np.clip(start, 0.0, w)
        best_bound = np.inf
        theta, stall = 2.0, 0
        began = time.perf_counter()
        for step in range(iterations):
            if step and max_seconds is not None and time.perf_counter() - began > max_seconds:
                break
            score = qt @ lam
            value, picked = x_part(score)
            bound = float(u @ np.maximum(0.0, w - lam)) + value
            if bound < best_bound - 1e-9:
                best_bound, stall = bound, 0
            else:
                stall += 1
                if stall >= 15:
                    theta, stall = theta / 2, 0
            if theta < 1e-4 or best_bound - target <= tolerance * max(best_bound, 1e-12):
                break
            x = np.zeros(qt.shape[0])
            x[picked] = 1.0
            g = q @ x - u * (w > lam)
            norm = float(g @ g)
            if norm == 0:
                break
            lam = np.clip(lam - theta * max(bound - target, 1e-9) / norm * g, 0.0, w)
        return base + best_bound

    # -- public ---------------------------------------------------------------------------------

    def solve(
        self,
        method: Method = "greedy",
        *,
        time_limit_s: float | None = 60.0,
        mip_gap: float = 1e-4,
        progress: Callable[[int], None] | None = None,
    ) -> Self:
        """Solve the model and store a :class:`Solution` in ``self.solution``.

        Parameters
        ----------
        method
            ``"greedy"`` or ``"exact"``.
        time_limit_s
            Time limit of the exact solver (the best solution found by then is returned). HiGHS
            gets at least 1 s after the stages before it, and checks its limit between root cut
            rounds, so a run can end a second or two late (measured: 60.4 s under 60 s at
            40,000 cells x 10,000 candidates, 10.2 s under 10 s). The greedy start and its
            swaps are not cut short, so a limit below what they take ends later still (13 s
            under 6 s there).
        mip_gap
            Relative optimality gap at which the exact solver stops.
        progress
            Called with 1 after each site the greedy method chooses. The exact method instead
            logs (INFO, logger ``connectivity``) its model's size and time limit, and every 5 s
            of branch and bound its best plan, bound and gap.

        Returns
        -------
        Self

        Raises
        ------
        InfeasibleError
            The constraints cannot all be met (the message names the one that cannot).
        OptimisationError
            An unknown method, a time limit or MIP gap out of range, or a solver failure (with
            the solver's status).
        """
        if method not in METHODS:
            raise OptimisationError(
                f"unknown method {method!r}; choose one of {', '.join(METHODS)}"
            )
        if time_limit_s is not None and not time_limit_s > 0:
            raise OptimisationError(f"the time limit must be above 0 s, got {time_limit_s}")
        if not 0 <= mip_gap < 1:
            raise OptimisationError(f"the MIP gap is a share from 0 up to 1, got {mip_gap}")
        self._check_feasible()
        reduced = self._reduced()
        if reduced is not None:  # many identical cells (fine analysis grids): solve once per kind
            model, group_of = reduced
            model.solve(method, time_limit_s=time_limit_s, mip_gap=mip_gap, progress=progress)
            assert model.solution is not None
            self.solution = _expanded(model.solution, group_of)
            return self
        if not self.matrix.nnz:
            logger.warning(
                "optimise: no candidate site covers any demand point (check the service radius "
                "and that both layers are in the same place); the plan is empty"
            )
        start = time.perf_counter()
        warm: Ranking | None = None
        # the exact method's LP dive improves its own plan by interchange, and keeps the
        # greedy plan only when that is better: the greedy plan's interchange is not needed
        try:
            warm = self._greedy(
                progress if method == "greedy" else None,
                improve=method == "greedy" or not self._dive_applies(),
            )
        except InfeasibleError as error:
            if method == "greedy":
                raise InfeasibleError(
                    self._explain_greedy_failure(str(error), time_limit_s)
                ) from error
        if method == "greedy":
            assert warm is not None
            ranking, bound, status, n_model = self._solve_greedy(warm, time_limit_s, mip_gap)
        else:
            ranking, bound, status, n_model = self._solve_exact(warm, start, time_limit_s, mip_gap)
        objective = self._objective_of(ranking)
        seconds = time.perf_counter() - start
        gap = _gap(objective, bound, minimise=self._target() is not None)
        covered = covered_weight(self.matrix, self.weights, ranking.sites, self.existing)
        self.solution = Solution(
            method=method,
            ranking=ranking,
            objective=objective,
            bound=bound,
            gap=gap,
            coverage_share=covered / self.total_weight if self.total_weight else 0.0,
            total_cost=ranking.total_cost,
            status=status,
            seconds=seconds,
            n_cells_model=n_model,
        )
        logger.info(
            "optimise: %s %s chose %d sites, objective %.1f, bound %.1f, gap %.2f%% (%.2f s, "
            "%d merged cells)",
            self.name,
            method,
            len(ranking.sites),
            objective,
            bound,
            100 * gap,
            seconds,
            n_model,
        )
        return self

    def _reduced(self) -> tuple[Self, np.ndarray] | None:
        """Return the model over one cell per kind of identical cell, when that is far smaller.

        Cells with the same column of qualities, the same existing coverage and the same group
        memberships are interchangeable: every objective, bound and constraint sums their
        weights. On an analysis grid most points share their column with many others (a million
        points of Bogotá are 21,000 kinds), so greedy, local search and HiGHS all run on the
        kinds. Returns the model and each cell's group, or None when merging saves little.
        """
        n_cells = self.matrix.shape[1]
        if n_cells < _REDUCE_MIN_CELLS:
            return None
        cols = self.matrix.T.tocsr()
        cols.sort_indices()
        keys = [self.existing] + [limit.cells for limit in self.limits]
        use = np.ones(n_cells, dtype=bool)
        group_of = _identical_rows(cols, use, keys)
        if group_of is None:
            group_of = _identical_rows_by_bytes(cols, use, keys)
        n_groups = int(group_of.max()) + 1
        if n_groups > _REDUCE_MAX_SHARE * n_cells:
            return None
        _, first = np.unique(group_of, return_index=True)
        model = copy.copy(self)
        model.matrix = sparse.csr_array(cols[first].T.tocsr())
        model.matrix.sort_indices()
        model.weights = np.bincount(group_of, weights=self.weights, minlength=n_groups)
        model.existing = self.existing[first]
        model.limits = [
            dataclasses.replace(limit, cells=limit.cells[first]) for limit in self.limits
        ]
        for cache in ("_merged_cache", "_dominated_cache"):
            model.__dict__.pop(cache, None)
        model.solution = None
        logger.debug("optimise: %d cells are %d kinds of cell", n_cells, n_groups)
        return model, group_of

    def _solve_greedy(
        self, warm: Ranking, time_limit_s: float | None, mip_gap: float
    ) -> tuple[Ranking, float, str, int]:
        """Return the greedy plan, improved by local search unless a bound proves it optimal.

        The bound is the LP relaxation's where it is cheap, else PDLP's multipliers or
        subgradient steps. Returns the plan, the bound, the status and the model's cell count.
        """
        bound = np.nan
        if self._merged_cells()[0].nnz <= _LP_BOUND_MAX_NNZ:  # the LP bound, when cheap
            limit = min(time_limit_s or _LP_BOUND_MAX_S, _LP_BOUND_MAX_S)
            try:
                x, _, lp_bound, _, _ = self._exact(limit, 1e-4, relax=True)
            except OptimisationError:  # the LP did not finish in time: Lagrangian bound
                x = None
            if x is not None:
                bound = lp_bound
        if not np.isfinite(bound):  # too large for the LP: PDLP's multipliers, if any
            relaxed = self._pdlp_relaxation(min(time_limit_s or _PDLP_BOUND_S, _PDLP_BOUND_S))
            bound = self._relaxation_bound(warm, mip_gap, relaxed)
        ranking = warm
        minimise = self._target() is not None
        if not _gap(self._objective_of(warm), bound, minimise=minimise) <= 1e-6:
            ranking = self._iterated_interchange(warm, bound=bound)  # not proven: search on
        return ranking, bound, "greedy", self._n_model_cells()

    def _solve_exact(
        self, warm: Ranking | None, start: float, time_limit_s: float | None, mip_gap: float
    ) -> tuple[Ranking, float, str, int]:
        """Solve exactly, by one of five paths; ``start`` is when :meth:`solve` began.

        - k-site models whose LP relaxation is too large to solve: PDLP's multipliers give the
          bound, a dive over the sites PDLP values most and local search give the plan;
        - k-site models whose LP relaxation was not solved in its share of a short time limit:
          the greedy plan after interchange, bounded by PDLP's multipliers (HiGHS could not
          finish its own root LP in the time left);
        - k-site models whose LP dive finds a plan within the gap of the LP bound: that plan,
          proven without branch and bound;
        - models where reduced-cost fixing leaves sites out: HiGHS on the rest;
        - otherwise HiGHS on the whole model, started from ``warm``.

        Returns the plan, the bound, the status and the number of cells in the model solved.
        """
        q = self._merged_cells()[0]
        nnz = q.nnz
        logger.info(
            "optimise: exact on %d merged cells x %d sites (%d pairs), time limit %s",
            q.shape[0],
            q.shape[1],
            nnz,
            "none" if time_limit_s is None else f"{time_limit_s:g} s",
        )
        relaxed = None
        if nnz > _LP_BOUND_MAX_NNZ and self._target() is None:
            # the LP relaxation is too large to solve in the time limit: PDLP approximates it,
            # for a bound and to choose the sites the dive works on
            relaxed = self._pdlp_relaxation(_share(time_limit_s, _PDLP_SHARE))
        relaxation: _Relaxation | None = None
        if warm is not None and (nnz > _IPM_MIN_NNZ or self._interchange_applies(warm)):
            warm, relaxation = self._improved_start(warm, relaxed, time_limit_s)
        if relaxed is not None and warm is not None and self._interchange_applies(warm):
            # HiGHS's branch and bound cannot start here within the limit: its root LP alone
            # takes minutes (196 s by interior point at 40,000 x 10,000 x 800 m) and interior
            # point overran the time limit by 20 s or more.
            ranking = self._iterated_interchange(
                warm, max_seconds=_seconds_left(time_limit_s, start)
            )
            bound = self._relaxation_bound(ranking, mip_gap, relaxed)
            status = "not proven optimal: LP relaxation too large, bound from PDLP"
            return ranking, bound, status, self._n_model_cells()
        if relaxation is None and warm is not None and len(warm.sites) and self._dive_applies():
            # the dive's LP was not solved in its share of a short time limit: HiGHS, whose
            # root LP (by dual simplex) is slower still, could not finish it in what is left.
            # PDLP's multipliers bound the plan instead (measured at 10,000 x 1,000 x 800 m
            # with 0.5 s: gap 11.4 % from HiGHS and a few subgradient steps, 0.6 % from PDLP)
            left = _seconds_left(time_limit_s, start)
            relaxed = self._pdlp_relaxation(
                None if left is None else max(left, _PDLP_SHARE * float(time_limit_s or 0.0))
            )
            bound = self._relaxation_bound(warm, mip_gap, relaxed)
            status = "not proven optimal: time limit too short for the LP relaxation"
            return warm, bound, status, self._n_model_cells()
        if relaxation is not None and warm is not None:
            value = self._objective_of(warm)
            if _gap(value, relaxation.bound, minimise=False) <= mip_gap:
                # the plan is within the gap of the LP bound: proven, no branch and bound (both
                # 2,000 x 200 benchmark sizes, where the LP optimum is integral)
                return warm, max(relaxation.bound, value), "optimal", self._n_model_cells()
        fixed = (
            self._fixed_by_reduced_cost(relaxation, warm)
            if relaxation is not None and warm is not None
            else None
        )
        if fixed is not None and fixed.any() and warm is not None:
            ranking, bound, status, n_model = self._exact_on_remaining(
                warm, fixed, _seconds_left(time_limit_s, start, floor=1.0), mip_gap
            )
            if status != "optimal":  # stopped early: a Lagrangian bound may be tighter
                left = _seconds_left(time_limit_s, start)
                bound = self._tighter_bound(bound, ranking, mip_gap, relaxed, left)
        else:
            ranking, bound, status, n_model = self._exact_whole(
                warm, relaxed, start, time_limit_s, mip_gap
            )
        if relaxation is not None and not bound <= relaxation.bound:
            # HiGHS stopped before its root LP (or nan): the dive's LP bound is tighter
            bound = relaxation.bound
        return ranking, bound, status, n_model

    def _improved_start(
        self,
        warm: Ranking,
        relaxed: tuple[np.ndarray, np.ndarray] | None,
        time_limit_s: float | None,
    ) -> tuple[Ranking, _Relaxation | None]:
        """Return a better start than ``warm`` for the exact search, and the LP relaxation.

        On large models HiGHS does not close the search in the time limit and a better start is
        most of what it returns. The LP dive (up to 40 % of the time) finds far better plans
        than local search there; local search (10 %) when it cannot run. On k-site models of any
        size the dive's plan and LP also fix sites out by reduced cost before HiGHS starts. The
        LP alone may take up to 80 % of the time: under a short time limit its bound is most of
        what the exact method can prove.
        """
        dive_s = _share(time_limit_s, _DIVE_SHARE)
        relaxation: _Relaxation | None = None
        nnz = self._merged_cells()[0].nnz
        if nnz <= _LP_BOUND_MAX_NNZ:
            dived, relaxation = self._dive_with_relaxation(
                warm, dive_s, lp_time_s=_share(time_limit_s, _LP_SHARE)
            )
        elif relaxed is not None:
            dived = self._restricted_dive(warm, relaxed[0], dive_s)
        else:
            dived = warm
        if dived is warm:  # no better plan from a dive
            if self._dive_applies():  # the greedy start left its interchange to the dive
                dived = self._interchange(warm)
            if nnz > _IPM_MIN_NNZ:
                dived = self._iterated_interchange(
                    dived, max_seconds=_share(time_limit_s, _LOCAL_SEARCH_SHARE)
                )
        return dived, relaxation

    def _exact_whole(
        self,
        warm: Ranking | None,
        relaxed: tuple[np.ndarray, np.ndarray] | None,
        start: float,
        time_limit_s: float | None,
        mip_gap: float,
    ) -> tuple[Ranking, float, str, int]:
        """HiGHS on the whole model, started from ``warm``; never returns a worse plan."""
        minimise = self._target() is not None
        start_sites = warm.sites if warm is not None else None
        x, _, bound, status, n_model = self._exact(
            _seconds_left(time_limit_s, start, floor=1.0), mip_gap, start_sites=start_sites
        )
        if x is None and status == "infeasible":
            raise InfeasibleError(self._diagnose_infeasible())
        if x is None:
            if warm is None:
                raise OptimisationError(f"HiGHS found no solution in the time limit ({status})")
            bound = self._relaxation_bound(warm, mip_gap, relaxed)
            return warm, bound, f"{status}; greedy solution kept", n_model
        chosen = np.flatnonzero(x > 0.5)
        ranking = rank_selection(self.matrix, self.weights, chosen, self.existing, self.costs)
        if warm is not None and (
            self._objective_of(warm) < self._objective_of(ranking) - 1e-9
            if minimise
            else self._objective_of(warm) > self._objective_of(ranking) + 1e-9
        ):
            ranking = warm
        if status != "optimal":  # stopped early: a Lagrangian bound may be tighter
            left = _seconds_left(time_limit_s, start)
            bound = self._tighter_bound(bound, warm, mip_gap, relaxed, left)
        return ranking, bound, status, n_model

    def _tighter_bound(
        self,
        bound: float,
        plan: Ranking | None,
        tolerance: float,
        relaxed: tuple[np.ndarray, np.ndarray] | None,
        max_seconds: float | None,
    ) -> float:
        """Return the tighter of ``bound`` (HiGHS's, after an early stop) and a Lagrangian one."""
        lagrange = self._relaxation_bound(plan, tolerance, relaxed, max_seconds=max_seconds)
        if not np.isfinite(lagrange):
            return bound
        if not np.isfinite(bound):
            return lagrange
        return max(bound, lagrange) if self._target() is not None else min(bound, lagrange)

    def _relaxation_bound(
        self,
        warm: Ranking | None,
        tolerance: float,
        relaxed: tuple[np.ndarray, np.ndarray] | None,
        max_seconds: float | None = None,
    ) -> float:
        """Return the Lagrangian bound at PDLP's multipliers if any, else by subgradient steps.

        Subgradient steps from PDLP's multipliers did not lower the bound (measured on the
        40,000 x 10,000 instance at 800 m: no change in 3 s), so it is evaluated once there.
        """
        if relaxed is None:
            return self._lagrangian_bound(warm, tolerance, max_seconds=max_seconds)
        return self._lagrangian_bound(warm, tolerance, start=relaxed[1], iterations=1)

    def _objective_of(self, ranking: Ranking) -> float:
        if self._target() is not None:
            return ranking.total_cost
        return covered_weight(self.matrix, self.weights, ranking.sites, self.existing)


def _expanded(solution: Solution, group_of: np.ndarray) -> Solution:
    """Return a reduced model's solution on the full model's cells (``group_of`` per cell)."""
    order = np.argsort(group_of, kind="stable")
    starts = np.searchsorted(group_of[order], np.arange(int(group_of.max()) + 2))
    r = solution.ranking

    def members(groups: np.ndarray) -> np.ndarray:
        if not len(groups):
            return np.zeros(0, dtype=np.int64)
        parts = [order[starts[g] : starts[g + 1]] for g in groups]
        return np.sort(np.concatenate(parts))

    ranking = Ranking(
        sites=r.sites,
        gains=r.gains,
        newly_covered=[members(g) for g in r.newly_covered],
        covered=r.covered[group_of],
        total_cost=r.total_cost,
    )
    return dataclasses.replace(solution, ranking=ranking)


def _identical_rows(
    rows: sparse.csr_array, use: np.ndarray, extra_keys: list[np.ndarray]
) -> np.ndarray | None:
    """Return each row's group of identical rows among those ``use`` selects (-1 elsewhere).

    Rows are identical when they have the same columns, the same values and the same entries
    in every array of ``extra_keys``; ``rows`` must have sorted indices. Groups are numbered in
    the order of their first row. Rows are grouped by two random linear hashes (of the values
    and of the pattern), then every row is compared with its group's first: returns None if a
    hash collision put different rows together, which the caller then groups by
    :func:`_identical_rows_by_bytes`. Merging the benchmark's cells this way took 1.0 ms
    instead of 4.3 ms at 2,000 x 200 x 800 m, and 0.32 s instead of 0.77 s at 200,000 x
    10,000 x 800 m.
    """
    n_rows, n_cols = rows.shape
    group_of = np.full(n_rows, -1, dtype=np.int64)
    members = np.flatnonzero(use)
    if not len(members):
        return group_of
    rng = np.random.default_rng(0)  # fixed: the same groups, numbered alike, on every run
    pattern = sparse.csr_array(
        (np.ones_like(rows.data), rows.indices, rows.indptr), shape=rows.shape
    )
    size = np.diff(rows.indptr)
    keys = [
        (pattern @ rng.random(n_cols))[members],
        (rows @ rng.random(n_cols))[members],
        size[members],
    ] + [np.asarray(key)[members] for key in extra_keys]
    order = np.lexsort(keys[::-1])
    ordered = [key[order] for key in keys]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = ~np.logical_and.reduce([key[1:] == key[:-1] for key in ordered])
    run = np.cumsum(starts) - 1
    in_order = members[order]
    first = np.full(int(run[-1]) + 1, n_rows, dtype=np.int64)
    np.minimum.at(first, run, in_order)
    first_of = first[run]
    # every row that is not its group's first must equal that first row
    not_first = in_order != first_of
    later, of = in_order[not_first], first_of[not_first]
    n = size[later]
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    a = np.repeat(rows.indptr[later], n) + within
    b = np.repeat(rows.indptr[of], n) + within
    if not (
        np.array_equal(rows.indices[a], rows.indices[b])
        and np.array_equal(rows.data[a], rows.data[b])
    ):
        return None
    number = np.empty(len(first), dtype=np.int64)
    number[np.argsort(first)] = np.arange(len(first))
    group_of[in_order] = number[run]
    return group_of


def _identical_rows_by_bytes(
    rows: sparse.csr_array, use: np.ndarray, extra_keys: list[np.ndarray]
) -> np.ndarray:
    """:func:`_identical_rows` by a dictionary of each row's bytes (slower, never collides)."""
    keys: dict[bytes, int] = {}
    group_of = np.full(rows.shape[0], -1, dtype=np.int64)
    for i in np.flatnonzero(use):
        lo, hi = rows.indptr[i], rows.indptr[i + 1]
        key = b"|".join(
            [rows.indices[lo:hi].tobytes(), rows.data[lo:hi].tobytes()]
            + [np.asarray(extra[i]).tobytes() for extra in extra_keys]
        )
        group_of[i] = keys.setdefault(key, len(keys))
    return group_of


@contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Send what C code writes to standard output to the null device for a moment."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (some embedded interpreters)
        yield
        return
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class _Milp:
    """A model's MILP as HiGHS arrays: variables are the sites, then the merged cells."""

    c: np.ndarray
    matrix: sparse.csr_array | None
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    q: sparse.csr_array  # merged cell x site qualities
    n_sites: int
    base: float  # weight covered with no new site
    minimise_cost: bool
    weighted_rows: bool = False  # a budget, target or coverage-floor row (knapsack-like)

    @property
    def n_cells(self) -> int:
        return int(self.q.shape[0])

    @property
    def is_mip(self) -> bool:
        return bool(np.any(self.integrality))


@dataclass
class _Relaxation:
    """An LP relaxation's optimum (HiGHS's minimisation form), site values and reduced costs.

    ``bound`` is the same optimum as the model's covered weight: a bound on every plan.
    """

    objective: float
    bound: float
    values: np.ndarray
    reduced_costs: np.ndarray


@dataclass
class _HighsRun:
    x: np.ndarray | None
    objective: float
    bound: float
    status: str


def _highs(
    model: _Milp,
    *,
    time_limit_s: float | None,
    mip_gap: float,
    start: np.ndarray | None = None,
) -> Any:
    """Return a HiGHS instance holding the model with the engine's options, ready to run."""
    import highspy

    c, matrix, integrality = model.c, model.matrix, model.integrality
    row_lo, row_hi, lb, ub = model.row_lo, model.row_hi, model.lb, model.ub
    n = len(c)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(lb, dtype=float)
    lp.col_upper_ = np.asarray(ub, dtype=float)
    inf = highspy.kHighsInf
    if matrix is not None and matrix.shape[0]:
        csc = sparse.csc_array(matrix)
        lp.num_row_ = csc.shape[0]
        lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = csc.shape[0]
    is_mip = model.is_mip
    if is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
            for v in integrality
        ]
    with _c_stdout_silenced():  # HiGHS prints a banner on stdout when it starts
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    # HiGHS's presolve is off: cell merging and dominance fixing already do what it would do
    # here, and it does not look at the time limit (on a model with 2.9 million nonzeros it ran
    # 370 s past a 60 s limit). Measured on the benchmark instances with it off: 10,000 x 1,000
    # at 300 m 9.8 -> 6.8 s, at 800 m 37 -> 24.5 s, 5,000 x 500 at 300 m 0.4 -> 0.1 s.
    h.setOptionValue("presolve", "off")
    if matrix is not None and matrix.nnz > _IPM_MIN_NNZ:
        h.setOptionValue("mip_lp_solver" if is_mip else "solver", "ipm")
    if is_mip:
        # Branch on pseudo-costs from the start instead of strong-branching every candidate
        # until its pseudo-cost is "reliable": on the benchmark's 10,000 x 1,000 instance at
        # 800 m, strong branching was 27,000 of the 44,000 LP iterations, all at the root.
        h.setOptionValue("mip_pscost_minreliable", 0)
        # A smaller cut pool: HiGHS's pool of up to 10,000 cuts was most of its memory. On
        # k-site models, cuts at the root only; with a budget, target or coverage-floor row
        # (knapsack-like) cuts at the nodes pay, and a larger pool there shortened the slowest
        # seeds. Medians over HiGHS seeds 0-4 on the benchmark's instances (seed_spread.py):
        # 10,000 x 1,000 k-site models at 300 m 2.89 -> 1.95 s and 112 -> 53 MB, at 800 m
        # 10.1 -> 9.7 s and 338 -> 167 MB. At 800 m with a budget, root cuts only took one seed
        # to 25 s, and with equity floors as well one seed to the 60 s limit, 0.65 % short.
        k_site = not model.weighted_rows
        h.setOptionValue(
            "mip_pool_soft_limit",
            _HIGHS_CUT_POOL_SOFT_LIMIT if k_site else _HIGHS_CUT_POOL_SOFT_LIMIT_WEIGHTED,
        )
        if k_site:
            h.setOptionValue("mip_allow_cut_separation_at_nodes", False)
    if is_mip and start is not None and (matrix is None or matrix.nnz <= _IPM_MIN_NNZ):
        # With the greedy plan as a start, HiGHS's own primal heuristics are not needed on
        # models it can close: on that instance its sub-MIPs took 15 of 24 s. Both changes
        # together, exact solve times on the benchmark: 25.4 -> 13.1 s (10,000 x 1,000, 800 m),
        # 6.4 -> 2.8 s (300 m), 1.25 -> 0.60 s (5,000 x 500, 800 m), same optima. On larger
        # models the time limit ends the search and the sub-MIPs improve the start (200,000 x
        # 10,000 at 300 m: 2,059,620 with them, 2,055,186 without), so they stay on.
        for heuristic in _HIGHS_HEURISTICS:
            h.setOptionValue(f"mip_heuristic_run_{heuristic}", False)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", _HIGHS_RANDOM_SEED)
    h.passModel(lp)
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        h.setSolution(sol)
    return h


def _highs_result(h: Any, *, is_mip: bool) -> _HighsRun:
    """Read a finished HiGHS run: solution, objective, bound and status."""
    model_status = h.getModelStatus()
    status_text = h.modelStatusToString(model_status)
    import highspy

    ms = highspy.HighsModelStatus
    if model_status == ms.kInfeasible:
        return _HighsRun(None, np.nan, np.nan, "infeasible")
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_solution:
        return _HighsRun(None, np.nan, np.nan, status_text)
    x = np.asarray(h.getSolution().col_value)
    objective = float(info.objective_function_value)
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = -np.inf
        # a minimisation's dual bound never exceeds its incumbent (HiGHS reports 0 when
        # presolve alone solves the model)
        bound = min(bound, objective)
    else:  # an LP: the optimum is its own bound; stopped early, no bound is claimed
        bound = objective if model_status == ms.kOptimal else -np.inf
    status = "optimal" if model_status == ms.kOptimal else status_text.lower()
    return _HighsRun(x, objective, bound, status)


def _run_highs(model: _Milp, **options: Any) -> _HighsRun:
    """Minimise the model with HiGHS (options of :func:`_highs`); return what it found.

    A branch and bound logs its best plan, bound and gap at INFO level every
    ``_PROGRESS_EVERY_S`` seconds, so that a long exact solve shows it is moving.
    """
    h = _highs(model, **options)
    if model.is_mip:
        h.cbMipInterrupt.subscribe(_ProgressLog(model))
    h.run()
    return _highs_result(h, is_mip=model.is_mip)


class _ProgressLog:
    """HiGHS MIP callback: log the search's best plan and bound now and then."""

    def __init__(self, model: _Milp) -> None:
        self.model = model
        self.next_s = _PROGRESS_EVERY_S

    def __call__(self, event: Any) -> None:
        out = event.data_out
        if out.running_time < self.next_s:
            return
        self.next_s = out.running_time + _PROGRESS_EVERY_S
        model = self.model
        primal, dual = float(out.mip_primal_bound), float(out.mip_dual_bound)
        if model.minimise_cost:
            plan, bound, what = primal, dual, "cost"
        else:
            plan, bound, what = model.base - primal, model.base - dual, "covered weight"
        found = (
            f"best plan {plan:,.1f}, gap {100 * float(out.mip_gap):.2f}%"
            if np.isfinite(primal)
            else "no plan yet"
        )
        logger.info(
            "optimise: exact search %.0f s: %s, bound %s (%s), %d nodes",
            out.running_time,
            found,
            f"{bound:,.1f}" if np.isfinite(dual) else "none yet",
            what,
            int(out.mip_node_count),
        )


_REDUCE_MIN_CELLS = 20_000  # models with fewer cells are solved as they are
_REDUCE_MAX_SHARE = 0.5  # reduce when the kinds of cell are at most this share of the cells
_PROGRESS_EVERY_S = 5.0  # how often a long exact search logs its best plan and bound
# above this many nonzeros after merging cells, greedy reports the Lagrangian bound only
_LP_BOUND_MAX_NNZ = 500_000
# Above this many nonzeros, linear relaxations are solved by interior point (HiGHS's IPX):
# measured on the benchmark's 40,000 x 10,000 instance (390,757 nonzeros after merging), the
# dual simplex had not solved the root LP after 120 s, interior point solved it in 9 s.
_IPM_MIN_NNZ = 200_000
_LP_BOUND_MAX_S = 30.0  # the greedy method spends at most this long on the LP bound
_DIVE_SHARE = 0.4  # share of the exact solver's time limit the LP dive may take
_LP_SHARE = 0.8  # share of it the dive's LP alone may take: the LP gives the bound
_LOCAL_SEARCH_SHARE = 0.1  # share of it local search may take when the dive cannot run
_DUAL_SIMPLEX, _PRIMAL_SIMPLEX = 1, 4  # HiGHS's simplex_strategy values
_PDLP_SHARE = 0.2  # share of it PDLP may take, where the LP relaxation is too large to solve
_PDLP_BOUND_S = 10.0  # the greedy method spends at most this long on PDLP's bound
# the restricted dive works on the sites PDLP values most, up to this many cell-site pairs
_RESTRICTED_DIVE_NNZ = 150_000
# HiGHS's random seed (its default). Its search, and so its time, depends on it: on the
# benchmark's 10,000 x 1,000 instance at 800 m the exact solve took 7.4 to 10.2 s over seeds
# 0 to 4 (benchmarks/seed_spread.py); the plans were the same.
_HIGHS_RANDOM_SEED = 0
# HiGHS heuristics switched off when the solve starts from the greedy plan (option suffixes)
_HIGHS_HEURISTICS = ("rins", "rens", "root_reduced_cost", "feasibility_jump")
# rows in HiGHS's cut pool before it ages cuts out faster: k-site models, and models with a
# budget, target or coverage-floor row
_HIGHS_CUT_POOL_SOFT_LIMIT, _HIGHS_CUT_POOL_SOFT_LIMIT_WEIGHTED = 500, 2_000


def _share(time_limit_s: float | None, fraction: float) -> float | None:
    """Return a fraction of a time limit (None: no limit)."""
    return None if time_limit_s is None else fraction * time_limit_s


def _seconds_left(time_limit_s: float | None, since: float, *, floor: float = 0.0) -> float | None:
    """Return what is left of a time limit counted from ``since`` (None: no limit), >= ``floor``."""
    if time_limit_s is None:
        return None
    return max(floor, time_limit_s - (time.perf_counter() - since))


def _gap(objective: float, bound: float, *, minimise: bool) -> float:
    if not np.isfinite(bound):
        return np.nan
    if minimise:
        gap = (objective - bound) / objective if objective > 0 else 0.0
    else:
        gap = (bound - objective) / bound if bound > 0 else 0.0
    return float(gap) if gap > 1e-9 else 0.0


def _never() -> bool:
    return False


class MaximalCovering(_CoverageModel):
    r"""Maximal covering: choose at most ``k`` sites to cover the most demand weight.

    .. math::
        \max \sum_i w_i y_i \quad\text{s.t.}\quad y_i \le \sum_j q_{ji} x_j,\;
        0 \le y_i \le 1 - q^0_i,\; \sum_j x_j \le k,\; x_j \in \{0, 1\}

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=float)
    >>> model = MaximalCovering(m, np.array([5.0, 1.0, 3.0]), k=2).solve("exact")
    >>> model.solution.selected.tolist(), model.solution.objective
    ([0, 1], 9.0)
    """

    name = "maximal covering"

    def __init__(
        self, matrix: sparse.sparray | np.ndarray, weights: np.ndarray, k: int, **kwargs: object
    ) -> None:
        if k < 1:
            raise OptimisationError(f"k must be at least 1, got {k}")
        self.k = int(k)
        super().__init__(matrix, weights, **kwargs)  # type: ignore[arg-type]

    def _k(self) -> int | None:
        return self.k


class BudgetedMaximalCovering(_CoverageModel):
    r"""Budgeted maximal covering: sites cost :math:`c_j`; spend at most ``budget``.

    .. math::
        \max \sum_i w_i y_i \quad\text{s.t.}\quad y_i \le \sum_j q_{ji} x_j,\;
        \sum_j c_j x_j \le B,\; x_j \in \{0, 1\}
    """

    name = "budgeted maximal covering"

    def __init__(
        self,
        matrix: sparse.sparray | np.ndarray,
        weights: np.ndarray,
        budget: float,
        *,
        k: int | None = None,
        **kwargs: object,
    ) -> None:
        if not budget > 0:
            raise OptimisationError(f"the budget must be greater than 0, got {budget}")
        self.budget = float(budget)
        self.k = k
        super().__init__(matrix, weights, **kwargs)  # type: ignore[arg-type]

    def _budget(self) -> float | None:
        return self.budget

    def _k(self) -> int | None:
        return self.k


class SetCovering(_CoverageModel):
    r"""Set covering: the least cost (or fewest sites) covering a target share of demand.

    .. math::
        \min \sum_j c_j x_j \quad\text{s.t.}\quad \sum_i w_i \min(1, q^0_i + \textstyle\sum_j
        q_{ji} x_j) \ge s \sum_i w_i
    """

    name = "set covering"

    def __init__(
        self,
        matrix: sparse.sparray | np.ndarray,
        weights: np.ndarray,
        target_share: float,
        **kwargs: object,
    ) -> None:
        if not 0 < target_share <= 1:
            raise OptimisationError(f"the target share must be in (0, 1], got {target_share}")
        self.target_share = float(target_share)
        super().__init__(matrix, weights, **kwargs)  # type: ignore[arg-type]

    def _target(self) -> float | None:
        return self.target_share


def rank_selection(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    sites: Sequence[int] | np.ndarray,
    existing: np.ndarray,
    costs: np.ndarray | None = None,
) -> Ranking:
    """Order a chosen set of sites by greedy marginal gain (for ranks and gains of a plan)."""
    model = MaximalCovering(
        matrix[np.asarray(sites, dtype=np.int64)], weights, k=max(len(sites), 1), existing=existing
    )
    order = model._greedy(None, improve=False) if len(sites) else None
    chosen = np.asarray(sites, dtype=np.int64)
    if order is None:
        return Ranking(np.zeros(0, np.int64), np.zeros(0), [], existing.copy(), 0.0)
    # sites the greedy left out add nothing; keep them at the end with zero gain
    ranked = list(order.sites)
    rest = [i for i in range(len(chosen)) if i not in set(ranked)]
    gains = list(order.gains) + [0.0] * len(rest)
    newly = list(order.newly_covered) + [np.zeros(0, np.int64)] * len(rest)
    idx = chosen[np.asarray(ranked + rest, dtype=np.int64)]
    cost = float((np.ones(matrix.shape[0]) if costs is None else costs)[idx].sum())
    return Ranking(idx, np.asarray(gains), newly, order.covered, cost)


def greedy_ranking(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    *,
    k: int | None = None,
    budget: float | None = None,
    costs: np.ndarray | None = None,
    covered: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> Ranking:
    """Rank sites by lazy greedy marginal gain until ``k`` sites or the budget is used.

    A thin wrapper over :class:`MaximalCovering` / :class:`BudgetedMaximalCovering`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> m = sparse.csr_array(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool))
    >>> r = greedy_ranking(m, np.array([5.0, 1.0, 3.0]), k=2)
    >>> r.sites.tolist(), r.gains.tolist()
    ([0, 2], [6.0, 3.0])
    """
    if k is None and budget is None:
        raise OptimisationError("give the number of sites k, a budget, or both")
    existing = None if covered is None else covered.astype(float)
    model: _CoverageModel
    if budget is not None:
        model = BudgetedMaximalCovering(
            matrix, weights, budget, k=k, costs=costs, existing=existing
        )
    else:
        assert k is not None
        model = MaximalCovering(matrix, weights, k=k, costs=costs, existing=existing)
    return model._greedy(progress)


def equity_limits(
    site_area: np.ndarray,
    cell_area: np.ndarray,
    *,
    area_names: dict[str, str] | None = None,
    site_rural: np.ndarray | None = None,
    cell_rural: np.ndarray | None = None,
    min_sites_per_area: int = 0,
    max_sites_per_area: int | None = None,
    min_share_per_area: float = 0.0,
    rural_min_sites: int = 0,
    rural_min_share: float = 0.0,
) -> list[GroupLimit]:
    """Build per-area and rural :class:`GroupLimit` constraints from area codes per site/cell.

    Areas with no demand get no share floor; areas with no candidate site get no site floor
    (both are logged), since nothing could meet them.
    """
    limits: list[GroupLimit] = []
    names = area_names or {}
    if min_sites_per_area or max_sites_per_area is not None or min_share_per_area:
        for code in sorted(set(cell_area) | set(site_area)):
            sites = site_area == code
            cells = cell_area == code
            label = f"area {code} {names.get(code, '')}".strip()
            min_sites = min_sites_per_area
            if min_sites and not sites.any():
                logger.warning(
                    "optimise: %s has no candidate site; its site floor is skipped", label
                )
                min_sites = 0
            limits.append(
                GroupLimit(
                    name=label,
                    sites=sites,
                    cells=cells,
                    min_sites=min_sites,
                    max_sites=max_sites_per_area,
                    min_share=min_share_per_area if cells.any() else 0.0,
                )
            )
    if (rural_min_sites or rural_min_share) and site_rural is not None and cell_rural is not None:
        limits.append(
            GroupLimit(
                name="rural area",
                sites=site_rural.astype(bool),
                cells=cell_rural.astype(bool),
                min_sites=rural_min_sites,
                min_share=rural_min_share,
            )
        )
    return limits


def build_model(
    model: str,
    matrix: sparse.csr_array,
    weights: np.ndarray,
    *,
    k: int | None = None,
    budget: float | None = None,
    target_share: float | None = None,
    **kwargs: object,
) -> _CoverageModel:
    """Return the model named ``maximal_covering``, ``budgeted`` or ``set_covering``."""
    if model == "maximal_covering":
        if k is None:
            raise OptimisationError("maximal covering needs k")
        return MaximalCovering(matrix, weights, k=k, **kwargs)
    if model == "budgeted":
        if budget is None:
            raise OptimisationError("the budgeted model needs a budget")
        return BudgetedMaximalCovering(matrix, weights, budget, k=k, **kwargs)
    if model == "set_covering":
        if target_share is None:
            raise OptimisationError("set covering needs a target share")
        return SetCovering(matrix, weights, target_share, **kwargs)
    raise OptimisationError(
        f"unknown model {model!r}; choose maximal_covering, budgeted or set_covering"
    )
