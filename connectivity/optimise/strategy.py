"""How a problem is solved: the path, chosen up front from its size and kind, then run.

Every solve starts from the greedy plan, so a plan is always at hand. Then, by :class:`Path`:

- ``greedy``: on k-site models, kernel search on the sites the Lagrangian relaxation keeps
  choosing; the plan's gap to the LP relaxation's bound where that is cheap, else to a
  Lagrangian bound (at PDLP's multipliers, or the kernel search's); iterated local search
  unless the bound proves it;
- ``exact, PDLP``: k-site models whose LP relaxation is too large to solve (city grids with
  large radii): PDLP approximates it, a dive over the sites it values most and local search
  give the plan, PDLP's multipliers the bound;
- ``exact, dive``: k-site models with full-quality coverage: the LP relaxation is solved and
  rounded by diving; a plan within the gap of its bound is proven without branch and bound,
  otherwise reduced-cost fixing leaves sites out and HiGHS searches the rest (or, when the LP
  did not finish in a short time limit, PDLP's multipliers bound the greedy plan);
- ``exact, HiGHS``: everything else (budgets, targets, floors): HiGHS on the whole model.

The path is logged and recorded in the solution (``Solution.path``); how it ended is its
``status``. Problems with many identical cells are first reduced to one cell per kind
(:func:`connectivity.optimise.reduction.kinds`) and the solution mapped back.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from connectivity.errors import OptimisationError
from connectivity.optimise import rules
from connectivity.optimise.bounds import no_looser_than, relaxation_bound, tighter_bound
from connectivity.optimise.dives import (
    dive_applies,
    dive_with_relaxation,
    exact_on_remaining,
    fixed_by_reduced_cost,
    restricted_dive,
)
from connectivity.optimise.greedy import greedy, rank_selection
from connectivity.optimise.highs import Relaxation, pdlp_relaxation, seconds_left, solve_milp
from connectivity.optimise.kernel import kernel_search
from connectivity.optimise.local_search import interchange, iterated_interchange
from connectivity.optimise.policy import DEFAULT_POLICY, Policy
from connectivity.optimise.problem import InfeasibleError, Problem, check_feasible
from connectivity.optimise.reduction import Prepared, expand, kinds, prepare
from connectivity.optimise.solution import Ranking, Solution, relative_gap

logger = logging.getLogger("connectivity.optimise")

Method = Literal["greedy", "exact"]
METHODS: tuple[str, ...] = ("greedy", "exact")


class Path(enum.Enum):
    """The ways a problem is solved (see the module's text)."""

    GREEDY = "greedy"
    EXACT_PDLP = "exact, PDLP"
    EXACT_DIVE = "exact, dive"
    EXACT_HIGHS = "exact, HiGHS"


def choose_path(prepared: Prepared, method: str, warm: Ranking | None, policy: Policy) -> Path:
    """Pick the path from the method, the model's size and kind and the greedy plan."""
    p = prepared.problem
    if method == "greedy":
        return Path.GREEDY
    swaps = warm is not None and p.swaps_apply and len(warm.sites) >= 1
    if prepared.merged.nnz > policy.lp_bound_max_nnz and p.target is None and swaps:
        return Path.EXACT_PDLP
    if warm is not None and len(warm.sites) and dive_applies(prepared, policy):
        return Path.EXACT_DIVE
    return Path.EXACT_HIGHS


def solve(
    problem: Problem,
    method: str = "greedy",
    *,
    time_limit_s: float | None = 60.0,
    mip_gap: float = 1e-4,
    progress: Callable[[int], None] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Solution:
    """Solve a problem by ``"greedy"`` or ``"exact"`` (HiGHS) and return its solution.

    Raises
    ------
    InfeasibleError
        The constraints cannot all be met (the message names the one that cannot).
    OptimisationError
        An unknown method, a time limit or MIP gap out of range, or a solver failure (with
        the solver's status).
    """
    if method not in METHODS:
        raise OptimisationError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    for what, wrong in (
        ("the time limit", rules.time_limit_problem(time_limit_s)),
        ("the MIP gap", rules.mip_gap_problem(mip_gap)),
    ):
        if wrong is not None:
            raise OptimisationError(f"{what} {wrong}")
    check_feasible(problem)
    reduced = kinds(problem, min_cells=policy.reduce_min_cells, max_share=policy.reduce_max_share)
    if reduced is not None:  # many identical cells (fine analysis grids): solve once per kind
        sub, group_of = reduced
        logger.debug("optimise: %d cells are %d kinds of cell", problem.n_cells, sub.n_cells)
        solution = solve(
            sub,
            method,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            progress=progress,
            policy=policy,
        )
        return expand(solution, group_of)
    if not problem.matrix.nnz:
        logger.warning(
            "optimise: no candidate site covers any demand point (check the service radius "
            "and that both layers are in the same place); the plan is empty"
        )
    start = time.perf_counter()
    prepared = prepare(problem)
    steps: list[str] = []
    warm: Ranking | None = None
    try:
        warm = greedy(problem, progress if method == "greedy" else None)
        steps.append("greedy")
        # the exact method's LP dive improves its own plan by interchange, and keeps the
        # greedy plan only when that is better; the greedy method's kernel search ends in
        # an interchange of its own: the greedy plan's interchange is not needed
        kernel = method == "greedy" and problem.swaps_apply
        if not kernel and (method == "greedy" or not dive_applies(prepared, policy)):
            warm = _interchange(problem, warm, policy, steps)
    except InfeasibleError as error:
        if method == "greedy":
            raise InfeasibleError(
                _explain_greedy_failure(prepared, str(error), time_limit_s, policy)
            ) from error
    path = choose_path(prepared, method, warm, policy)
    logger.debug("optimise: path %s", path.value)
    if path is Path.GREEDY:
        assert warm is not None
        ranking, bound, status = _greedy_path(
            prepared, warm, start, time_limit_s, mip_gap, policy, steps
        )
    else:
        ranking, bound, status = _exact_path(
            prepared, path, warm, start, time_limit_s, mip_gap, policy, steps
        )
    objective = problem.objective(ranking)
    seconds = time.perf_counter() - start
    gap = relative_gap(objective, bound, minimise=problem.minimise)
    covered = problem.covered(ranking.sites)
    n_model = prepared.merged.n_cells if status[1] is None else status[1]
    solution = Solution(
        method=method,
        ranking=ranking,
        objective=objective,
        bound=bound,
        gap=gap,
        coverage_share=covered / problem.total_weight if problem.total_weight else 0.0,
        total_cost=ranking.total_cost,
        status=status[0],
        seconds=seconds,
        n_cells_model=n_model,
        path=path.value,
        steps=tuple(steps),
    )
    logger.info(
        "optimise: %s %s chose %d sites, objective %.1f, bound %.1f, gap %.2f%% (%.2f s, "
        "%d merged cells)",
        problem.name,
        method,
        len(ranking.sites),
        objective,
        bound,
        100 * gap,
        seconds,
        n_model,
    )
    logger.debug("optimise: %s: %s", path.value, ", ".join(steps))
    return solution


def _interchange(problem: Problem, plan: Ranking, policy: Policy, steps: list[str]) -> Ranking:
    steps.append("interchange")
    return interchange(problem, plan, policy.interchange_max_passes).ranking


def _search(
    problem: Problem,
    plan: Ranking,
    policy: Policy,
    steps: list[str],
    *,
    max_seconds: float | None = None,
    bound: float | None = None,
    local_optimum: bool = False,
) -> Ranking:
    searched = iterated_interchange(
        problem,
        plan,
        policy=policy,
        max_seconds=max_seconds,
        bound=bound,
        local_optimum=local_optimum,
    )
    steps.append(f"iterated local search ({searched.rounds} rounds)")
    return searched.ranking


_Status = tuple[str, int | None]  # how the path ended, and the cells of the model it solved


def _greedy_path(
    prepared: Prepared,
    warm: Ranking,
    start: float,
    time_limit_s: float | None,
    mip_gap: float,
    policy: Policy,
    steps: list[str],
) -> tuple[Ranking, float, _Status]:
    """Return the greedy plan, improved by local search unless a bound proves it optimal.

    On k-site models the kernel search (:mod:`connectivity.optimise.kernel`) improves the plan
    first, and its subgradient steps bound it. The bound is then tightened by the LP
    relaxation's where it is cheap, else PDLP's multipliers or subgradient steps; after a
    kernel search, only when ``policy.greedy_tighter_bound_s`` of the time limit are left.
    Local search stops at the time limit (counted from ``start``, when :func:`solve` began);
    the bound holds whenever it stops.
    """
    p = prepared.problem
    bound = np.nan

    def left(cap: float) -> float:  # what the time limit leaves for one step, at most ``cap``
        rest = seconds_left(time_limit_s, start, floor=policy.greedy_bound_min_s)
        return cap if rest is None else min(cap, rest)

    kernelled = kernel_search(
        prepared, warm, policy=policy, max_seconds=seconds_left(time_limit_s, start)
    )
    tighten = True
    if kernelled is not None:
        steps.append(
            f"kernel search ({kernelled.steps} subgradient steps, {kernelled.kernel_sites} sites)"
        )
        warm = kernelled.ranking
        rest = seconds_left(time_limit_s, start)
        tighten = rest is None or rest >= policy.greedy_tighter_bound_s
    if tighten and prepared.merged.nnz <= policy.lp_bound_max_nnz:  # the LP bound, when cheap
        try:
            lp = solve_milp(prepared, left(policy.lp_bound_max_s), 1e-4, relax=True, policy=policy)
        except OptimisationError:  # the LP did not finish in time: Lagrangian bound
            lp = None
        if lp is not None and lp.x is not None:
            bound = lp.bound
            steps.append("LP bound")
    if tighten and not np.isfinite(bound):  # too large for the LP: PDLP's multipliers, if any
        relaxed = pdlp_relaxation(prepared, left(policy.pdlp_bound_s), policy=policy)
        steps.append("Lagrangian bound" + (" at PDLP's multipliers" if relaxed else ""))
        bound = _relaxed_bound(
            prepared, warm, mip_gap, relaxed, policy, max_seconds=left(policy.pdlp_bound_s)
        )
    if kernelled is not None:  # the kernel's subgradient steps bound the plan too
        bound = kernelled.bound if not np.isfinite(bound) else min(bound, kernelled.bound)
    ranking = warm
    if not relative_gap(p.objective(warm), bound, minimise=p.minimise) <= 1e-6:
        rest = seconds_left(time_limit_s, start)
        # not proven; the plan is the interchange's already
        ranking = _search(p, warm, policy, steps, bound=bound, max_seconds=rest, local_optimum=True)
    return ranking, bound, ("greedy", None)


def _exact_path(
    prepared: Prepared,
    path: Path,
    warm: Ranking | None,
    start: float,
    time_limit_s: float | None,
    mip_gap: float,
    policy: Policy,
    steps: list[str],
) -> tuple[Ranking, float, _Status]:
    """Solve exactly along ``path``; ``start`` is when :func:`solve` began."""
    p, merged = prepared.problem, prepared.merged
    logger.info(
        "optimise: exact on %d merged cells x %d sites (%d pairs), time limit %s",
        merged.q.shape[0],
        merged.q.shape[1],
        merged.nnz,
        "none" if time_limit_s is None else f"{time_limit_s:g} s",
    )
    relaxed = None
    if merged.nnz > policy.lp_bound_max_nnz and p.target is None:
        # the LP relaxation is too large to solve in the time limit: PDLP approximates it,
        # for a bound and to choose the sites the dive works on
        relaxed = pdlp_relaxation(prepared, _share(time_limit_s, policy.pdlp_share), policy=policy)
        steps.append("PDLP")
    relaxation: Relaxation | None = None
    swaps = warm is not None and p.swaps_apply and len(warm.sites) >= 1
    if warm is not None and (merged.nnz > policy.ipm_min_nnz or swaps):
        warm, relaxation = _improved_start(prepared, warm, relaxed, time_limit_s, policy, steps)
    if path is Path.EXACT_PDLP and relaxed is not None and warm is not None:
        # HiGHS's branch and bound cannot start here within the limit: its root LP alone
        # takes minutes (196 s by interior point at 40,000 x 10,000 x 800 m) and interior
        # point overran the time limit by 20 s or more.
        ranking = _search(p, warm, policy, steps, max_seconds=seconds_left(time_limit_s, start))
        steps.append("Lagrangian bound at PDLP's multipliers")
        bound = _relaxed_bound(prepared, ranking, mip_gap, relaxed, policy)
        return (
            ranking,
            bound,
            ("not proven optimal: LP relaxation too large, bound from PDLP", None),
        )
    if path is Path.EXACT_DIVE and relaxation is None and warm is not None:
        # the dive's LP was not solved in its share of a short time limit: HiGHS, whose
        # root LP (by dual simplex) is slower still, could not finish it in what is left.
        # PDLP's multipliers bound the plan instead (measured at 10,000 x 1,000 x 800 m
        # with 0.5 s: gap 11.4 % from HiGHS and a few subgradient steps, 0.6 % from PDLP)
        left = seconds_left(time_limit_s, start)
        relaxed = pdlp_relaxation(
            prepared,
            None if left is None else max(left, policy.pdlp_share * float(time_limit_s or 0.0)),
            policy=policy,
        )
        steps.append("PDLP")
        steps.append("Lagrangian bound" + (" at PDLP's multipliers" if relaxed else ""))
        bound = _relaxed_bound(prepared, warm, mip_gap, relaxed, policy)
        return warm, bound, ("not proven optimal: time limit too short for the LP relaxation", None)
    if relaxation is not None and warm is not None:
        value = p.objective(warm)
        if relative_gap(value, relaxation.bound, minimise=False) <= mip_gap:
            # the plan is within the gap of the LP bound: proven, no branch and bound (both
            # 2,000 x 200 benchmark sizes, where the LP optimum is integral)
            steps.append("LP bound proves the plan")
            return warm, max(relaxation.bound, value), ("optimal", None)
    fixed = (
        fixed_by_reduced_cost(p, relaxation, warm)
        if relaxation is not None and warm is not None
        else None
    )
    if fixed is not None and fixed.any() and warm is not None:
        steps.append(f"reduced-cost fixing ({int(fixed.sum())} sites)")
        steps.append("HiGHS branch and bound on the sites left")
        ranking, bound, status, n_model = exact_on_remaining(
            p, warm, fixed, seconds_left(time_limit_s, start, floor=1.0), mip_gap, policy=policy
        )
        if status != "optimal":  # stopped early: a Lagrangian bound may be tighter
            left = seconds_left(time_limit_s, start)
            bound = tighter_bound(
                prepared,
                bound,
                ranking,
                mip_gap,
                relaxed,
                left,
                iterations=policy.lagrangian_iterations,
            )
    else:
        steps.append("HiGHS branch and bound on the whole model")
        ranking, bound, status, n_model = _exact_whole(
            prepared, warm, relaxed, start, time_limit_s, mip_gap, policy
        )
    if relaxation is not None:  # HiGHS stopped before its root LP: the dive's LP bound holds
        bound = no_looser_than(bound, relaxation.bound)
    return ranking, bound, (status, n_model)


def _relaxed_bound(
    prepared: Prepared,
    plan: Ranking | None,
    mip_gap: float,
    relaxed: tuple[np.ndarray, np.ndarray] | None,
    policy: Policy,
    max_seconds: float | None = None,
) -> float:
    return relaxation_bound(
        prepared, plan, mip_gap, relaxed, max_seconds, iterations=policy.lagrangian_iterations
    )


def _improved_start(
    prepared: Prepared,
    warm: Ranking,
    relaxed: tuple[np.ndarray, np.ndarray] | None,
    time_limit_s: float | None,
    policy: Policy,
    steps: list[str],
) -> tuple[Ranking, Relaxation | None]:
    """Return a better start than ``warm`` for the exact search, and the LP relaxation.

    On large models HiGHS does not close the search in the time limit and a better start is
    most of what it returns. The LP dive (``policy.dive_share`` of the time) finds far better
    plans than local search there; local search (``policy.local_search_share``) when it cannot
    run. On k-site models of any size the dive's plan and LP also fix sites out by reduced
    cost before HiGHS starts. The LP alone may take ``policy.lp_share`` of the time: under a
    short time limit its bound is most of what the exact method can prove.
    """
    p = prepared.problem
    dive_s = _share(time_limit_s, policy.dive_share)
    relaxation: Relaxation | None = None
    nnz = prepared.merged.nnz
    if nnz <= policy.lp_bound_max_nnz:
        dived, relaxation = dive_with_relaxation(
            prepared, warm, dive_s, lp_time_s=_share(time_limit_s, policy.lp_share), policy=policy
        )
        steps.append("LP dive" if relaxation is not None else "LP not solved in time")
    elif relaxed is not None:
        dived = restricted_dive(prepared, warm, relaxed[0], dive_s, policy=policy)
        steps.append("restricted LP dive")
    else:
        dived = warm
    if dived is warm:  # no better plan from a dive
        if dive_applies(prepared, policy):  # the greedy start left its interchange to the dive
            dived = _interchange(p, warm, policy, steps)
        if nnz > policy.ipm_min_nnz:
            dived = _search(
                p,
                dived,
                policy,
                steps,
                max_seconds=_share(time_limit_s, policy.local_search_share),
                local_optimum=True,  # interchanged at the greedy start or just above
            )
    return dived, relaxation


def _exact_whole(
    prepared: Prepared,
    warm: Ranking | None,
    relaxed: tuple[np.ndarray, np.ndarray] | None,
    start: float,
    time_limit_s: float | None,
    mip_gap: float,
    policy: Policy,
) -> tuple[Ranking, float, str, int]:
    """HiGHS on the whole model, started from ``warm``; never returns a worse plan."""
    p = prepared.problem
    start_sites = warm.sites if warm is not None else None
    result = solve_milp(
        prepared,
        seconds_left(time_limit_s, start, floor=1.0),
        mip_gap,
        start_sites=start_sites,
        policy=policy,
    )
    bound, status, n_model = result.bound, result.status, result.n_cells
    if result.x is None and status == "infeasible":
        raise InfeasibleError(_diagnose_infeasible(p, policy))
    if result.x is None:
        if warm is None:
            raise OptimisationError(f"HiGHS found no solution in the time limit ({status})")
        bound = _relaxed_bound(prepared, warm, mip_gap, relaxed, policy)
        return warm, bound, f"{status}; greedy solution kept", n_model
    chosen = np.flatnonzero(result.x > 0.5)
    ranking = rank_selection(p.matrix, p.weights, chosen, p.existing, p.costs)
    if warm is not None and (
        p.objective(warm) < p.objective(ranking) - 1e-9
        if p.minimise
        else p.objective(warm) > p.objective(ranking) + 1e-9
    ):
        ranking = warm
    if status != "optimal":  # stopped early: a Lagrangian bound may be tighter
        left = seconds_left(time_limit_s, start)
        bound = tighter_bound(
            prepared, bound, warm, mip_gap, relaxed, left, iterations=policy.lagrangian_iterations
        )
    return ranking, bound, status, n_model


def _explain_greedy_failure(
    prepared: Prepared, reason: str, time_limit_s: float | None, policy: Policy
) -> str:
    """Say whether a plan the greedy method could not build exists at all.

    Greedy can miss a floor that a plan meets (it spent the sites or budget on others first),
    so the MILP is asked for any plan that meets every constraint (a MIP gap of 100 %
    stops HiGHS at the first one). If there is none, the constraint that cannot be met is
    named instead.
    """
    result = solve_milp(prepared, time_limit_s, 1.0, policy=policy)
    if result.x is not None:
        return f"{reason}; a plan that meets all the constraints exists: use the exact method"
    if result.status == "infeasible":
        return _diagnose_infeasible(prepared.problem, policy)
    return reason


def _diagnose_infeasible(problem: Problem, policy: Policy) -> str:
    """Find a limit whose removal makes the LP relaxation feasible."""
    limits = problem.limits
    for i, limit in enumerate(limits):
        others = problem.with_limits([lim for j, lim in enumerate(limits) if j != i])
        result = solve_milp(prepare(others), None, 1e-4, relax=True, policy=policy)
        if result.x is not None:
            return f"the constraint on '{limit.name}' cannot be met with the others"
    return "the constraints (k, budget, target, mandatory sites and floors) conflict"


def _share(time_limit_s: float | None, fraction: float) -> float | None:
    """Return a fraction of a time limit (None: no limit)."""
    return None if time_limit_s is None else fraction * time_limit_s
