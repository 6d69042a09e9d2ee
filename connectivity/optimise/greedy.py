r"""Lazy greedy: sites one at a time, each the one that newly covers the most.

Minoux's lazy evaluation (1978): a site's gain can only fall as others are chosen, so a heap of
stale gains is re-checked only at its top. With a budget and unequal costs, sites are taken by
gain per unit cost and the result is compared with the best single affordable site (Khuller,
Moss & Naor 1999), which guarantees at least :math:`\tfrac12(1 - 1/e)` of the optimum; with
``k`` sites and no other constraint the guarantee is :math:`1 - 1/e`. Floors (a minimum number
of sites or a minimum covered share in a group) are met first, a coverage target last.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from connectivity.optimise.problem import GroupLimit, InfeasibleError, Problem
from connectivity.optimise.solution import Ranking


def _never() -> bool:
    return False


def greedy(problem: Problem, progress: Callable[[int], None] | None = None) -> Ranking:
    """Return the lazy greedy plan of a problem.

    Mandatory sites first, then the floors, then the objective; under a budget with unequal
    costs, the best single affordable site where it covers more.

    Raises
    ------
    InfeasibleError
        A floor or the target cannot be met within the sites or budget left.
    """
    p = problem
    m, w = p.matrix, p.weights
    indptr, indices, data = m.indptr, m.indices, m.data
    n_sites = m.shape[0]
    cov = p.existing.copy()
    k, budget = p.k, p.budget
    blocked = np.zeros(n_sites, dtype=bool)
    blocked[p.excluded] = True
    chosen: list[int] = []
    gains: list[float] = []
    new_cells: list[np.ndarray] = []
    spent = 0.0
    site_groups = [np.flatnonzero(limit.sites) for limit in p.limits]
    group_count = np.zeros(len(p.limits), dtype=np.int64)
    member = np.zeros((len(p.limits), n_sites), dtype=bool)
    for g, limit in enumerate(p.limits):
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
        spent += float(p.costs[site])
        blocked[site] = True
        group_count[:] += member[:, site]
        if progress is not None:
            progress(1)

    def allowed(site: int) -> bool:
        if blocked[site]:
            return False
        if budget is not None and spent + p.costs[site] > budget + 1e-9:
            return False
        return not any(
            limit.max_sites is not None and member[g, site] and group_count[g] >= limit.max_sites
            for g, limit in enumerate(p.limits)
        )

    def room() -> bool:
        return k is None or len(chosen) < k

    def run(
        pool: np.ndarray, done: Callable[[], bool], by_ratio: bool, weights: np.ndarray = w
    ) -> None:
        def key(site: int, g: float) -> float:
            return g / max(p.costs[site], 1e-12) if by_ratio else g

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

    for site in p.mandatory:
        take(int(site), gain(int(site)))

    by_ratio = budget is not None and not np.allclose(p.costs, p.costs[0])
    for g, limit in enumerate(p.limits):
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
    if p.target is not None:
        goal = p.target * p.total_weight

        def target_met() -> bool:
            return float(w @ np.minimum(cov, 1.0)) >= goal - 1e-9

        run(np.arange(n_sites), target_met, by_ratio=True)
        if not target_met():
            reached = 100 * float(w @ np.minimum(cov, 1.0)) / p.total_weight
            raise InfeasibleError(
                f"the target of {100 * p.target:.1f}% coverage cannot be reached "
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
    if budget is not None and by_ratio and not p.limits and not len(p.mandatory):
        ranking = best_single_if_better(p, ranking)
    return ranking


def best_single_if_better(problem: Problem, ranking: Ranking) -> Ranking:
    """Return the best single affordable site's plan where it covers more than ``ranking``."""
    p = problem
    assert p.budget is not None
    affordable = np.flatnonzero(p.costs <= p.budget + 1e-9)
    affordable = np.setdiff1d(affordable, p.excluded)
    if not len(affordable):
        return ranking
    single = np.asarray(p.matrix[affordable] @ p.open_weights).ravel()
    best = int(affordable[int(np.argmax(single))])
    if p.covered([best]) > p.covered(ranking.sites) + 1e-9:
        return rank_selection(p.matrix, p.weights, [best], p.existing, p.costs)
    return ranking


def rank_selection(
    matrix: sparse.csr_array,
    weights: np.ndarray,
    sites: Sequence[int] | np.ndarray,
    existing: np.ndarray,
    costs: np.ndarray | None = None,
) -> Ranking:
    """Order a chosen set of sites by greedy marginal gain (for ranks and gains of a plan)."""
    chosen = np.asarray(sites, dtype=np.int64)
    if not len(chosen):
        return Ranking(np.zeros(0, np.int64), np.zeros(0), [], existing.copy(), 0.0)
    sub = Problem.from_arrays(
        matrix[chosen], weights, k=max(len(chosen), 1), existing=existing, name="ranking"
    )
    order = greedy(sub)
    # sites the greedy left out add nothing; keep them at the end with zero gain
    ranked = list(order.sites)
    rest = [i for i in range(len(chosen)) if i not in set(ranked)]
    gains = list(order.gains) + [0.0] * len(rest)
    newly = list(order.newly_covered) + [np.zeros(0, np.int64)] * len(rest)
    idx = chosen[np.asarray(ranked + rest, dtype=np.int64)]
    cost = float((np.ones(matrix.shape[0]) if costs is None else costs)[idx].sum())
    return Ranking(idx, np.asarray(gains), newly, order.covered, cost)
