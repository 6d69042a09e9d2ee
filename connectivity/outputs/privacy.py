r"""Privacy: no published figure gives a count below a threshold, not even by subtraction.

The rule (threshold :math:`T` = ``output.min_population``, default 10; 0 turns it off):

1. **Every count.** A cell's population, its people without home internet, each priority group
   (a share group as the count it implies, share × population), its people covered and its
   people out of reach are each *counts*. A count strictly between 0 and :math:`T` is hidden
   (0 means nobody and is shown). Hiding a count blanks every published column that would give
   it back (a share with its population, the priority multiplier and the demand weight with the
   group counts, ...): :data:`CELL_COLUMNS` lists what each column depends on.
2. **Complementary suppression.** Published totals minus the published parts give the sum of
   the hidden parts. So within every published total, the hidden parts with people are either
   none, or at least two that together count at least :math:`T` people; where that does not
   hold, the next smallest parts are hidden too (the usual rule of statistical offices). The
   totals checked: each locality's population, people without internet and people covered
   before and after, over its cells; each gap's people out of reach, over its cells; each
   locality's people out of reach, over its gaps and its other cells; the territory's totals,
   over its localities; the territory's demand weight, over the cells; the people the plan
   newly covers, over the sites.
3. **Rows.** Localities, gaps and sites show all of their figures or none: a row is hidden
   when any of its counts is hidden. A site's cumulative coverage is hidden from the first
   hidden site on (the differences of a cumulative column give each gain back).

Hidden figures are left empty (NaN) with ``suppressed = true``; the geometry stays. The rule,
and the counts per layer, go into ``run.json``. The unsuppressed data stay in memory for the
computation: only what is written is masked. This protects against differencing within this
hierarchy (cells, gaps, localities, territory); it is not a full audit against every linear
combination of the published tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: measures of a cell: the counts the rule protects
MEASURES = ("population", "without", "covered_before", "covered_after", "weight")


def cell_columns(groups: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """For each published cell column, the measures it depends on (blanked if any is hidden).

    ``groups`` maps each priority group to its column in the cells (``women``, or
    ``low_stratum_share`` for a share group); each group is also a measure ``group:<name>``.
    """
    group_measures = tuple(f"group:{g}" for g in groups)
    columns: dict[str, tuple[str, ...]] = {
        "population": ("population",),
        "people_without_internet": ("without",),
        "no_internet_share": ("without", "population"),
        "priority_multiplier": ("population", *group_measures),
        "demand_weight": ("weight", "without", "population", *group_measures),
        "people_covered_before": ("covered_before",),
        "people_covered_after": ("covered_after",),
        "coverage_before": ("covered_before", "population"),
        "coverage_after": ("covered_after", "population"),
    }
    for name, column in groups.items():
        columns[column] = (f"group:{name}",) if column == name else (f"group:{name}", "population")
    return columns


@dataclass
class Suppression:
    """Which figures are hidden: per cell and measure, and per row of the other tables."""

    cells: dict[str, np.ndarray]
    localities: np.ndarray
    gaps: np.ndarray
    sites: np.ndarray


def small(values: np.ndarray, threshold: float) -> np.ndarray:
    """Mark counts strictly between 0 and the threshold (the primary suppression)."""
    v = np.asarray(values, dtype=float)
    return (v > 1e-9) & (v < threshold - 1e-9) if threshold > 0 else np.zeros(len(v), bool)


def protect(values: np.ndarray, hidden: np.ndarray, members: np.ndarray, threshold: float) -> bool:
    """Hide more members of a total until its hidden ones are safe; True if any was hidden.

    Safe: the hidden members with people are none, or two or more with at least ``threshold``
    people together. ``hidden`` is changed in place.

    Parameters
    ----------
    values
        The measure of every item (all of the table, not only the members).
    hidden
        Whether each item's measure is hidden.
    members
        Indices of the items that make up one published total.
    threshold
        The privacy threshold.
    """
    if threshold <= 0 or not len(members):
        return False
    v = np.asarray(values, dtype=float)[members]
    changed = False
    while True:
        h = hidden[members] & (v > 1e-9)
        if not h.any() or (h.sum() >= 2 and v[h].sum() >= threshold - 1e-9):
            return changed
        candidates = np.flatnonzero(~hidden[members] & (v > 1e-9))
        if not len(candidates):
            return changed  # everything with people is hidden: the total says no more
        pick = candidates[np.lexsort((candidates, v[candidates]))[0]]
        hidden[members[pick]] = True
        changed = True


def _groups(keys: np.ndarray) -> Iterable[np.ndarray]:
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    for lo, hi in zip(starts, [*starts[1:], len(order)], strict=True):
        yield order[lo:hi]


def suppression(
    cells: pd.DataFrame,
    cell_gap: np.ndarray,
    localities: pd.DataFrame,
    gaps: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    groups: dict[str, str],
    threshold: float,
) -> Suppression:
    """Decide what is hidden under the rule of this module.

    Parameters
    ----------
    cells
        Published cells: ``area_code``, ``population``, ``people_without_internet``, the
        group columns, ``people_covered_before``, ``people_covered_after``, ``demand_weight``.
    cell_gap
        Each cell's row in ``gaps`` (-1 for a cell in no gap).
    localities
        One row per locality: ``locality_code``, ``population``, ``people_without_internet``,
        ``covered_before``, ``covered_after``.
    gaps
        One row per gap: ``area_code``, ``population``, ``people_without_internet``,
        ``demand_weight`` (of the people out of reach).
    sites
        One row per chosen site: ``new_people_covered``.
    groups
        Priority group name → its cell column (the share column for share groups).
    threshold
        ``output.min_population``.
    """
    t = float(threshold)
    pop = cells["population"].to_numpy(dtype=float)
    measure_values: dict[str, np.ndarray] = {
        "population": pop,
        "without": cells["people_without_internet"].to_numpy(dtype=float),
        "covered_before": cells["people_covered_before"].to_numpy(dtype=float),
        "covered_after": cells["people_covered_after"].to_numpy(dtype=float),
        "weight": cells["demand_weight"].to_numpy(dtype=float),
    }
    for name, column in groups.items():
        v = cells[column].to_numpy(dtype=float)
        measure_values[f"group:{name}"] = v if column == name else v * pop
    hidden = {m: small(v, t) for m, v in measure_values.items() if m != "weight"}
    for when in ("before", "after"):  # people out of reach are a count too
        hidden[f"covered_{when}"] |= small(pop - measure_values[f"covered_{when}"], t)
    weight_inputs = [m for m in hidden if m in ("without", "population") or m.startswith("group:")]
    hidden["weight"] = np.logical_or.reduce([hidden[m] for m in weight_inputs])
    out_of_reach = pop - measure_values["covered_after"]

    loc_codes = localities["locality_code"].to_numpy()
    loc_counts = ["population", "people_without_internet", "covered_before", "covered_after"]
    loc_values = {c: localities[c].to_numpy(dtype=float) for c in loc_counts}
    loc_out = loc_values["population"] - loc_values["covered_after"]
    loc_hidden = (
        np.logical_or.reduce([small(v, t) for v in [*loc_values.values(), loc_out]])
        if len(localities)
        else np.zeros(0, bool)
    )
    gap_counts = ["population", "people_without_internet"]
    gap_hidden = (
        np.logical_or.reduce([small(gaps[c].to_numpy(dtype=float), t) for c in gap_counts])
        if len(gaps)
        else np.zeros(0, bool)
    )
    site_new = sites["new_people_covered"].to_numpy(dtype=float)
    site_hidden = small(site_new, t)

    cell_area = cells["area_code"].to_numpy()
    by_locality = {str(cell_area[idx[0]]): idx for idx in _groups(cell_area)} if len(cells) else {}
    gap_cells = [idx for idx in _groups(cell_gap) if cell_gap[idx[0]] >= 0] if len(cells) else []
    gap_area = gaps["area_code"].to_numpy() if len(gaps) else np.zeros(0)
    gap_pop = gaps["population"].to_numpy(dtype=float) if len(gaps) else np.zeros(0)
    pairs = (
        ("population", "population"),
        ("without", "people_without_internet"),
        ("covered_before", "covered_before"),
        ("covered_after", "covered_after"),
    )

    def locality_cells(i: int, measure: str, idx: np.ndarray) -> bool:
        return not loc_hidden[i] and protect(measure_values[measure], hidden[measure], idx, t)

    def out_of_reach_in_gap(g: int, idx: np.ndarray) -> bool:
        if gap_hidden[g]:
            return False
        eff = hidden["covered_after"] | hidden["population"]
        changed = protect(out_of_reach, eff, idx, t)
        hidden["covered_after"] |= eff & ~hidden["population"]
        return changed

    def out_of_reach_in_locality(i: int, gap_rows: np.ndarray, rest: np.ndarray) -> bool:
        # the locality's people out of reach, over its gaps and its cells in no gap
        if loc_hidden[i]:
            return False
        values = np.concatenate([gap_pop[gap_rows], out_of_reach[rest]])
        eff_cells = hidden["covered_after"][rest] | hidden["population"][rest]
        flags = np.concatenate([gap_hidden[gap_rows], eff_cells])
        changed = protect(values, flags, np.arange(len(values)), t)
        if changed:
            gap_hidden[gap_rows] |= flags[: len(gap_rows)]
            hidden["covered_after"][rest] |= flags[len(gap_rows) :]
        return changed

    checks: list[Callable[[], bool]] = []
    for i, code in enumerate(loc_codes):
        members = by_locality.get(str(code))
        if members is None:
            continue
        for measure, _ in pairs:
            checks.append(functools.partial(locality_cells, i, measure, members))
        in_gaps = np.flatnonzero(gap_area == code)
        rest = members[cell_gap[members] < 0]
        checks.append(functools.partial(out_of_reach_in_locality, i, in_gaps, rest))
    for idx in gap_cells:
        checks.append(functools.partial(out_of_reach_in_gap, int(cell_gap[idx[0]]), idx))
    everything = np.arange(len(loc_codes))
    for _, column in pairs:
        checks.append(functools.partial(protect, loc_values[column], loc_hidden, everything, t))
    all_cells = np.arange(len(pop))
    checks.append(
        functools.partial(protect, measure_values["weight"], hidden["weight"], all_cells, t)
    )
    checks.append(functools.partial(protect, site_new, site_hidden, np.arange(len(site_new)), t))

    for _ in range(50):  # hiding only grows, so this settles; a few rounds in practice
        changed = False
        for check in checks:
            changed |= bool(check())
        if not changed:
            break
    return Suppression(cells=hidden, localities=loc_hidden, gaps=gap_hidden, sites=site_hidden)


def mask_cells(
    cells: pd.DataFrame, hidden: dict[str, np.ndarray], columns: dict[str, tuple[str, ...]]
) -> tuple[pd.DataFrame, int]:
    """Blank each cell column where a measure it depends on is hidden; count the cells touched."""
    out = cells.copy()
    touched = np.zeros(len(cells), dtype=bool)
    for column, measures in columns.items():
        if column not in out.columns:
            continue
        blank = np.logical_or.reduce([hidden[m] for m in measures if m in hidden])
        if blank.any():
            out[column] = out[column].astype(float).where(~blank, np.nan)
        touched |= blank
    out["suppressed"] = touched
    return out, int(touched.sum())


def mask_rows(frame: pd.DataFrame, hidden: np.ndarray, columns: Iterable[str]) -> pd.DataFrame:
    """Blank the given columns of the hidden rows and flag them ``suppressed``."""
    out = frame.copy()
    for column in columns:
        if column in out.columns and hidden.any():
            out[column] = out[column].astype(float).where(~hidden, np.nan)
    out["suppressed"] = np.asarray(hidden, dtype=bool)
    return out
