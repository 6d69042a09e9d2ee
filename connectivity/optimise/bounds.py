r"""Upper bounds on what any plan can cover, for the gap every solution reports.

The LP relaxation's optimum is the tightest cheap bound (:func:`connectivity.optimise.highs.
solve_milp` with ``relax=True``); where it is too large to solve, a Lagrangian relaxation of
the coverage rows gives one from any multipliers: PDLP's, or subgradient steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from connectivity.optimise.reduction import Prepared
from connectivity.optimise.solution import Ranking


@dataclass(frozen=True)
class Step:
    """One subgradient step of the Lagrangian relaxation: its bound and the sites it picked."""

    bound: float
    picked: np.ndarray


def subgradient_steps(
    prepared: Prepared,
    target: float,
    *,
    start: np.ndarray | None = None,
) -> Iterator[Step]:
    r"""Yield subgradient steps on the Lagrangian relaxation of the coverage rows, without end.

    Relaxing :math:`y_i \le \sum_j q_{ji} x_j` with multipliers
    :math:`0 \le \lambda_i \le w_i` gives
    :math:`L(\lambda) = \sum_i u_i \max(0, w_i - \lambda_i) + \max_x \sum_j x_j
    \sum_i \lambda_i q_{ji}` over the cardinality or budget constraint (a knapsack bounded
    by its fractional relaxation). Every :math:`\lambda` gives a valid bound (in open weight,
    without the problem's base weight); Polyak steps towards ``target`` (the open weight of a
    known plan) lower it, and the step length halves after 15 steps without a better bound.
    ``start`` gives the first multipliers (PDLP's, from
    :func:`connectivity.optimise.highs.pdlp_relaxation`; otherwise :math:`w / 2`). Each step
    also yields the sites its relaxed problem picked (mandatory ones included). Maximal
    covering and budgets only (not set covering); the caller decides when to stop.
    """
    p = prepared.problem
    q, w, e = prepared.merged.q, prepared.merged.weights, prepared.merged.existing
    u = 1.0 - e
    qt = sparse.csr_array(q.T)
    k, budget = p.k, p.budget
    mandatory = p.mandatory
    free = np.ones(qt.shape[0], dtype=bool)
    free[mandatory] = False
    free[p.excluded] = False
    free_idx = np.flatnonzero(free)
    costs = p.costs

    def x_part(score: np.ndarray) -> tuple[float, np.ndarray]:
        fixed = float(score[mandatory].sum())
        pos = free_idx[score[free_idx] > 0]
        values = []
        picks = []
        if k is not None:
            room = max(k - len(mandatory), 0)
            top = pos
            if room < len(pos):  # the ``room`` best, without sorting every site
                top = pos[np.argpartition(-score[pos], room)[:room]] if room else pos[:0]
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
    while True:
        score = qt @ lam
        value, picked = x_part(score)
        bound = float(u @ np.maximum(0.0, w - lam)) + value
        yield Step(bound, picked)
        if bound < best_bound - 1e-9:
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= 15:
                theta, stall = theta / 2, 0
        if theta < 1e-4:  # the steps no longer move the multipliers
            return
        # what the picked sites cover: their rows of q^T only, not a product over all sites
        g = _rows_sum(qt, picked, q.shape[0]) - u * (w > lam)
        norm = float(g @ g)
        if norm == 0:
            return
        lam = np.clip(lam - theta * max(bound - target, 1e-9) / norm * g, 0.0, w)


def _rows_sum(m: sparse.csr_array, rows: np.ndarray, n_cols: int) -> np.ndarray:
    """Return the sum of some rows of a CSR matrix (repeated rows count again), densely."""
    starts, ends = m.indptr[rows], m.indptr[rows + 1]
    lengths = ends - starts
    if not lengths.sum():
        return np.zeros(n_cols)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    at = np.arange(int(lengths.sum())) + offsets
    return np.bincount(m.indices[at], weights=m.data[at], minlength=n_cols)


def lagrangian_bound(
    prepared: Prepared,
    warm: Ranking | None,
    tolerance: float,
    iterations: int = 300,
    *,
    start: np.ndarray | None = None,
    max_seconds: float | None = None,
) -> float:
    """Upper bound on a maximisation by Lagrangian relaxation of the coverage rows.

    The best bound of at most ``iterations`` :func:`subgradient_steps`, towards the value of
    ``warm`` (if given); stops early once within ``tolerance`` of that value or when the step
    length is negligible. Cheap where the LP relaxation is too large to solve. ``start`` gives
    the first multipliers; ``max_seconds`` caps the steps. Returns NaN for set covering.
    """
    p = prepared.problem
    if p.target is not None:
        return np.nan
    base = p.base_weight()
    if prepared.merged.q.shape[0] == 0:
        return base
    target = (p.objective(warm) - base) if warm is not None else 0.0
    best_bound = np.inf
    began = time.perf_counter()
    for step, found in enumerate(subgradient_steps(prepared, target, start=start)):
        best_bound = min(best_bound, found.bound)
        if step + 1 >= iterations or best_bound - target <= tolerance * max(best_bound, 1e-12):
            break
        if max_seconds is not None and time.perf_counter() - began > max_seconds:
            break
    return base + best_bound


def relaxation_bound(
    prepared: Prepared,
    warm: Ranking | None,
    tolerance: float,
    relaxed: tuple[np.ndarray, np.ndarray] | None,
    max_seconds: float | None = None,
    *,
    iterations: int = 300,
) -> float:
    """Return the Lagrangian bound at PDLP's multipliers if any, else by subgradient steps.

    Subgradient steps from PDLP's multipliers did not lower the bound (measured on the
    40,000 x 10,000 instance at 800 m: no change in 3 s), so it is evaluated once there.
    """
    if relaxed is None:
        return lagrangian_bound(prepared, warm, tolerance, iterations, max_seconds=max_seconds)
    return lagrangian_bound(prepared, warm, tolerance, start=relaxed[1], iterations=1)


def tighter_bound(
    prepared: Prepared,
    bound: float,
    plan: Ranking | None,
    tolerance: float,
    relaxed: tuple[np.ndarray, np.ndarray] | None,
    max_seconds: float | None,
    *,
    iterations: int = 300,
) -> float:
    """Return the tighter of ``bound`` (HiGHS's, after an early stop) and a Lagrangian one."""
    lagrange = relaxation_bound(
        prepared, plan, tolerance, relaxed, max_seconds=max_seconds, iterations=iterations
    )
    if not np.isfinite(lagrange):
        return bound
    if not np.isfinite(bound):
        return lagrange
    return max(bound, lagrange) if prepared.problem.target is not None else min(bound, lagrange)


def no_looser_than(bound: float, lp_bound: float) -> float:
    """Return ``bound``, or the LP relaxation's bound where ``bound`` is looser or missing.

    HiGHS stopped by its time limit before its root LP reports no bound (NaN) or a loose one;
    the LP relaxation's optimum, solved earlier for the dive, still bounds every plan.
    """
    return bound if bound <= lp_bound else lp_bound
