"""Local search on k-site plans: the interchange, and iterated local search around it.

Both apply to full-quality coverage with a number of sites and no other rules
(:attr:`Problem.swaps_apply`) and never return a worse plan than they were given. Each returns
what it counted (the interchange's passes), so the caller decides budgets without hidden state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from connectivity.optimise.greedy import rank_selection
from connectivity.optimise.policy import DEFAULT_POLICY, Policy
from connectivity.optimise.problem import Problem
from connectivity.optimise.solution import Ranking


@dataclass(frozen=True)
class Swapped:
    """An interchange's plan and how many times it scanned the candidates for a swap."""

    ranking: Ranking
    scans: int


def interchange(problem: Problem, ranking: Ranking, max_passes: int = 50) -> Swapped:
    """Improve a plan by swapping chosen sites for others (Teitz & Bart 1968).

    Each swap must raise the covered weight, so the result is never worse than the plan given.
    Uses the fast-interchange bookkeeping (Whitaker 1983): how many chosen sites cover each
    cell, and which one when only one does; every candidate swap is scored at once by
    :func:`best_swap`. Returns the plan and the number of scans for a swap.
    """
    p = problem
    m = p.matrix
    if not (p.swaps_apply and len(ranking.sites) >= 1):
        return Swapped(ranking, 0)
    indptr, indices = m.indptr, m.indices
    w = p.open_weights
    chosen = [int(s) for s in ranking.sites]
    fixed = {int(s) for s in p.mandatory}
    blocked = np.zeros(m.shape[0], dtype=bool)
    blocked[p.excluded] = True
    count = np.zeros(m.shape[1], dtype=np.int64)
    for site in chosen:
        count[indices[indptr[site] : indptr[site + 1]]] += 1
    improved_any = False
    scans = 0
    for _ in range(max_passes):
        scans += 1
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
        best_pair = best_swap(m, gain, owner, w, loss_fixed)
        if best_pair is None:
            break
        j, a = best_pair
        out_site = chosen[j]
        count[indices[indptr[out_site] : indptr[out_site + 1]]] -= 1
        count[indices[indptr[a] : indptr[a + 1]]] += 1
        chosen[j] = a
        improved_any = True
    if not improved_any:
        return Swapped(ranking, scans)
    return Swapped(rank_selection(p.matrix, p.weights, chosen, p.existing, p.costs), scans)


def best_swap(
    matrix: sparse.csr_array, gain: np.ndarray, owner: np.ndarray, w: np.ndarray, loss: np.ndarray
) -> tuple[int, int] | None:
    """Return the swap (plan position, site in) of largest net gain above zero, if any.

    The net gain of bringing site ``a`` in for the site at position ``j`` is what ``a`` adds,
    minus what only ``j`` covered, plus what of that ``a`` covers too. All of them at once:
    the overlaps are one sparse product of the candidates' rows with the cells each chosen
    site alone covers. Among equal nets, the site with the larger added gain (then the lower
    index) and the earlier position win.
    """
    rows = np.flatnonzero(gain > 1e-9)  # a net gain never exceeds the added gain
    if not len(rows):
        return None
    k = len(loss)
    single = np.flatnonzero(owner >= 0)
    alone = sparse.csr_array((w[single], (single, owner[single])), shape=(matrix.shape[1], k))
    overlap = (matrix[rows] @ alone).toarray() if len(single) else np.zeros((len(rows), k))
    net = gain[rows, None] - loss[None, :] + overlap
    best_j = np.argmax(net, axis=1)
    best_net = net[np.arange(len(rows)), best_j]
    top = float(best_net.max())
    if not top > 1e-9:
        return None
    tied = np.flatnonzero(best_net == top)
    pick = tied[np.lexsort((rows[tied], -gain[rows[tied]]))[0]]
    return int(best_j[pick]), int(rows[pick])


def greedy_fill(problem: Problem, sites: list[int], banned: np.ndarray, k: int) -> list[int]:
    """Add sites to ``sites`` by greatest added weight until there are ``k``.

    Full-quality coverage only (where the interchange applies); ``banned`` sites and those
    already in ``sites`` are never added, and filling stops early when no other site adds
    weight (as the greedy method does), so ``k`` may exceed the sites there are.
    """
    m = problem.matrix
    open_w = problem.open_weights
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


@dataclass(frozen=True)
class Searched:
    """An iterated local search's plan and how many perturbation rounds it ran."""

    ranking: Ranking
    rounds: int


def iterated_interchange(
    problem: Problem,
    ranking: Ranking,
    *,
    policy: Policy = DEFAULT_POLICY,
    max_seconds: float | None = None,
    bound: float | None = None,
) -> Searched:
    """Interchange, then escape its local optimum by perturbation (iterated local search).

    Each round drops up to a third of the plan's sites at random (never mandatory ones), refills
    greedily without them, and runs the interchange again; a round's plan replaces the best
    only when it covers more. Stops after ``policy.ils_patience`` rounds without improvement,
    after ``policy.ils_max_rounds``, when the rounds have scanned for swaps twice as often as
    the first interchange did (at least 100 times), or after ``max_seconds``. The budget is
    counted in work, not time, so that the same instance gives the same plan (it is seeded) on
    any machine; only ``max_seconds`` depends on the clock. Stops as soon as the plan reaches
    ``bound`` (a bound on the objective, such as the LP relaxation's), where it is proven
    optimal. Returns the plan and the number of rounds run (0 when the first interchange's plan
    is proven, or local search does not apply).
    """
    p = problem
    start = time.perf_counter()
    first = interchange(p, ranking, policy.interchange_max_passes)
    best = first.ranking
    if not (p.swaps_apply and len(best.sites) >= 1):
        return Searched(best, 0)
    scans_left = max(100, 2 * first.scans)
    m = p.matrix
    w_open = p.open_weights
    best_value = float(w_open @ (m[best.sites].sum(axis=0) > 0)) if len(best.sites) else 0.0
    # the k best single-site gains bound any plan (coverage is submodular): when the plan
    # reaches that bound it is optimal and there is nothing to search for
    singles = m @ w_open
    singles[p.excluded] = 0.0
    k = len(best.sites)
    ceiling = float(np.sort(singles)[-k:].sum())
    if bound is not None and np.isfinite(bound):  # in covered open weight, as best_value
        ceiling = min(ceiling, bound - p.base_weight())
    if best_value >= ceiling - 1e-9:
        return Searched(best, 0)
    fixed = {int(s) for s in p.mandatory}
    rng = np.random.default_rng(policy.ils_seed)
    stale = 0
    rounds = 0
    for _ in range(policy.ils_max_rounds):
        out_of_time = max_seconds is not None and time.perf_counter() - start > max_seconds
        if stale >= policy.ils_patience or scans_left <= 0 or out_of_time:
            break
        sites = [int(s) for s in best.sites]
        free = [i for i, s in enumerate(sites) if s not in fixed]
        n_drop = min(len(free), int(rng.integers(1, max(2, len(sites) // 3 + 1))))
        if n_drop == 0:
            break
        rounds += 1
        drop = set(rng.choice(free, size=n_drop, replace=False).tolist())
        banned = np.zeros(m.shape[0], dtype=bool)
        banned[p.excluded] = True
        banned[[sites[i] for i in drop]] = True
        kept = greedy_fill(p, [s for i, s in enumerate(sites) if i not in drop], banned, k)
        trial = interchange(
            p,
            rank_selection(p.matrix, p.weights, kept, p.existing, p.costs),
            policy.interchange_max_passes,
        )
        scans_left -= trial.scans
        value = float(w_open @ (m[trial.ranking.sites].sum(axis=0) > 0))
        if value > best_value + 1e-9:
            best, best_value, stale = trial.ranking, value, 0
            if best_value >= ceiling - 1e-9:
                break
        else:
            stale += 1
    return Searched(best, rounds)
