"""The colours every output uses: the web map, the static maps, the report and QGIS styles.

Demand density is ColorBrewer's *Reds*, sites purple, existing Wi-Fi blue, newly covered cells
green (ColorBrewer *Paired*), so that a layer looks the same in every output.
"""

from __future__ import annotations

DENSITY_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]
"""Uncovered demand per cell, by class (low to high)."""
SITE_COLOUR = "#6a3d9a"
WIFI_COLOUR = "#1f78b4"
NEW_COLOUR = "#33a02c"
CANDIDATE_COLOUR = "#969696"
BEFORE_COLOUR = "#bdbdbd"
"""Figures before the plan, in charts."""
BOUNDARY_COLOUR = "#444444"
COVERAGE_COLOURS = ["#f7fbff", "#6baed6", "#08306b"]
YEAR_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
"""One colour per year of a rollout (ColorBrewer *Dark2*), repeated past seven years."""
FREQUENCY_BREAKS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.0)
FREQUENCY_COLOURS = ["#fee0d2", "#fc9272", "#de2d26", "#a50f15", "#3f007d"]
"""How often robustness draws chose a site: over 0–25 %, 25–50 %, 50–75 %, 75 % up to (not
including) 100 %, and every draw."""
"""Share of people covered per locality: stops of a linear scale from 0 to the highest share."""


def rgba(colour: str, alpha: float = 1.0) -> str:
    """Return a ``#rrggbb`` colour as QGIS's ``r,g,b,a`` text (alpha 0–1).

    Examples
    --------
    >>> rgba("#6a3d9a")
    '106,61,154,255'
    """
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"
