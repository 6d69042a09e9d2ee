r"""Money over a horizon: total cost of ownership, net present cost, equivalent annual cost.

A capital cost :math:`C` is paid at the start; an operating cost :math:`O` at the end of each
of :math:`H` years, discounted at rate :math:`r`:

.. math::
    \mathrm{TCO} = C + H\,O, \qquad
    \mathrm{NPC} = C + O \sum_{t=1}^{H} (1 + r)^{-t}, \qquad
    \mathrm{per\ year} = \mathrm{NPC} \Big/ \sum_{t=1}^{H} (1 + r)^{-t}

(the equivalent annual cost: the level yearly payment with the same present value; with
:math:`r = 0` it is :math:`C / H + O`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectivity.costing.spec import MoneySpec

COST_COLUMNS = ["capex", "opex_per_year", "tco", "npc", "per_year"]
"""Each site's costs (and each plan's, summed): see the module's text."""


def annuity_factor(rate: float, years: int) -> float:
    r"""Return :math:`\sum_{t=1}^{H} (1 + r)^{-t}` (the years themselves when the rate is 0).

    Examples
    --------
    >>> annuity_factor(0.0, 5)
    5.0
    >>> round(annuity_factor(0.1, 2), 6)  # 1/1.1 + 1/1.21
    1.735537
    """
    if rate == 0:
        return float(years)
    return float((1 - (1 + rate) ** -years) / rate)


def cost_table(capex: np.ndarray, opex_per_year: np.ndarray, money: MoneySpec) -> pd.DataFrame:
    """Return each site's capex, opex per year, TCO, NPC and equivalent annual cost."""
    c = np.asarray(capex, dtype=float)
    o = np.asarray(opex_per_year, dtype=float)
    factor = annuity_factor(money.discount_rate, money.horizon_years)
    npc = c + o * factor
    return pd.DataFrame(
        {
            "capex": c,
            "opex_per_year": o,
            "tco": c + o * money.horizon_years,
            "npc": npc,
            "per_year": npc / factor,
        }
    )


def budget_cost(table: pd.DataFrame, money: MoneySpec) -> np.ndarray:
    """Return the cost per site that ``method.budget`` limits (``money.budget_on``)."""
    return table[money.budget_on].to_numpy(dtype=float)


def totals(table: pd.DataFrame) -> dict[str, float]:
    """Return a plan's costs: each cost column summed over its sites."""
    return {c: float(table[c].sum()) if len(table) else 0.0 for c in COST_COLUMNS}
