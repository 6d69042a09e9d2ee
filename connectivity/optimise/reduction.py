"""Smaller models with the same optimum: identical cells merged, dominated sites left out.

- :func:`kinds` groups the cells that are interchangeable (the same column of qualities,
  existing coverage and group memberships): a model of a million analysis points of Bogotá
  is 21,000 kinds of cell. :func:`expand` maps a solution of the kinds back to the cells.
- :func:`merge_cells` merges the *open* cells alike for the exact method's MILP (cells that no
  site covers, or that existing coverage fills, stay out of it).
- :func:`dominated_sites` finds the sites that can be left out of the MILP.

Each returns values; :func:`prepare` computes the merge once per problem, and the dominance
when the MILP first needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy import sparse

from connectivity.optimise.problem import Problem
from connectivity.optimise.solution import Ranking, Solution


@dataclass(frozen=True, eq=False)
class Merged:
    """A problem's open cells merged: quality matrix, weights, existing coverage, masks.

    Attributes
    ----------
    q
        Merged cell × site qualities.
    weights, existing
        Summed weight and (shared) existing coverage of each merged cell.
    masks
        For every group limit, which merged cells belong to the group.
    """

    q: sparse.csr_array
    weights: np.ndarray
    existing: np.ndarray
    masks: list[np.ndarray]

    @property
    def n_cells(self) -> int:
        """Number of merged cells."""
        return int(self.q.shape[0])

    @property
    def nnz(self) -> int:
        """Number of merged cell-site pairs."""
        return int(self.q.nnz)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A problem with its merged cells, and its dominated sites once first asked for.

    Only the MILP leaves dominated sites out; finding them took 0.46 s at 40,000 x 10,000 x
    800 m, which the greedy method does not spend.
    """

    problem: Problem
    merged: Merged

    @cached_property
    def dominated(self) -> np.ndarray:
        """The sites :func:`dominated_sites` finds (computed once, when first asked for)."""
        return dominated_sites(self.problem, self.merged.q)


def prepare(problem: Problem) -> Prepared:
    """Merge a problem's open cells (dominated sites are found when first asked for)."""
    return Prepared(problem=problem, merged=merge_cells(problem))


def identical_rows(
    rows: sparse.csr_array, use: np.ndarray, extra_keys: list[np.ndarray]
) -> np.ndarray | None:
    """Return each row's group of identical rows among those ``use`` selects (-1 elsewhere).

    Rows are identical when they have the same columns, the same values and the same entries
    in every array of ``extra_keys``; ``rows`` must have sorted indices. Groups are numbered in
    the order of their first row. Rows are grouped by two random linear hashes (of the values
    and of the pattern), then every row is compared with its group's first: returns None if a
    hash collision put different rows together, which the caller then groups by
    :func:`identical_rows_by_bytes`. Merging the benchmark's cells this way took 1.0 ms
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


def identical_rows_by_bytes(
    rows: sparse.csr_array, use: np.ndarray, extra_keys: list[np.ndarray]
) -> np.ndarray:
    """:func:`identical_rows` by a dictionary of each row's bytes (slower, never collides)."""
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


def _groups(cols: sparse.csr_array, use: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    group_of = identical_rows(cols, use, keys)
    if group_of is None:  # two different cells hashed alike: group them one by one
        group_of = identical_rows_by_bytes(cols, use, keys)
    return group_of


def merge_cells(problem: Problem) -> Merged:
    """Merge open cells with identical coverage columns, existing coverage and share groups."""
    p = problem
    cols = p.matrix.T.tocsr()  # cell × site
    cols.sort_indices()
    open_cells = (np.diff(cols.indptr) > 0) & (p.existing < 1.0) & (p.weights > 0)
    share_limits = [lim for lim in p.limits if lim.min_share > 0]
    group_of = _groups(cols, open_cells, [p.existing] + [lim.cells for lim in share_limits])
    n_groups = int(group_of.max()) + 1 if len(group_of) else 0
    rows = np.flatnonzero(group_of >= 0)
    _, first_pos = np.unique(group_of[rows], return_index=True)
    first = rows[first_pos]  # representative cell of each merged group
    merged_q = cols[first] if n_groups else sparse.csr_array((0, p.n_sites))
    merged_w = np.bincount(group_of[rows], weights=p.weights[rows], minlength=n_groups)
    merged_e = p.existing[first] if n_groups else np.zeros(0)
    masks = [lim.cells[first] if n_groups else np.zeros(0, bool) for lim in p.limits]
    return Merged(sparse.csr_array(merged_q), merged_w, merged_e, masks)


def dominated_sites(problem: Problem, q: sparse.csr_array) -> np.ndarray:
    """Return the sites that can be left out of the MILP without changing its optimum.

    A site that covers no open cell is dominated. With full-quality coverage, so is a site
    whose cells are all covered by another site that is not excluded, costs no more and is in
    the same constraint groups: in any plan, the one can replace the other, or the dominated
    site adds nothing when both are chosen. Among sites covering the same cells at the same
    cost, the lowest index stays. Mandatory sites, and sites in a group with a minimum number
    of sites (the count may need them), are kept. ``q`` is the merged cell × site matrix.

    On the benchmark's 10,000 x 1,000 instance at 800 m this leaves out 124 of the 981 sites
    that cover an open cell.
    """
    p = problem
    n_sites = p.n_sites
    rows = q.T.tocsr()  # site x merged cell
    protected = np.zeros(n_sites, dtype=bool)
    protected[p.mandatory] = True
    for limit in p.limits:
        if limit.min_sites > 0:
            protected |= limit.sites
    size = np.diff(rows.indptr)
    dominated = (size == 0) & ~protected
    if rows.nnz and rows.data.min() < 1.0:
        return dominated  # partial qualities add up, so a covered subset is not redundant
    available = np.ones(n_sites, dtype=bool)
    available[p.excluded] = False
    if p.limits:
        memberships = np.column_stack([lim.sites for lim in p.limits])
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
    cost = p.costs
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
            by[probing].astype(np.int64) * n_cells + rarest_first[rows.indptr[j[probing]] + step]
        )
        at = np.minimum(np.searchsorted(covers, probe), len(covers) - 1)
        alive = np.ones(len(j), dtype=bool)
        alive[probing[covers[at] != probe]] = False
        j, by = j[alive], by[alive]
        step += 1
    dominated[j] = True
    return dominated


def kinds(
    problem: Problem, *, min_cells: int, max_share: float
) -> tuple[Problem, np.ndarray] | None:
    """Return the problem over one cell per kind of identical cell, when that is far smaller.

    Cells with the same column of qualities, the same existing coverage and the same group
    memberships are interchangeable: every objective, bound and constraint sums their
    weights. Returns the reduced problem and each cell's kind, or None for problems of fewer
    than ``min_cells`` cells or more kinds than ``max_share`` of the cells.
    """
    p = problem
    if p.n_cells < min_cells:
        return None
    cols = p.matrix.T.tocsr()
    cols.sort_indices()
    group_of = _groups(
        cols, np.ones(p.n_cells, dtype=bool), [p.existing] + [lim.cells for lim in p.limits]
    )
    n_groups = int(group_of.max()) + 1
    if n_groups > max_share * p.n_cells:
        return None
    _, first = np.unique(group_of, return_index=True)
    matrix = sparse.csr_array(cols[first].T.tocsr())
    matrix.sort_indices()
    reduced = p.on_cells(
        matrix,
        np.bincount(group_of, weights=p.weights, minlength=n_groups),
        p.existing[first],
        [replace(limit, cells=limit.cells[first]) for limit in p.limits],
    )
    return reduced, group_of


def expand(solution: Solution, group_of: np.ndarray) -> Solution:
    """Return a solution of the kinds of cell on the cells themselves (``group_of`` per cell)."""
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
    return replace(solution, ranking=ranking)
