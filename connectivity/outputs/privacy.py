"""Privacy: no published output shows a population figure for fewer than a threshold of people.

Cells, gap polygons, localities and site gains whose population is below the scenario's
``output.min_population`` (default 10) keep their geometry but lose every population-derived
figure (set to empty, with ``suppressed = True``). The rule and the counts go into ``run.json``.
The unsuppressed data stay in memory for the computation; only what is written is masked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: columns that carry people counts or figures derived from them
PEOPLE_COLUMNS = (
    "population",
    "people_without_internet",
    "demand_weight",
    "no_internet_share",
    "priority_multiplier",
    "covered_before",
    "covered_after",
    "pct_covered_before",
    "pct_covered_after",
    "new_people_covered",
    "new_priority_weight",
)


def suppress_small(
    frame: pd.DataFrame,
    population: pd.Series | np.ndarray,
    threshold: float,
    *,
    extra_columns: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, int]:
    """Blank the people figures of rows whose population is below ``threshold``.

    Parameters
    ----------
    frame
        Table or GeoDataFrame to publish (a copy is returned).
    population
        The people count each row's figures come from.
    threshold
        Rows with fewer people are suppressed; 0 turns suppression off.
    extra_columns
        Further columns to blank (for example the priority-group counts of a cell).

    Returns
    -------
    frame, n_suppressed
    """
    pop = np.asarray(population, dtype=float)
    small = (pop < threshold) & (threshold > 0)
    out = frame.copy()
    if small.any():
        for col in (*PEOPLE_COLUMNS, *extra_columns):
            if col in out.columns:
                out[col] = out[col].astype(float).where(~small, np.nan)
    out["suppressed"] = small
    return out, int(small.sum())
