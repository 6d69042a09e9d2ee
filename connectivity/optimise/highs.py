"""HiGHS, the only module that imports ``highspy``: the MILP as arrays, its options, its runs.

Variables are the sites, then the merged cells (added coverage ``y``, from 0 to ``1 - e``);
rows are ``y_i - sum_j q_ij x_j <= 0`` per merged cell, then the objective's constraint (k
sites, a budget, or a target) and the group limits. Dominated sites are bounded at 0.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from connectivity.errors import OptimisationError
from connectivity.optimise.policy import DEFAULT_POLICY, Policy
from connectivity.optimise.problem import covered_weight
from connectivity.optimise.reduction import Prepared

logger = logging.getLogger("connectivity.optimise")

DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4  # HiGHS's simplex_strategy values


@contextmanager
def c_stdout_silenced() -> Iterator[None]:
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
class Milp:
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
        """Number of merged cells (y variables)."""
        return int(self.q.shape[0])

    @property
    def is_mip(self) -> bool:
        """Whether any variable is integer (else an LP relaxation)."""
        return bool(np.any(self.integrality))


@dataclass
class Relaxation:
    """An LP relaxation's optimum (HiGHS's minimisation form), site values and reduced costs.

    ``bound`` is the same optimum as the model's covered weight: a bound on every plan.
    """

    objective: float
    bound: float
    values: np.ndarray
    reduced_costs: np.ndarray


@dataclass
class HighsRun:
    """What one HiGHS run found (``x`` is None without a feasible solution)."""

    x: np.ndarray | None
    objective: float
    bound: float
    status: str


@dataclass
class MilpResult:
    """A solved MILP (or LP) in the model's own terms: sites' values, objective and bound."""

    x: np.ndarray | None
    objective: float
    bound: float
    status: str
    n_cells: int


def build_milp(prepared: Prepared, relax: bool) -> Milp:
    """Build the MILP (or its LP relaxation) over the merged cells as arrays for HiGHS."""
    p, merged = prepared.problem, prepared.merged
    q, w, e, masks = merged.q, merged.weights, merged.existing, merged.masks
    n_sites = p.n_sites
    n_cells = q.shape[0]
    base = p.base_weight()
    minimise_cost = p.target is not None
    # variables: x (sites) then y (added coverage of merged cells, 0..1-e)
    c = (
        np.concatenate([p.costs, np.zeros(n_cells)])
        if minimise_cost
        else np.concatenate([np.zeros(n_sites), -w])
    )
    lb = np.zeros(n_sites + n_cells)
    ub = np.concatenate([np.ones(n_sites), 1.0 - e])
    ub[:n_sites][prepared.dominated] = 0.0
    lb[p.mandatory] = 1.0
    ub[p.excluded] = 0.0
    rows: list[sparse.sparray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    if n_cells:  # y_i - sum_j q_ij x_j <= 0
        rows.append(sparse.hstack([-q, sparse.eye_array(n_cells)], format="csr"))
        lo.append(np.full(n_cells, -np.inf))
        hi.append(np.zeros(n_cells))

    def add(row_x: np.ndarray | None, row_y: np.ndarray | None, low: float, high: float) -> None:
        rx = np.zeros(n_sites) if row_x is None else row_x
        ry = np.zeros(n_cells) if row_y is None else row_y
        rows.append(sparse.csr_array(np.concatenate([rx, ry])[None, :]))
        lo.append(np.array([low]))
        hi.append(np.array([high]))

    if p.k is not None:
        add(np.ones(n_sites), None, -np.inf, p.k)
    if p.budget is not None:
        add(p.costs.astype(float), None, -np.inf, p.budget)
    if p.target is not None:
        add(None, w, p.target * p.total_weight - base, np.inf)
    for limit, mask in zip(p.limits, masks, strict=True):
        if limit.min_sites > 0 or limit.max_sites is not None:
            high = np.inf if limit.max_sites is None else float(limit.max_sites)
            add(limit.sites.astype(float), None, float(limit.min_sites), high)
        if limit.min_share > 0:
            group_w = float(p.weights[limit.cells].sum())
            group_base = covered_weight(
                p.matrix[:, limit.cells], p.weights[limit.cells], [], p.existing[limit.cells]
            )
            add(None, np.where(mask, w, 0.0), limit.min_share * group_w - group_base, np.inf)
    return Milp(
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
        weighted_rows=p.budget is not None
        or p.target is not None
        or any(limit.min_share > 0 for limit in p.limits),
    )


def highs(
    model: Milp,
    *,
    time_limit_s: float | None,
    mip_gap: float,
    start: np.ndarray | None = None,
    policy: Policy = DEFAULT_POLICY,
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
    with c_stdout_silenced():  # HiGHS prints a banner on stdout when it starts
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    # HiGHS's presolve is off: cell merging and dominance fixing already do what it would do
    # here, and it does not look at the time limit (on a model with 2.9 million nonzeros it ran
    # 370 s past a 60 s limit). Measured on the benchmark instances with it off: 10,000 x 1,000
    # at 300 m 9.8 -> 6.8 s, at 800 m 37 -> 24.5 s, 5,000 x 500 at 300 m 0.4 -> 0.1 s.
    h.setOptionValue("presolve", "off")
    if matrix is not None and matrix.nnz > policy.ipm_min_nnz:
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
            policy.cut_pool_soft_limit if k_site else policy.cut_pool_soft_limit_weighted,
        )
        if k_site:
            h.setOptionValue("mip_allow_cut_separation_at_nodes", False)
    if is_mip and start is not None and (matrix is None or matrix.nnz <= policy.ipm_min_nnz):
        # With the greedy plan as a start, HiGHS's own primal heuristics are not needed on
        # models it can close: on that instance its sub-MIPs took 15 of 24 s. Both changes
        # together, exact solve times on the benchmark: 25.4 -> 13.1 s (10,000 x 1,000, 800 m),
        # 6.4 -> 2.8 s (300 m), 1.25 -> 0.60 s (5,000 x 500, 800 m), same optima. On larger
        # models the time limit ends the search and the sub-MIPs improve the start (200,000 x
        # 10,000 at 300 m: 2,059,620 with them, 2,055,186 without), so they stay on.
        for heuristic in policy.highs_heuristics:
            h.setOptionValue(f"mip_heuristic_run_{heuristic}", False)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", policy.highs_random_seed)
    h.passModel(lp)
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        h.setSolution(sol)
    return h


def highs_result(h: Any, *, is_mip: bool) -> HighsRun:
    """Read a finished HiGHS run: solution, objective, bound and status."""
    model_status = h.getModelStatus()
    status_text = h.modelStatusToString(model_status)
    import highspy

    ms = highspy.HighsModelStatus
    if model_status == ms.kInfeasible:
        return HighsRun(None, np.nan, np.nan, "infeasible")
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_solution:
        return HighsRun(None, np.nan, np.nan, status_text)
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
    return HighsRun(x, objective, bound, status)


def run_highs(model: Milp, *, policy: Policy = DEFAULT_POLICY, **options: Any) -> HighsRun:
    """Minimise the model with HiGHS (options of :func:`highs`); return what it found.

    A branch and bound logs its best plan, bound and gap at INFO level every
    ``policy.progress_every_s`` seconds, so that a long exact solve shows it is moving.
    """
    h = highs(model, policy=policy, **options)
    if model.is_mip:
        h.cbMipInterrupt.subscribe(ProgressLog(model, policy.progress_every_s))
    h.run()
    return highs_result(h, is_mip=model.is_mip)


class ProgressLog:
    """HiGHS MIP callback: log the search's best plan and bound now and then."""

    def __init__(self, model: Milp, every_s: float) -> None:
        self.model = model
        self.every_s = every_s
        self.next_s = every_s

    def __call__(self, event: Any) -> None:
        """Log the best plan and bound if ``every_s`` has passed since the last line."""
        out = event.data_out
        if out.running_time < self.next_s:
            return
        self.next_s = out.running_time + self.every_s
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


def seconds_left(time_limit_s: float | None, since: float, *, floor: float = 0.0) -> float | None:
    """Return what is left of a time limit counted from ``since`` (None: no limit), >= ``floor``."""
    if time_limit_s is None:
        return None
    return max(floor, time_limit_s - (time.perf_counter() - since))


def solve_milp(
    prepared: Prepared,
    time_limit_s: float | None,
    mip_gap: float,
    *,
    relax: bool = False,
    start_sites: np.ndarray | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> MilpResult:
    """Solve the MILP (or its LP relaxation); the time limit covers building the model too.

    Raises
    ------
    OptimisationError
        HiGHS found no solution (other than by infeasibility), with its status.
    """
    began = time.perf_counter()
    model = build_milp(prepared, relax)
    n_sites, n_cells, base = model.n_sites, model.n_cells, model.base
    start = None
    if start_sites is not None and not relax:
        x0 = np.zeros(n_sites)
        x0[start_sites] = 1.0
        y0 = np.minimum(model.ub[n_sites:], model.q @ x0) if n_cells else np.zeros(0)
        start = np.concatenate([x0, y0])
    time_limit_s = seconds_left(time_limit_s, began, floor=0.5)
    solve = functools.partial(
        run_highs, model, time_limit_s=time_limit_s, mip_gap=mip_gap, policy=policy
    )
    run = solve(start=start)
    if start is not None and run.x is not None and not _consistent(prepared, run, base, relax):
        # seen with HiGHS 1.16: after a MIP start, a model solved in presolve came back
        # "optimal" with the start's sites and a wrong objective; solve again without it
        logger.debug("optimise: HiGHS answer after the MIP start is inconsistent; re-solving")
        run = solve(start=None)
    if run.status == "infeasible":
        return MilpResult(None, np.nan, np.nan, run.status, n_cells)
    if run.x is None:
        raise OptimisationError(f"HiGHS found no solution ({run.status})")
    if model.minimise_cost:
        objective, bound = run.objective, run.bound
    else:
        objective, bound = base - run.objective, base - run.bound
    return MilpResult(run.x[:n_sites], objective, bound, run.status, n_cells)


def _consistent(prepared: Prepared, run: HighsRun, base: float, relax: bool) -> bool:
    """Check HiGHS's objective against the objective of the sites it returned."""
    p = prepared.problem
    if relax or run.x is None:
        return True
    sites = np.flatnonzero(run.x[: p.n_sites] > 0.5)
    if p.target is not None:
        own = float(p.costs[sites].sum())
        reported = run.objective
    else:
        own = p.covered(sites)
        reported = base - run.objective
    if p.target is None and own > reported:  # y may sit below its cap: fine
        return True
    return abs(own - reported) <= 1e-6 * max(1.0, abs(own))


def pdlp_relaxation(
    prepared: Prepared, time_limit_s: float | None, *, policy: Policy = DEFAULT_POLICY
) -> tuple[np.ndarray, np.ndarray] | None:
    """Approximate the LP relaxation by HiGHS's first-order solver (PDLP).

    For models whose LP relaxation is too large to solve within the time limit (the
    benchmark's 40,000 x 10,000 instance at 800 m: 2.8 million nonzeros, 196 s by interior
    point). PDLP's iterates are only approximately optimal, but its row duals, clipped to
    ``0 <= lambda_i <= w_i``, are Lagrangian multipliers of the coverage rows, and every such
    multiplier gives a valid bound (:func:`connectivity.optimise.bounds.lagrangian_bound`).
    Measured there: after 10 s the bound is within 0.05 % of the LP optimum (1,189,534
    against 1,188,901), where 300 subgradient steps (4 s) stop 2.7 % above it.

    Returns the sites' LP values and the multipliers, or None for set covering (a
    minimisation, which this bound does not serve) and when PDLP returns no duals.
    """
    if prepared.problem.target is not None:
        return None
    model = build_milp(prepared, relax=True)
    if model.n_cells == 0:
        return None
    h = highs(model, time_limit_s=time_limit_s, mip_gap=0.0, policy=policy)
    h.setOptionValue("solver", "pdlp")
    h.run()
    solution = h.getSolution()
    duals = np.asarray(solution.row_dual, dtype=float)[: model.n_cells]
    values = np.asarray(solution.col_value, dtype=float)[: model.n_sites]
    if len(duals) < model.n_cells or len(values) < model.n_sites:
        return None
    # HiGHS minimises -w y subject to y - q x <= 0: those rows' duals are <= 0
    return values, np.clip(-duals, 0.0, prepared.merged.weights)


def solve_arrays(
    c: np.ndarray,
    matrix: sparse.csr_array,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    integrality: np.ndarray,
    *,
    time_limit_s: float | None,
    mip_gap: float = 1e-4,
    start: np.ndarray | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> HighsRun:
    """Minimise ``c @ x`` over ``row_lo <= matrix @ x <= row_hi`` and the bounds.

    A MILP if any ``integrality``: for models other than the coverage MILP (the capacitated
    one). Its progress log reads the negated objective as the value found (a maximisation).
    """
    model = Milp(
        c=c,
        matrix=matrix,
        row_lo=row_lo,
        row_hi=row_hi,
        lb=lb,
        ub=ub,
        integrality=integrality,
        q=sparse.csr_array((0, 0)),
        n_sites=int(np.count_nonzero(integrality)),
        base=0.0,
        minimise_cost=False,
        weighted_rows=True,
    )
    return run_highs(model, time_limit_s=time_limit_s, mip_gap=mip_gap, start=start, policy=policy)
