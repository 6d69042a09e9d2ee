"""What a solve returns: the ranked sites, the objective, a proven bound and how it was found."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Ranking:
    """The chosen sites in rank order.

    Attributes
    ----------
    sites
        Row indices of the chosen sites, best first (ranked by greedy marginal gain).
    gains
        Demand weight newly covered by each chosen site, in rank order.
    newly_covered
        For each chosen site, the cell indices whose coverage it raised.
    covered
        Final coverage per cell (0–1), existing service included.
    total_cost
        Sum of the chosen sites' costs.
    """

    sites: np.ndarray
    gains: np.ndarray
    newly_covered: list[np.ndarray]
    covered: np.ndarray
    total_cost: float


@dataclass
class Solution:
    """What ``solve`` found: objective, bound, gap, the ranked sites and the path taken.

    ``path`` is the way the strategy chose to solve the model before it started (see
    :mod:`connectivity.optimise.strategy`), ``steps`` what it ran along that path, in order;
    ``status`` is how that ended (``"optimal"``, ``"greedy"``, or why the plan is not proven
    optimal).
    """

    method: str
    ranking: Ranking
    objective: float
    bound: float
    gap: float
    coverage_share: float
    total_cost: float
    status: str
    seconds: float
    n_cells_model: int = 0
    path: str = ""
    steps: tuple[str, ...] = ()
    info: dict[str, float] = field(default_factory=dict)

    @property
    def selected(self) -> np.ndarray:
        """Indices of the chosen sites, best first."""
        return self.ranking.sites


def relative_gap(objective: float, bound: float, *, minimise: bool) -> float:
    """Return the relative gap between a plan's objective and a bound (0 below 1e-9)."""
    if not np.isfinite(bound):
        return np.nan
    if minimise:
        gap = (objective - bound) / objective if objective > 0 else 0.0
    else:
        gap = (bound - objective) / bound if bound > 0 else 0.0
    return float(gap) if gap > 1e-9 else 0.0
