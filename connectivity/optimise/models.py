r"""The three location models, as spopt users know them: build the problem, ``solve`` delegates.

- :class:`MaximalCovering` — maximise :math:`\sum_i w_i\,\mathrm{cov}_i(x)` subject to
  :math:`\sum_j x_j \le k` (Church & ReVelle 1974).
- :class:`BudgetedMaximalCovering` — the same subject to :math:`\sum_j c_j x_j \le B`
  (Khuller, Moss & Naor 1999).
- :class:`SetCovering` — minimise :math:`\sum_j c_j x_j` subject to
  :math:`\sum_i w_i\,\mathrm{cov}_i(x) \ge s \sum_i w_i` (Toregas et al. 1971, with a target
  share :math:`s`).

Each has two constructors, ``from_cost_matrix`` and ``from_geodataframe``, and
``solve(method)`` returns the model with ``solution`` filled in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal, Self

import numpy as np
from scipy import sparse

from connectivity.coverage import coverage_from_distances, quality_from_geodataframes
from connectivity.errors import OptimisationError
from connectivity.optimise.greedy import greedy
from connectivity.optimise.local_search import interchange
from connectivity.optimise.policy import DEFAULT_POLICY, Policy
from connectivity.optimise.problem import GroupLimit, Problem
from connectivity.optimise.solution import Ranking, Solution
from connectivity.optimise.strategy import Method, solve

logger = logging.getLogger("connectivity.optimise")


class _CoverageModel:
    """A location model: its :class:`Problem`, and ``solve`` that fills in ``solution``."""

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
        k: int | None = None,
        budget: float | None = None,
        target: float | None = None,
    ) -> None:
        self.problem = Problem.from_arrays(
            matrix,
            weights,
            costs=costs,
            existing=existing,
            mandatory=mandatory,
            excluded=excluded,
            limits=limits,
            k=k,
            budget=budget,
            target=target,
            name=self.name,
        )
        self.solution: Solution | None = None

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        service_radius: float,
        *args: float,
        decay: Literal["binary", "linear"] = "binary",
        **kwargs: Any,
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
        return cls(quality, weights, *args, **kwargs)

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
        **kwargs: Any,
    ) -> Self:
        """Build the model from point GeoDataFrames of demand and sites (same metric CRS)."""
        quality = quality_from_geodataframes(demand, sites, service_radius, decay=decay)
        if cost_column is not None:
            kwargs["costs"] = sites[cost_column].to_numpy(dtype=float)
        weights = demand[weight_column].to_numpy(dtype=float)
        return cls(quality, weights, *args, **kwargs)

    @property
    def matrix(self) -> sparse.csr_array:
        """Site × cell qualities."""
        return self.problem.matrix

    @property
    def weights(self) -> np.ndarray:
        """Demand weight per cell."""
        return self.problem.weights

    @property
    def costs(self) -> np.ndarray:
        """Cost per site."""
        return self.problem.costs

    @property
    def existing(self) -> np.ndarray:
        """Existing coverage per cell (0–1)."""
        return self.problem.existing

    @property
    def total_weight(self) -> float:
        """Total demand weight."""
        return self.problem.total_weight

    def solve(
        self,
        method: Method = "greedy",
        *,
        time_limit_s: float | None = 60.0,
        mip_gap: float = 1e-4,
        progress: Callable[[int], None] | None = None,
        policy: Policy = DEFAULT_POLICY,
    ) -> Self:
        """Solve the model and store a :class:`Solution` in ``self.solution``.

        Parameters
        ----------
        method
            ``"greedy"`` or ``"exact"``.
        time_limit_s
            Time limit of either method: the exact search, or greedy's local search, stops
            there with its best plan and a proven bound. HiGHS
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
        policy
            Thresholds, time shares and solver options (:class:`Policy`).

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
        self.solution = solve(
            self.problem,
            method,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            progress=progress,
            policy=policy,
        )
        return self


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
        self, matrix: sparse.sparray | np.ndarray, weights: np.ndarray, k: int, **kwargs: Any
    ) -> None:
        super().__init__(matrix, weights, k=k, **kwargs)

    @property
    def k(self) -> int:
        """The number of sites to choose."""
        assert self.problem.k is not None
        return self.problem.k


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
        **kwargs: Any,
    ) -> None:
        super().__init__(matrix, weights, budget=budget, k=k, **kwargs)

    @property
    def budget(self) -> float:
        """The budget."""
        assert self.problem.budget is not None
        return self.problem.budget


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
        **kwargs: Any,
    ) -> None:
        super().__init__(matrix, weights, target=target_share, **kwargs)

    @property
    def target_share(self) -> float:
        """The share of demand weight to cover."""
        assert self.problem.target is not None
        return self.problem.target


CoverageModel = _CoverageModel
"""The base of the three models (what :func:`build_model` returns)."""


def build_model(
    model: str,
    matrix: sparse.csr_array,
    weights: np.ndarray,
    *,
    k: int | None = None,
    budget: float | None = None,
    target_share: float | None = None,
    **kwargs: Any,
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
    problem = Problem.from_arrays(
        matrix, weights, k=k, budget=budget, costs=costs, existing=existing, name="greedy"
    )
    return interchange(problem, greedy(problem, progress)).ranking


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
