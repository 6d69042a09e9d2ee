"""The classes every map shares: demand density, coverage after the plan, people in gaps.

The web map, the static maps and the QGIS styles draw the same layer in the same classes and
colours; each class rule lives here once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectivity.outputs.palette import COVERAGE_COLOURS
from connectivity.outputs.published import Published
from connectivity.results import Results


def density_breaks(values: np.ndarray) -> np.ndarray:
    """Return 3 rounded break points (quartiles) that split the cell values into 4 classes.

    Examples
    --------
    >>> density_breaks(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 40.0])).tolist()
    [2.0, 3.0, 4.0]
    """
    values = np.asarray(values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if len(positive) == 0:
        return np.array([1.0, 2.0, 3.0])
    q = np.quantile(positive, [0.25, 0.5, 0.75])
    return np.maximum.accumulate(np.maximum(np.round(q), 1.0))


def class_labels(breaks: np.ndarray) -> list[str]:
    """Return the legend text of the four classes split by ``breaks``.

    Examples
    --------
    >>> class_labels(np.array([2.0, 5.0, 9.0]))
    ['< 2', '2–5', '5–9', '≥ 9']
    """
    b = [str(int(v)) for v in breaks]
    return [f"< {b[0]}", f"{b[0]}–{b[1]}", f"{b[1]}–{b[2]}", f"≥ {b[2]}"]


def coverage_top_pct(pct_after: np.ndarray) -> float:
    """Return the top of the localities' colour scale: the highest share covered, at least 1 %."""
    pct = np.asarray(pct_after, dtype=float)
    pct = pct[np.isfinite(pct)]
    return max(float(pct.max()) if len(pct) else 0.0, 1.0)


def coverage_colour(value: float, top: float) -> str:
    """Return the ``#rrggbb`` colour of a share covered on the scale from 0 to ``top``.

    Linear between the stops of :data:`~connectivity.outputs.palette.COVERAGE_COLOURS`, as the
    web map's colour scale.

    Examples
    --------
    >>> coverage_colour(0.0, 10.0), coverage_colour(10.0, 10.0)
    ('#f7fbff', '#08306b')
    """
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in COVERAGE_COLOURS])
    t = float(np.clip(value / top if top > 0 else 0.0, 0.0, 1.0)) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    rgb = stops[i] + (stops[i + 1] - stops[i]) * (t - i)
    return "#" + "".join(f"{round(float(v)):02x}" for v in rgb)


@dataclass(frozen=True)
class MapClasses:
    """The classes of one run's maps.

    Attributes
    ----------
    density_breaks
        People without home internet per cell: the breaks of the four density classes.
    coverage_top_pct
        The top of the localities' scale of the share of people covered after the plan.
    gap_breaks
        People without home internet per gap: the breaks of four classes.
    cell_size_m
        The published cells' side, for the density legend.
    """

    density_breaks: np.ndarray
    coverage_top_pct: float
    gap_breaks: np.ndarray
    cell_size_m: float


def map_classes(results: Results, published: Published) -> MapClasses:
    """Return a run's map classes.

    Density classes come from the run's cells, as on the web map; the localities' scale and the
    gaps' classes from the published figures (hidden counts take no part).
    """
    gaps = published.layers["gaps"]
    gap_values = gaps["people_without_internet"].to_numpy(dtype=float) if len(gaps) else []
    return MapClasses(
        density_breaks=density_breaks(results.cells["people_without_internet"].to_numpy()),
        coverage_top_pct=coverage_top_pct(
            published.summary["pct_covered_after"].to_numpy(dtype=float)
        ),
        gap_breaks=density_breaks(np.asarray(gap_values, dtype=float)),
        cell_size_m=float(results.scenario.demand.cell_size_m),
    )
