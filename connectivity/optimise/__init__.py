"""Choosing sites: coverage location models solved greedily or exactly (HiGHS).

The package's parts depend one way: :mod:`~connectivity.optimise.problem` (the frozen problem
and its checks) and :mod:`~connectivity.optimise.solution` (rankings and solutions) at the
bottom; then :mod:`~connectivity.optimise.policy` (every threshold and time share),
:mod:`~connectivity.optimise.greedy`, :mod:`~connectivity.optimise.local_search`,
:mod:`~connectivity.optimise.reduction` (merging and dominance),
:mod:`~connectivity.optimise.highs` (the only module that imports ``highspy``),
:mod:`~connectivity.optimise.bounds`, :mod:`~connectivity.optimise.kernel` (kernel search on
what the Lagrangian relaxation keeps choosing) and :mod:`~connectivity.optimise.dives`; then
:mod:`~connectivity.optimise.strategy`, which picks a path up front and runs it, and
:mod:`~connectivity.optimise.models`, the spopt-like classes over it.
"""

from connectivity.coverage import coverage_from_distances, quality_from_geodataframes
from connectivity.optimise.greedy import rank_selection
from connectivity.optimise.models import (
    BudgetedMaximalCovering,
    CoverageModel,
    MaximalCovering,
    SetCovering,
    build_model,
    equity_limits,
    greedy_ranking,
)
from connectivity.optimise.policy import DEFAULT_POLICY, Policy
from connectivity.optimise.problem import (
    GroupLimit,
    InfeasibleError,
    Problem,
    check_feasible,
    covered_weight,
)
from connectivity.optimise.solution import Ranking, Solution
from connectivity.optimise.strategy import METHODS, Method, Path, solve

__all__ = [
    "DEFAULT_POLICY",
    "METHODS",
    "BudgetedMaximalCovering",
    "CoverageModel",
    "GroupLimit",
    "InfeasibleError",
    "MaximalCovering",
    "Method",
    "Path",
    "Policy",
    "Problem",
    "Ranking",
    "SetCovering",
    "Solution",
    "build_model",
    "check_feasible",
    "coverage_from_distances",
    "covered_weight",
    "equity_limits",
    "greedy_ranking",
    "quality_from_geodataframes",
    "rank_selection",
    "solve",
]
