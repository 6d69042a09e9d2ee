"""The rules on a model's objective and a solve's options, stated once.

Each function returns what is wrong with a value (``None`` when it is fine), worded to follow
the name of the setting: the scenario's schema prefixes its key (``method.sites: must be at
least 1, got 0``), the optimiser its own name (``k must be at least 1, got 0``).
"""

from __future__ import annotations

import math


def sites_problem(k: int | None) -> str | None:
    """Say what is wrong with a number of sites to choose."""
    return None if k is None or k >= 1 else f"must be at least 1, got {k}"


def budget_problem(budget: float | None) -> str | None:
    """Say what is wrong with a budget."""
    return None if budget is None or budget > 0 else f"must be greater than 0, got {budget}"


def target_problem(target: float | None) -> str | None:
    """Say what is wrong with a target share of demand to cover."""
    if target is None or 0 < target <= 1:
        return None
    return f"must be a share in (0, 1], got {target}"


def time_limit_problem(seconds: float | None) -> str | None:
    """Say what is wrong with a time limit."""
    if seconds is None or (seconds > 0 and not math.isnan(seconds)):
        return None
    return f"must be above 0 s, got {seconds}"


def mip_gap_problem(gap: float) -> str | None:
    """Say what is wrong with a relative MIP gap."""
    return None if 0 <= gap < 1 else f"must be a share from 0 up to 1, got {gap}"
