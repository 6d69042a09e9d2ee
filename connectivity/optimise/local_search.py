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

_BLOCK = 256  # candidates whose swaps are weighed at once by the interchange


@dataclass(frozen=True)
class Swapped:
    """An interchange's plan and how many times it scanned the candidates for a swap."""

    ranking: Ranking
    scans: int


def interchange(problem: Problem, ranking: Ranking, max_passes: int = 50) -> Swapped:
    """Improve a plan by swapping chosen sites for others (Teitz & Bart 1968).

    Each swap must raise the covered weight, so the result is never worse than the plan given.
    Uses the fast-interchange bookkeeping (Whitaker 1983), kept up to date swap by swap
    (:class:`_Swaps`): how many chosen sites cover each cell and which one when only one does,
    what each candidate would add, and what of each chosen site's own cells it covers too.
    Returns the plan and the number of scans for a swap.
    """
    p = problem
    if not (p.swaps_apply and len(ranking.sites) >= 1):
        return Swapped(ranking, 0)
    state = _Swaps(p, [int(s) for s in ranking.sites])
    improved_any = False
    scans = 0
    for _ in range(max_passes):
        scans += 1
        pair = state.best()
        if pair is None:
            break
        state.swap(*pair)
        improved_any = True
    if not improved_any:
        return Swapped(ranking, scans)
    chosen = state.chosen
    return Swapped(rank_selection(p.matrix, p.weights, chosen, p.existing, p.costs), scans)


class _Swaps:
    """The interchange's bookkeeping for one plan, updated where a swap changes it.

    For ``n`` candidate sites and a plan of ``k``: per cell, how many chosen sites cover it
    (``count``) and which plan position when one does (``owner``); per candidate, the open
    weight it would add (``gain``); per candidate and position, the weight of that position's
    own cells the candidate covers too (``overlap``, dense ``n × k``). A swap touches only the
    cells of the two sites it exchanges, so only the candidates covering those cells change:
    one sparse product each time instead of over every candidate and cell.
    """

    def __init__(self, problem: Problem, chosen: list[int]) -> None:
        m = problem.matrix
        self.m, self.csc = m, sparse.csc_array(m)
        self.w = problem.open_weights
        self.chosen = chosen
        n_sites, n_cells = m.shape
        k = len(chosen)
        self.position = np.full(n_sites, -1, dtype=np.int64)
        self.position[chosen] = np.arange(k)
        self.blocked = np.zeros(n_sites, dtype=bool)
        self.blocked[problem.excluded] = True
        fixed = set(problem.mandatory.tolist())
        self.fixed = np.array([s in fixed for s in chosen], dtype=bool)
        self.count = np.zeros(n_cells, dtype=np.int64)
        for site in chosen:
            self.count[self._cells(site)] += 1
        self.owner = np.full(n_cells, -1, dtype=np.int64)
        for pos, site in enumerate(chosen):
            cells = self._cells(site)
            self.owner[cells[self.count[cells] == 1]] = pos
        self.open_w = np.where(self.count > 0, 0.0, self.w)
        self.gain = m @ self.open_w
        single = np.flatnonzero(self.owner >= 0)
        alone = sparse.csr_array((self.w[single], (single, self.owner[single])), shape=(n_cells, k))
        self.overlap = (m @ alone).toarray() if len(single) else np.zeros((n_sites, k))

    def _cells(self, site: int) -> np.ndarray:
        m = self.m
        return m.indices[m.indptr[site] : m.indptr[site + 1]]

    def _loss(self) -> np.ndarray:
        """Return what each position alone covers (mandatory sites: infinite, never out)."""
        mine = self.owner >= 0
        loss = np.bincount(self.owner[mine], weights=self.w[mine], minlength=len(self.chosen))
        return np.where(self.fixed, np.inf, loss)

    def best(self) -> tuple[int, int] | None:
        """Return the swap (plan position, site in) of largest net gain above zero, if any.

        Among equal nets, the site that adds more (then the lower index) and the earlier
        position win.
        """
        usable = (self.gain > 1e-9) & (self.position < 0) & ~self.blocked
        rows = np.flatnonzero(usable)
        if not len(rows):
            return None
        # candidates by added gain (then index), in blocks: a net gain never exceeds the added
        # gain, so once a block's greatest gain is no more than the best net found, no later
        # candidate can beat it (the first best in this order is the tie-break's winner)
        rows = rows[np.lexsort((rows, -self.gain[rows]))]
        loss = self._loss()
        top, pick = 1e-9, None
        for lo in range(0, len(rows), _BLOCK):
            block = rows[lo : lo + _BLOCK]
            if not self.gain[block[0]] > top:
                break
            net = self.gain[block, None] - loss[None, :] + self.overlap[block]
            best_j = np.argmax(net, axis=1)
            best_net = net[np.arange(len(block)), best_j]
            i = int(np.argmax(best_net))
            if best_net[i] > top:
                top, pick = float(best_net[i]), (int(best_j[i]), int(block[i]))
        if pick is None:
            return None
        j, a = pick
        return (j, a) if self._exact_net(j, a) > 1e-9 else None

    def _exact_net(self, j: int, a: int) -> float:
        """Return the net gain of a swap, counted afresh (running figures may drift by a hair)."""
        cells = self._cells(a)
        mine = self.owner == j
        gain = float(self.w[cells][self.count[cells] == 0].sum())
        overlap = float(self.w[cells][mine[cells]].sum())
        return gain - float(self.w[mine].sum()) + overlap

    def swap(self, j: int, a: int) -> None:
        """Bring site ``a`` in at plan position ``j``, and update what the swap changes."""
        out = self.chosen[j]
        changed = np.union1d(self._cells(out), self._cells(a))
        old_owner, old_open = self.owner[changed], self.open_w[changed]
        self.count[self._cells(out)] -= 1
        self.count[self._cells(a)] += 1
        self.chosen[j] = a
        self.position[out], self.position[a] = -1, j
        # the owner of each changed cell covered once: its one chosen site
        owner = np.full(len(changed), -1, dtype=np.int64)
        once = np.flatnonzero(self.count[changed] == 1)
        if len(once):
            cols = self.csc[:, changed[once]]
            pos = self.position[cols.indices]
            column = np.repeat(np.arange(len(once)), np.diff(cols.indptr))
            mine = pos >= 0
            owner[once[column[mine]]] = pos[mine]
        self.owner[changed] = owner
        self.open_w[changed] = np.where(self.count[changed] > 0, 0.0, self.w[changed])
        around = self.csc[:, changed]  # the candidates covering a changed cell
        self.gain += around @ (self.open_w[changed] - old_open)
        k = len(self.chosen)
        w = self.w[changed]
        was, now = old_owner >= 0, owner >= 0
        delta = sparse.csr_array(
            (
                np.concatenate([-w[was], w[now]]),
                (
                    np.concatenate([np.flatnonzero(was), np.flatnonzero(now)]),
                    np.concatenate([old_owner[was], owner[now]]),
                ),
            ),
            shape=(len(changed), k),
        )
        change = (around @ delta).tocoo()
        np.add.at(self.overlap, (change.row, change.col), change.data)


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
    local_optimum: bool = False,
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
    optimal. ``local_optimum`` says the caller has run the interchange on ``ranking`` already:
    the first interchange is skipped (its one scan, which would find no swap, is counted).
    Returns the plan and the number of rounds run (0 when the first interchange's plan is
    proven, when no time is left, or when local search does not apply).
    """
    p = problem
    start = time.perf_counter()
    if max_seconds is not None and max_seconds <= 0 and local_optimum:
        return Searched(ranking, 0)
    if local_optimum:
        first = Swapped(ranking, 1)
    else:
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
