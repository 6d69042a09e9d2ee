r"""Capacitated maximal covering: a site serves at most its capacity; demand may be split.

A point :math:`i` asks for :math:`u_i` simultaneous users; a site :math:`j` in reach (quality
:math:`q_{ij}`) may serve up to :math:`q_{ij} u_i` of them, and all its points together at most
its capacity :math:`c_j`. Each user served is worth :math:`v_i` (the point's priority weight per
user). Existing zones are sites already open, with their own capacity:

.. math::
    \max\; b + \sum_{ij} v_i f_{ij} \quad\text{s.t.}\quad
    \sum_j f_{ij} \le u_i,\;
    \sum_i f_{ij} \le c_j x_j,\;
    f_{ij} \le q_{ij} u_i x_j,\;
    \sum_j x_j \le k \text{ or } \sum_j p_j x_j \le B,\; x_j \in \{0, 1\}

(:math:`b`: what mobile coverage already gives; open zones have :math:`x_j = 1`). For a given
set of sites the best split is a transportation LP (:func:`assign`); the greedy method adds
the site whose users, filled best-value first into its residual demand, add the most (lazy:
a site's gain only falls), then splits the demand of the chosen sites optimally; the exact
method solves the MILP with HiGHS from the greedy plan. Points with the same sites in reach
and the same value are merged first. Ranks are the greedy order, and each rank's gain is what
its site adds to the optimal split of the sites before it, so any first ranks are a plan.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from connectivity.errors import OptimisationError
from connectivity.optimise import rules
from connectivity.optimise.highs import solve_arrays
from connectivity.optimise.problem import InfeasibleError, as_quality, warn_unaffordable
from connectivity.optimise.solution import Ranking, Solution, relative_gap

logger = logging.getLogger("connectivity.optimise")


@dataclass(frozen=True, eq=False)
class CapacitatedProblem:
    """A capacitated coverage problem (see the module's text); make one with :meth:`of`.

    Attributes
    ----------
    matrix, fixed
        Candidate sites × points and open zones × points: reach qualities (0–1).
    users
        Simultaneous users each point asks for (what the open and new sites may serve).
    value
        Objective weight of one user served at each point.
    capacity, fixed_capacity
        Users each candidate site, and each open zone, serves at most (``inf``: unbounded).
    costs
        Each candidate's cost (what ``budget`` limits).
    base
        Objective of what needs no site (mobile coverage).
    k, budget, mandatory, excluded
        The plan's limits.
    """

    matrix: sparse.csr_array
    fixed: sparse.csr_array
    users: np.ndarray
    value: np.ndarray
    capacity: np.ndarray
    fixed_capacity: np.ndarray
    costs: np.ndarray
    base: float = 0.0
    k: int | None = None
    budget: float | None = None
    mandatory: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()

    @classmethod
    def of(
        cls,
        matrix: sparse.sparray | np.ndarray,
        users: np.ndarray,
        value: np.ndarray,
        capacity: np.ndarray,
        *,
        fixed: sparse.sparray | np.ndarray | None = None,
        fixed_capacity: np.ndarray | None = None,
        costs: np.ndarray | None = None,
        base: float = 0.0,
        k: int | None = None,
        budget: float | None = None,
        mandatory: tuple[int, ...] | list[int] = (),
        excluded: tuple[int, ...] | list[int] = (),
    ) -> CapacitatedProblem:
        """Check the inputs and return the problem.

        Raises
        ------
        OptimisationError
            Arrays of the wrong length; negative or non-finite users or values; a capacity
            not above 0; neither ``k`` nor a budget; a mandatory site also excluded.
        """
        m = as_quality(matrix)
        n_sites, n_points = m.shape
        f = as_quality(fixed if fixed is not None else sparse.csr_array((0, n_points)))
        u, v = np.asarray(users, float), np.asarray(value, float)
        cap = np.asarray(capacity, float)
        fcap = np.asarray(fixed_capacity if fixed_capacity is not None else np.zeros(0), float)
        c = np.ones(n_sites) if costs is None else np.asarray(costs, float)
        for name, arr, n in (
            ("users", u, n_points),
            ("values", v, n_points),
            ("capacities", cap, n_sites),
            ("costs", c, n_sites),
            ("open zones' capacities", fcap, f.shape[0]),
        ):
            if arr.shape != (n,):
                raise OptimisationError(f"{arr.size} {name} for {n}")
        if f.shape[1] != n_points:
            raise OptimisationError("the open zones' reach does not match the points")
        for name, arr in (("users", u), ("values", v), ("costs", c)):
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise OptimisationError(f"{name} must be finite and non-negative")
        if np.any(~(cap > 0)) or np.any(~(fcap > 0)):
            raise OptimisationError("capacities must be greater than 0 (inf: unbounded)")
        if k is None and budget is None:
            raise OptimisationError("give the number of sites k, a budget, or both")
        for what, problem in (
            ("k", rules.sites_problem(k)),
            ("the budget", rules.budget_problem(budget)),
        ):
            if problem is not None:
                raise OptimisationError(f"{what} {problem}")
        must = tuple(sorted({int(s) for s in mandatory}))
        never = tuple(sorted({int(s) for s in excluded}))
        if set(must) & set(never):
            raise InfeasibleError("a site is both mandatory and excluded")
        return cls(m, f, u, v, cap, fcap, c, float(base), k, budget, must, never)

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.matrix.shape[0])

    def check_feasible(self) -> None:
        """Raise :class:`InfeasibleError` when the mandatory sites break the limits."""
        if self.k is not None and len(self.mandatory) > self.k:
            raise InfeasibleError(f"{len(self.mandatory)} mandatory sites exceed k = {self.k}")
        cost = float(self.costs[list(self.mandatory)].sum()) if self.mandatory else 0.0
        if self.budget is not None and cost > self.budget + 1e-9:
            raise InfeasibleError(
                f"the mandatory sites cost {cost:g}, more than the budget {self.budget:g}"
            )
        if self.budget is not None:
            open_sites = np.setdiff1d(np.arange(self.n_sites), self.excluded)
            warn_unaffordable(self.costs[open_sites], self.budget - cost)


@dataclass(frozen=True)
class Assignment:
    """The best split of the demand between a set of open sites: what each serves.

    ``pairs`` holds each site-point pair's site (candidate index, or ``-1 - z`` for open
    zone ``z``), point and flow (users).
    """

    objective: float
    served_by_site: np.ndarray  # users served by each chosen site, in the order given
    served_by_zone: np.ndarray  # users served by each open zone
    served_at_point: np.ndarray  # users served at each point
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] = (
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0),
    )


def assign(problem: CapacitatedProblem, sites: np.ndarray | list[int]) -> Assignment:
    """Split the points' demand between open zones and ``sites`` to serve the most value.

    A transportation LP over the pairs in reach, solved by HiGHS; points that every open site
    reaches alike, with the same value, are merged first.
    """
    p = problem
    sites = np.asarray(sites, dtype=np.int64)
    rows = sparse.csr_array(sparse.vstack([p.matrix[sites], p.fixed], format="csr"))
    caps = np.concatenate([p.capacity[sites], p.fixed_capacity])
    n_points = p.matrix.shape[1]
    if rows.nnz == 0:
        zeros = np.zeros(n_points)
        return Assignment(p.base, np.zeros(len(sites)), np.zeros(p.fixed.shape[0]), zeros)
    flows = _solve_flows(rows, caps, p.users, p.value)
    pairs = rows.tocoo()
    coo = sparse.coo_array((flows, (pairs.row, pairs.col)), shape=rows.shape)
    by_row = np.asarray(coo.sum(axis=1)).ravel()
    at_point = np.asarray(coo.sum(axis=0)).ravel()
    objective = p.base + float(p.value @ at_point)
    owner = np.concatenate([sites, -1 - np.arange(p.fixed.shape[0])])[pairs.row]
    return Assignment(
        objective,
        by_row[: len(sites)],
        by_row[len(sites) :],
        at_point,
        (owner, pairs.col.astype(np.int64), flows),
    )


def _solve_flows(
    rows: sparse.csr_array, caps: np.ndarray, users: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """Optimal flows on each stored pair of ``rows`` (sites × points), in CSR order."""
    coo = rows.tocoo()
    site, point, q = coo.row, coo.col, coo.data
    n_pairs = len(q)
    touched, point_row = np.unique(point, return_inverse=True)
    finite = np.flatnonzero(np.isfinite(caps))
    site_row = np.full(len(caps), -1)
    site_row[finite] = np.arange(len(finite))
    n_point_rows = len(touched)
    pair_ids = np.arange(n_pairs)
    a_point = sparse.csr_array(
        (np.ones(n_pairs), (point_row, pair_ids)), shape=(n_point_rows, n_pairs)
    )
    limited = site_row[site] >= 0
    a_site = sparse.csr_array(
        (np.ones(int(limited.sum())), (site_row[site[limited]], pair_ids[limited])),
        shape=(len(finite), n_pairs),
    )
    matrix = sparse.csr_array(sparse.vstack([a_point, a_site], format="csr"))
    row_hi = np.concatenate([users[touched], caps[finite]])
    run = solve_arrays(
        -value[point],
        matrix,
        np.full(len(row_hi), -np.inf),
        row_hi,
        np.zeros(n_pairs),
        q * users[point],
        np.zeros(n_pairs, dtype=bool),
        time_limit_s=None,
    )
    if run.x is None:
        raise OptimisationError(f"the capacity split could not be solved ({run.status})")
    return np.clip(np.asarray(run.x), 0.0, None)


def _knapsack_gain(
    problem: CapacitatedProblem, site: int, residual: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Return what a site would serve from the residual demand, best value first, up to capacity."""
    m = problem.matrix
    lo, hi = m.indptr[site], m.indptr[site + 1]
    idx = m.indices[lo:hi]
    can = np.minimum(m.data[lo:hi] * problem.users[idx], residual[idx])
    order = np.lexsort((idx, -problem.value[idx]))
    can = can[order]
    room = problem.capacity[site]
    taken = np.minimum(can, np.maximum(room - (np.cumsum(can) - can), 0.0))
    return float(problem.value[idx[order]] @ taken), idx[order], taken


def greedy_sites(problem: CapacitatedProblem, before: Assignment | None = None) -> list[int]:
    """Return the lazy greedy choice of sites (mandatory first), in the order chosen.

    With a budget, sites are taken by gain per unit cost, and the plan is compared with the
    best single affordable site, as the uncapacitated greedy does. ``before``: the open
    zones' split on their own, when already solved.
    """
    p = problem
    p.check_feasible()
    residual = p.users.copy()
    before = assign(p, []) if before is None else before
    residual = np.maximum(residual - before.served_at_point, 0.0)
    chosen: list[int] = []
    spent = 0.0
    blocked = np.zeros(p.n_sites, dtype=bool)
    blocked[list(p.excluded)] = True

    def take(site: int) -> None:
        nonlocal spent
        _, idx, taken = _knapsack_gain(p, site, residual)
        residual[idx] -= taken
        np.maximum(residual, 0.0, out=residual)
        chosen.append(site)
        blocked[site] = True
        spent += float(p.costs[site])

    for site in p.mandatory:
        take(site)
    by_ratio = p.budget is not None and len(set(p.costs.tolist())) > 1

    def score(site: int) -> float:
        gain = _knapsack_gain(p, site, residual)[0]
        if by_ratio:
            return gain / p.costs[site] if p.costs[site] > 0 else np.inf if gain > 0 else 0.0
        return gain

    heap = [(-score(j), j) for j in range(p.n_sites) if not blocked[j]]
    heapq.heapify(heap)
    while heap and (p.k is None or len(chosen) < p.k):
        _, j = heapq.heappop(heap)
        if blocked[j] or (p.budget is not None and spent + p.costs[j] > p.budget + 1e-9):
            continue
        fresh = score(j)
        if heap and fresh < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-fresh, j))
            continue
        if fresh <= 0:
            break
        take(j)
    if by_ratio and p.budget is not None:  # the best single affordable site may cover more
        best_single = _best_single(p)
        if best_single is not None:
            one = [*p.mandatory, best_single] if best_single not in p.mandatory else [*p.mandatory]
            if assign(p, one).objective > assign(p, chosen).objective + 1e-9:
                return list(dict.fromkeys(one))
    return chosen


def _best_single(p: CapacitatedProblem) -> int | None:
    left = (p.budget or 0.0) - float(p.costs[list(p.mandatory)].sum() if p.mandatory else 0.0)
    ok = np.flatnonzero(p.costs <= left + 1e-9)
    ok = np.setdiff1d(ok, np.asarray(p.excluded, dtype=np.int64))
    if not len(ok):
        return None
    residual = p.users.copy()
    gains = [_knapsack_gain(p, int(j), residual)[0] for j in ok]
    return int(ok[int(np.argmax(gains))])


def exact_sites(
    problem: CapacitatedProblem,
    start: list[int],
    *,
    time_limit_s: float | None,
    mip_gap: float,
    relax: bool = False,
) -> tuple[list[int], float, str]:
    """Solve the MILP with HiGHS from a plan; return its sites, a proven bound and its status.

    With ``relax`` the LP relaxation (its optimum is a bound on every plan).
    """
    p = problem
    m = p.matrix.tocoo()
    f = p.fixed.tocoo()
    n, n_zones = p.n_sites, p.fixed.shape[0]
    # variables: x (n), flows of candidate pairs, flows of open-zone pairs
    n_pairs, n_fixed = len(m.data), len(f.data)
    n_var = n + n_pairs + n_fixed
    point = np.concatenate([m.col, f.col])
    q = np.concatenate([m.data, f.data])
    flow = np.arange(n, n_var)
    rows: list[sparse.csr_array] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    touched, point_row = np.unique(point, return_inverse=True)
    rows.append(
        sparse.csr_array((np.ones(len(point)), (point_row, flow)), shape=(len(touched), n_var))
    )
    lo.append(np.full(len(touched), -np.inf))
    hi.append(p.users[touched])
    # candidate capacities: sum_i f_ij - c_j x_j <= 0 (finite c_j)
    finite = np.flatnonzero(np.isfinite(p.capacity))
    site_row = np.full(n, -1)
    site_row[finite] = np.arange(len(finite))
    cand_flow = flow[:n_pairs]
    keep = site_row[m.row] >= 0
    r = np.concatenate([site_row[m.row[keep]], site_row[finite]])
    c = np.concatenate([cand_flow[keep], finite])
    v = np.concatenate([np.ones(int(keep.sum())), -p.capacity[finite]])
    rows.append(sparse.csr_array((v, (r, c)), shape=(len(finite), n_var)))
    lo.append(np.full(len(finite), -np.inf))
    hi.append(np.zeros(len(finite)))
    # linking: f_ij - q_ij u_i x_j <= 0
    pair = np.arange(n_pairs)
    link = sparse.csr_array(
        (
            np.concatenate([np.ones(n_pairs), -(m.data * p.users[m.col])]),
            (np.concatenate([pair, pair]), np.concatenate([cand_flow, m.row])),
        ),
        shape=(n_pairs, n_var),
    )
    rows.append(link)
    lo.append(np.full(n_pairs, -np.inf))
    hi.append(np.zeros(n_pairs))
    # open zones' capacities
    zone_flow = flow[n_pairs:]
    zfinite = np.flatnonzero(np.isfinite(p.fixed_capacity))
    zrow = np.full(n_zones, -1)
    zrow[zfinite] = np.arange(len(zfinite))
    zkeep = zrow[f.row] >= 0
    rows.append(
        sparse.csr_array(
            (np.ones(int(zkeep.sum())), (zrow[f.row[zkeep]], zone_flow[zkeep])),
            shape=(len(zfinite), n_var),
        )
    )
    lo.append(np.full(len(zfinite), -np.inf))
    hi.append(p.fixed_capacity[zfinite])
    # the plan's limits
    if p.k is not None:
        rows.append(
            sparse.csr_array((np.ones(n), (np.zeros(n, int), np.arange(n))), shape=(1, n_var))
        )
        lo.append(np.array([-np.inf]))
        hi.append(np.array([float(p.k)]))
    if p.budget is not None:
        rows.append(sparse.csr_array((p.costs, (np.zeros(n, int), np.arange(n))), shape=(1, n_var)))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.budget]))
    matrix = sparse.csr_array(sparse.vstack(rows, format="csr"))
    cost = np.concatenate([np.zeros(n), -p.value[point]])
    lb = np.zeros(n_var)
    ub = np.concatenate([np.ones(n), q * p.users[point]])
    lb[list(p.mandatory)] = 1.0
    ub[list(p.excluded)] = 0.0
    integrality = np.zeros(n_var, dtype=bool)
    integrality[:n] = True
    if relax:
        integrality[:] = False
    x0 = None
    if start:
        x0 = np.zeros(n_var)
        x0[start] = 1.0
        x0[n:] = _pair_flows(p, assign(p, start))
    logger.log(
        logging.DEBUG if relax else logging.INFO,
        "optimise: capacitated %s over %d sites and %d site-point pairs (time limit %s)",
        "LP relaxation" if relax else "exact search",
        n,
        n_pairs + n_fixed,
        f"{time_limit_s:g} s" if time_limit_s is not None else "none",
    )
    run = solve_arrays(
        cost,
        matrix,
        np.concatenate(lo),
        np.concatenate(hi),
        lb,
        ub,
        integrality,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        start=x0,
    )
    if run.status == "infeasible":
        raise InfeasibleError("the capacitated plan's limits cannot all be met")
    if run.x is None:
        raise OptimisationError(f"HiGHS found no capacitated plan ({run.status})")
    sites = [int(j) for j in np.flatnonzero(np.asarray(run.x[:n]) > 0.5)]
    bound = p.base - run.bound if np.isfinite(run.bound) else np.inf
    return sites, float(bound), run.status


def _pair_flows(p: CapacitatedProblem, split: Assignment) -> np.ndarray:
    """Return a split's flows laid out as the MILP's pair variables (candidates', then zones')."""
    owner, point, flow = split.pairs
    lookup = {(int(o), int(i)): float(f) for o, i, f in zip(owner, point, flow, strict=True)}
    m, f = p.matrix.tocoo(), p.fixed.tocoo()
    cand = [lookup.get((int(r), int(c)), 0.0) for r, c in zip(m.row, m.col, strict=True)]
    zone = [lookup.get((-1 - int(r), int(c)), 0.0) for r, c in zip(f.row, f.col, strict=True)]
    return np.asarray(cand + zone, dtype=float)


@dataclass(frozen=True)
class CapacitatedSolution:
    """A capacitated plan: its solution (ranked, as every plan) and the split it serves.

    ``changes`` gives, rank by rank, the points whose users served the rank's site changed
    (in the optimal split of the sites up to it) and by how many.
    """

    solution: Solution
    split: Assignment
    before: Assignment
    changes: list[tuple[np.ndarray, np.ndarray]]


def solve_capacitated(
    problem: CapacitatedProblem,
    method: str = "greedy",
    *,
    time_limit_s: float | None = 60.0,
    mip_gap: float = 1e-4,
    full_users: np.ndarray | None = None,
    mobile: np.ndarray | None = None,
) -> CapacitatedSolution:
    """Solve by ``greedy`` or ``exact``; rank the sites and split the demand optimally.

    ``full_users`` (each point's users before mobile coverage, default ``users``) and
    ``mobile`` (the share mobile coverage serves, default 0) turn users served into each
    point's share served, ``Ranking.covered``.
    """
    if method not in ("greedy", "exact"):
        raise OptimisationError(f"unknown method {method!r}; choose greedy or exact")
    start = time.perf_counter()
    p = problem
    before = assign(p, [])  # the open zones alone: where the greedy starts, and rank 0
    sites = greedy_sites(p, before)
    steps = ["capacitated greedy"]
    bound, status = np.nan, "greedy"
    if method == "exact":
        left = (
            None if time_limit_s is None else max(1.0, time_limit_s - (time.perf_counter() - start))
        )
        found, bound, status = exact_sites(p, sites, time_limit_s=left, mip_gap=mip_gap)
        steps.append("HiGHS branch and bound on the capacitated MILP")
        if assign(p, found).objective >= assign(p, sites).objective - 1e-9:
            sites = _rank(p, found, before)
    ranked, gains, split, changes = _ranked(p, sites, before)
    objective = split.objective
    if method == "greedy":
        bound = _lp_bound(p)
        steps.append("LP bound")
    covered = served_share(p, split, full_users, mobile)
    total_cost = float(p.costs[ranked].sum()) if len(ranked) else 0.0
    ranking = Ranking(
        sites=np.asarray(ranked, dtype=np.int64),
        gains=np.asarray(gains, dtype=float),
        newly_covered=[idx[delta > 0] for idx, delta in changes],
        covered=covered,
        total_cost=total_cost,
    )
    gap = relative_gap(objective, bound, minimise=False)
    solution = Solution(
        method=method,
        ranking=ranking,
        objective=objective,
        bound=float(bound),
        gap=gap,
        coverage_share=float(objective / max(p.base + float(p.value @ p.users), 1e-12)),
        total_cost=total_cost,
        status=status,
        seconds=time.perf_counter() - start,
        n_cells_model=int(p.matrix.shape[1]),
        path="capacitated",
        steps=tuple(steps),
    )
    logger.info(
        "optimise: capacitated %s chose %d sites, objective %.1f, bound %.1f, gap %.2f%% (%.2f s)",
        method,
        len(ranked),
        objective,
        bound,
        100 * gap if gap == gap else float("nan"),
        solution.seconds,
    )
    return CapacitatedSolution(solution, split, before, changes)


def served_share(
    p: CapacitatedProblem,
    split: Assignment,
    full_users: np.ndarray | None = None,
    mobile: np.ndarray | None = None,
) -> np.ndarray:
    """Return each point's share served (0–1): mobile coverage, plus users served / users."""
    full = p.users if full_users is None else full_users
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(full > 0, split.served_at_point / full, 0.0)
    return np.minimum(1.0, share + (0.0 if mobile is None else mobile))


def _rank(p: CapacitatedProblem, sites: list[int], before: Assignment) -> list[int]:
    """Order a set of sites by greedy marginal gain (mandatory first)."""
    sub = dataclasses.replace(
        p,
        k=len(sites),
        budget=None,
        excluded=tuple(int(j) for j in np.setdiff1d(np.arange(p.n_sites), sites)),
    )
    order = greedy_sites(sub, before)
    return order + [j for j in sites if j not in order]


def _ranked(
    p: CapacitatedProblem, sites: list[int], before: Assignment
) -> tuple[list[int], list[float], Assignment, list[tuple[np.ndarray, np.ndarray]]]:
    """Each rank's gain: what its site adds to the optimal split of the sites before it."""
    gains = []
    changes = []
    split = before
    for r in range(1, len(sites) + 1):
        nxt = assign(p, sites[:r])
        gains.append(nxt.objective - split.objective)
        delta = nxt.served_at_point - split.served_at_point
        moved = np.flatnonzero(np.abs(delta) > 1e-9)
        changes.append((moved, delta[moved]))
        split = nxt
    return sites, gains, split, changes


def _lp_bound(p: CapacitatedProblem) -> float:
    """Return the LP relaxation's optimum (a bound on every plan), or NaN where it is not solved."""
    try:
        _, bound, status = exact_sites(p, [], time_limit_s=30.0, mip_gap=1e-4, relax=True)
    except OptimisationError:
        return float("nan")
    return bound if status == "optimal" else float("nan")
