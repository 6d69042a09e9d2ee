r"""The coverage problem as one frozen value, checked where it is made.

Three models share one data layout, a sparse *site × cell* matrix of coverage qualities
:math:`q_{ji} \in (0, 1]` (1 = fully covered; less for distance decay or a weak signal), demand
weights :math:`w_i \ge 0`, site costs :math:`c_j` and the coverage :math:`q^0_i` that existing
service already gives. A cell's coverage is capped at one:

.. math:: \mathrm{cov}_i(x) = \min\bigl(1,\; q^0_i + \textstyle\sum_j q_{ji} x_j\bigr)

A :class:`Problem` holds that data, the mandatory and excluded sites, the :class:`GroupLimit`
constraints and the objective: at most ``k`` sites, a ``budget``, or a ``target`` share to reach
at least cost. Every other module of the optimiser reads it and never changes it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from connectivity.errors import OptimisationError
from connectivity.optimise import rules
from connectivity.optimise.solution import Ranking

logger = logging.getLogger("connectivity.optimise")


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


def as_quality(matrix: sparse.sparray | sparse.spmatrix | np.ndarray) -> sparse.csr_array:
    """Return a clean site × cell quality matrix (CSR, sorted, no zeros), checked to be in 0–1."""
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


@dataclass(frozen=True, eq=False)
class Problem:
    """A coverage location problem: data, constraints and objective (see the module's text).

    Make one with :meth:`from_arrays`, which checks every input.

    Attributes
    ----------
    matrix
        Site × cell qualities (CSR, sorted indices).
    weights, costs, existing
        Demand weight per cell, cost per site, existing coverage per cell (0–1).
    mandatory, excluded
        Sites that must, and must not, be chosen.
    limits
        Constraints on groups of sites and cells.
    k, budget, target
        At most ``k`` sites; at most ``budget`` spent; or the least cost covering ``target``
        of the demand weight (set covering). ``k`` and ``budget`` may be given together.
    name
        The model's name in messages, e.g. ``"maximal covering"``.
    """

    matrix: sparse.csr_array
    weights: np.ndarray
    costs: np.ndarray
    existing: np.ndarray
    mandatory: np.ndarray
    excluded: np.ndarray
    limits: tuple[GroupLimit, ...] = ()
    k: int | None = None
    budget: float | None = None
    target: float | None = None
    name: str = "coverage"

    @classmethod
    def from_arrays(
        cls,
        matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        *,
        costs: np.ndarray | None = None,
        existing: np.ndarray | None = None,
        mandatory: Sequence[int] = (),
        excluded: Sequence[int] = (),
        limits: Sequence[GroupLimit] = (),
        k: int | None = None,
        budget: float | None = None,
        target: float | None = None,
        name: str = "coverage",
    ) -> Problem:
        """Check the inputs and return the problem.

        Raises
        ------
        OptimisationError
            Weights, costs or existing coverage of the wrong length, negative or not finite;
            site indices out of range; masks that do not match the matrix; a ``k`` below 1, a
            budget at or below 0, a target outside (0, 1].
        InfeasibleError
            A site both mandatory and excluded.
        """
        m = as_quality(matrix)
        n_sites, n_cells = m.shape
        w = np.asarray(weights, dtype=float)
        if w.shape != (n_cells,):
            raise OptimisationError(f"{w.size} weights for {n_cells} cells")
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise OptimisationError("demand weights must be finite and non-negative")
        c = np.ones(n_sites) if costs is None else np.asarray(costs, dtype=float)
        if c.shape != (n_sites,):
            raise OptimisationError(f"{c.size} costs for {n_sites} sites")
        if np.any(c < 0) or not np.all(np.isfinite(c)):
            raise OptimisationError("site costs must be finite and non-negative")
        e = np.zeros(n_cells) if existing is None else np.clip(np.asarray(existing, float), 0, 1)
        if e.shape != (n_cells,):
            raise OptimisationError(f"{e.size} existing-coverage values for {n_cells} cells")
        must = np.asarray(list(dict.fromkeys(int(s) for s in mandatory)), dtype=np.int64)
        never = np.asarray(sorted({int(s) for s in excluded}), dtype=np.int64)
        for label, idx in (("mandatory", must), ("excluded", never)):
            if len(idx) and (idx.min() < 0 or idx.max() >= n_sites):
                raise OptimisationError(f"{label} site index out of range 0..{n_sites - 1}")
        both = np.intersect1d(must, never)
        if len(both):
            raise InfeasibleError(f"site {int(both[0])} is both mandatory and excluded")
        for limit in limits:
            if limit.sites.shape != (n_sites,) or limit.cells.shape != (n_cells,):
                raise OptimisationError(f"limit '{limit.name}': masks do not match the matrix")
        for what, problem in (
            ("k", rules.sites_problem(k)),
            ("the budget", rules.budget_problem(budget)),
            ("the target share", rules.target_problem(target)),
        ):
            if problem is not None:
                raise OptimisationError(f"{what} {problem}")
        return cls(
            matrix=m,
            weights=w,
            costs=c,
            existing=e,
            mandatory=must,
            excluded=never,
            limits=tuple(limits),
            k=None if k is None else int(k),
            budget=None if budget is None else float(budget),
            target=None if target is None else float(target),
            name=name,
        )

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.matrix.shape[0])

    @property
    def n_cells(self) -> int:
        """Number of demand cells."""
        return int(self.matrix.shape[1])

    @property
    def total_weight(self) -> float:
        """Total demand weight."""
        return float(self.weights.sum())

    @property
    def minimise(self) -> bool:
        """Whether the objective is a cost to minimise (set covering)."""
        return self.target is not None

    @property
    def open_weights(self) -> np.ndarray:
        """Each cell's weight times the part existing coverage leaves open, w (1 - q0).

        With full-quality coverage, a chosen site covering a cell adds exactly this, so the
        interchange and local search, which sum it over covered cells, rank plans as the
        objective does (existing coverage between 0 and 1 included).
        """
        return self.weights * (1.0 - np.minimum(self.existing, 1.0))

    @property
    def swaps_apply(self) -> bool:
        """Whether the model suits the interchange: k sites, full quality, no other rules."""
        m = self.matrix
        return not (
            self.k is None
            or self.budget is not None
            or bool(self.limits)
            or not m.nnz
            or m.data.min() < 1.0
        )

    def objective(self, ranking: Ranking) -> float:
        """Return a plan's objective: its cost under set covering, else the weight it covers."""
        if self.target is not None:
            return ranking.total_cost
        return self.covered(ranking.sites)

    def base_weight(self) -> float:
        """Weight covered with no new site (by existing coverage alone)."""
        return covered_weight(self.matrix, self.weights, [], self.existing)

    def covered(self, sites: Sequence[int] | np.ndarray) -> float:
        """Weight covered by existing coverage and a set of sites."""
        return covered_weight(self.matrix, self.weights, sites, self.existing)

    def with_limits(self, limits: Sequence[GroupLimit]) -> Problem:
        """Return the same problem under other group limits."""
        return dataclasses.replace(self, limits=tuple(limits))

    def restricted_to(self, keep: np.ndarray, k: int) -> Problem:
        """Return the k-site problem over the sites ``keep`` (sorted, with every mandatory site).

        Same cells, weights and existing coverage; site ``i`` of the result is ``keep[i]``.
        """
        return Problem.from_arrays(
            self.matrix[keep],
            self.weights,
            k=k,
            costs=self.costs[keep],
            existing=self.existing,
            mandatory=np.searchsorted(keep, self.mandatory).tolist(),
            name="maximal covering",
        )

    def on_cells(
        self,
        matrix: sparse.csr_array,
        weights: np.ndarray,
        existing: np.ndarray,
        limits: Sequence[GroupLimit],
    ) -> Problem:
        """Return the same problem over other cells of the same sites (one per kind of cell)."""
        return dataclasses.replace(
            self, matrix=matrix, weights=weights, existing=existing, limits=tuple(limits)
        )


def check_feasible(problem: Problem) -> None:
    """Raise :class:`InfeasibleError` naming a constraint that cannot be met."""
    p = problem
    k, budget = p.k, p.budget
    available = np.ones(p.n_sites, dtype=bool)
    available[p.excluded] = False
    if k is not None and len(p.mandatory) > k:
        raise InfeasibleError(f"{len(p.mandatory)} mandatory sites exceed k = {k}")
    mandatory_cost = float(p.costs[p.mandatory].sum())
    if budget is not None and mandatory_cost > budget + 1e-9:
        raise InfeasibleError(
            f"the mandatory sites cost {mandatory_cost:g}, more than the budget {budget:g}"
        )
    if budget is not None:
        warn_unaffordable(p.costs[available], budget - mandatory_cost)
    floor_total = 0
    for limit in p.limits:
        n_avail = int((limit.sites & available).sum())
        if limit.min_sites > n_avail:
            raise InfeasibleError(
                f"'{limit.name}' needs at least {limit.min_sites} sites but has only "
                f"{n_avail} candidate sites"
            )
        n_mand = int(limit.sites[p.mandatory].sum())
        if limit.max_sites is not None and n_mand > limit.max_sites:
            raise InfeasibleError(
                f"'{limit.name}' allows at most {limit.max_sites} sites but {n_mand} are mandatory"
            )
        if limit.max_sites is not None and limit.min_sites > limit.max_sites:
            raise InfeasibleError(
                f"'{limit.name}': minimum {limit.min_sites} sites exceeds maximum {limit.max_sites}"
            )
        floor_total += limit.min_sites
        if limit.min_share > 0:
            best = covered_weight(  # every available site together: an upper bound
                p.matrix[:, limit.cells],
                p.weights[limit.cells],
                np.flatnonzero(available),
                p.existing[limit.cells],
            )
            group_w = float(p.weights[limit.cells].sum())
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
    if p.target is not None and p.total_weight > 0:
        best = p.covered(np.flatnonzero(available))
        if best < p.target * p.total_weight - 1e-9:
            raise InfeasibleError(
                f"the target of {100 * p.target:.1f}% coverage cannot be reached: even every "
                f"candidate site together covers only {100 * best / p.total_weight:.1f}%"
            )


def warn_unaffordable(costs: np.ndarray, left: float) -> None:
    """Warn when what is left of the budget pays for no candidate site: the plan is empty."""
    if len(costs) and float(costs.min()) > left + 1e-9:
        logger.warning(
            "optimise: what is left of the budget (%g) pays for no site (the cheapest costs "
            "%g): the plan adds no site",
            left,
            float(costs.min()),
        )
