"""Demand: the census units with their population, internet share and priority groups.

The demographic units (census sectors, comunas) are joined to their table and their values
checked; :mod:`connectivity.grid` then spreads them onto cells. Each cell's *demand weight* is
the number of people without home internet times a priority multiplier::

    multiplier = 1 + sum_g m_g * share_g + m_rural * rural

where ``share_g`` is the cell's share of people in priority group ``g`` (women, young people,
older people; or a 0–1 share such as households in strata 1–2) and ``m_g`` the weight the
scenario gives that group.

Missing values are never turned into zeros silently. For a unit where people live:

- a blank **population** leaves the unit out (its people are unknown);
- a blank **internet share** is replaced by the population-weighted mean share of the units
  where it is known (not by 0 %, which would count everyone as offline, nor by 100 %);
- a blank **group count** is replaced by the unit's population times the group's share in the
  units where it is known; a blank **group share** by the population-weighted mean share.

Each case is counted, named (file, column, rows as numbered in the file), logged as a warning,
recorded in ``run.json`` and refused under ``--strict``. Blank values in units where nobody
lives change nothing and are only counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from connectivity.columns import require_columns, to_number
from connectivity.errors import LayerError
from connectivity.scenario import DemandSpec, GroupSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingValues:
    """Blank values in one column of the demographic data, and what was done about them.

    Attributes
    ----------
    path, column
        The file that holds the column, and the column.
    rows
        Row numbers in that file (from 1 after the header) of the blank values.
    units
        How many units have the value blank.
    people
        How many people live in those units (unknown, 0, where the population is blank).
    rule
        What was done: ``"unit left out"``, ``"mean share of the other units"``, ...
    """

    path: str
    column: str
    rows: tuple[int, ...]
    units: int
    people: float
    rule: str

    def message(self) -> str:
        """One line for the log and for errors."""
        first = ", ".join(str(r) for r in self.rows[:5])
        more = "" if len(self.rows) <= 5 else f" and {len(self.rows) - 5} more"
        people = f", {self.people:,.0f} people" if self.people else ""
        return (
            f"{self.path}: column '{self.column}' is blank in {self.units} units where people "
            f"live (rows {first}{more}, counted from 1 after the header{people}): {self.rule}"
        )

    def to_dict(self) -> dict[str, object]:
        """Plain data for ``run.json``."""
        return {
            "path": self.path,
            "column": self.column,
            "units": self.units,
            "rows": list(self.rows[:50]),
            "people": round(self.people, 1),
            "rule": self.rule,
        }


def units_from_layers(
    layer: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    spec: DemandSpec,
    *,
    layer_rows: np.ndarray | None = None,
    strict: bool = False,
) -> tuple[gpd.GeoDataFrame, list[MissingValues]]:
    """Join the demographic layer to its table and keep the columns demand needs.

    Parameters
    ----------
    layer
        Polygons of the demographic units (metric CRS).
    table
        The joined table, or ``None`` when the layer carries every column itself. Its index
        is the file's row (from 0 after the header), as :func:`connectivity.columns.read_table`
        gives it.
    spec
        The scenario's demand section.
    layer_rows
        Row numbers of the layer's rows in its file (from 1), for messages; default 1, 2, ...
    strict
        Make units without a table row, and blank values where people live, errors rather
        than warnings.

    Returns
    -------
    GeoDataFrame, list of MissingValues
        Columns ``unit_id``, ``population``, ``internet_share`` (NaN if no column is given),
        one column per priority group (persons for ``count`` groups, 0–1 for ``share``
        groups), ``geometry``; and what was blank.

    Raises
    ------
    LayerError
        The join matches no row, a key repeats, a value is negative, not a number or (for a
        share) outside 0–1, or (with ``strict``) a value is blank where people live. The
        message names the file that holds the column.
    """
    frame = layer.copy()
    rows_in_layer = (
        np.asarray(layer_rows, dtype=np.int64)
        if layer_rows is not None
        else np.arange(1, len(frame) + 1)
    )
    frame["__row"] = rows_in_layer
    require_columns(frame, [spec.id_column], spec.layer.path, "demand.layer")
    frame[spec.id_column] = frame[spec.id_column].astype(str).str.strip()
    dup_ids = frame[spec.id_column].duplicated()
    if dup_ids.any():
        where = ", ".join(str(r) for r in rows_in_layer[dup_ids.to_numpy()][:5])
        first = frame.loc[dup_ids, spec.id_column].iloc[0]
        raise LayerError(
            f"{spec.layer.path} (demand.layer): the id column '{spec.id_column}' repeats "
            f"{int(dup_ids.sum())} ids (rows {where}; first {first!r})"
        )
    source = frame
    value_path = spec.layer.path
    if spec.join is not None and table is not None:
        source = _join(frame, table, spec, strict=strict)
        value_path = spec.join.table.path
    require_columns(source, value_columns(spec), value_path, "demand")
    rows = source["__value_row"].to_numpy() if "__value_row" in source else rows_in_layer

    out = gpd.GeoDataFrame(
        {"unit_id": source[spec.id_column].to_numpy()},
        geometry=source.geometry.to_numpy(),
        crs=layer.crs,
    )
    missing: list[MissingValues] = []
    values = _Values(source, value_path, rows)
    population = values.numbers(spec.population_column)
    blank_pop = np.isnan(population)
    if blank_pop.any():
        missing.append(values.missing(spec.population_column, blank_pop, 0.0, "unit left out"))
        population = np.where(blank_pop, 0.0, population)
    out["population"] = population
    lives = population > 0
    if spec.internet_share_column:
        share = values.numbers(spec.internet_share_column)
        values.check_share(share, spec.internet_share_column)
        share, note = _fill(share, population, lives, share=True)
        if note is not None:
            missing.append(values.missing(spec.internet_share_column, *note))
        out["internet_share"] = share
    else:
        logger.warning(
            "demand: no internet_share_column in the scenario; every resident counts as a "
            "person without home internet"
        )
        out["internet_share"] = np.nan
    for name, group in spec.groups.items():
        total = np.zeros(len(out))
        for column in group.columns:
            raw = values.numbers(column)
            if group.kind == "share":
                values.check_share(raw, column)
            filled, note = _fill(raw, population, lives, share=group.kind == "share")
            if note is not None:
                missing.append(values.missing(column, *note))
            total += filled
        if group.kind == "share":
            values.check_share(pd.Series(total), "+".join(group.columns))
        out[name] = total
    negative = (out.drop(columns=["unit_id", "geometry"]) < 0).any(axis=1).to_numpy()
    if negative.any():
        raise LayerError(
            f"{value_path}: negative population or group values in unit "
            f"{out.loc[negative, 'unit_id'].iloc[0]!r} (row {int(rows[negative][0])})"
        )
    _report_missing(missing, source, lives, values, spec, strict=strict)
    return out, missing


def _join(
    frame: gpd.GeoDataFrame, table: pd.DataFrame, spec: DemandSpec, *, strict: bool
) -> gpd.GeoDataFrame:
    """Join the table to the layer on the key, keeping each unit's row in the table."""
    assert spec.join is not None
    key = spec.join.key
    tkey = spec.join.table_key or spec.join.key
    require_columns(frame, [key], spec.layer.path, "demand.layer")
    table = table.copy()
    table["__value_row"] = np.asarray(table.index, dtype=np.int64) + 1
    table[tkey] = table[tkey].astype(str).str.strip()
    frame[key] = frame[key].astype(str).str.strip()
    dup = table[tkey].duplicated()
    if dup.any():
        raise LayerError(
            f"{spec.join.table.path} (demand.join.table): the key '{tkey}' repeats "
            f"({int(dup.sum())} duplicates, first {table.loc[dup, tkey].iloc[0]!r} at row "
            f"{int(table.loc[dup, '__value_row'].iloc[0])})"
        )
    wanted = [c for c in value_columns(spec) if c != tkey]
    table_cols = table[[tkey, *wanted, "__value_row"]].rename(columns={tkey: "__key"})
    # the table's columns win over same-named layer columns
    frame = frame.drop(columns=[c for c in wanted if c in frame.columns])
    source = frame.merge(table_cols, left_on=key, right_on="__key", how="left")
    matched = source["__key"].notna()
    if not matched.any():
        raise LayerError(
            f"demand.join: no row of {spec.join.table.path.name} matches "
            f"{spec.layer.path.name} on '{key}' = '{tkey}' (layer keys look like "
            f"{frame[key].iloc[0]!r}, table keys like {table[tkey].iloc[0]!r})"
        )
    if not matched.all():
        first_row = int(source.loc[~matched, "__row"].iloc[0])
        message = (
            f"demand.join: {int((~matched).sum())} of {len(source)} units of "
            f"{spec.layer.path.name} have no row in {spec.join.table.path.name} "
            f"(first {source.loc[~matched, key].iloc[0]!r}, row {first_row} of the layer)"
        )
        if strict:
            raise LayerError(f"{message}; --strict turns this into an error")
        logger.warning("%s; they get no population", message)
    unused = len(table) - int(matched.sum())
    if unused:
        logger.info(  # normal for a study area: a line, not a warning
            "demand.join: %d rows of %s match no unit", unused, spec.join.table.path.name
        )
    # units without a table row have no population at all (warned above), not a blank value
    source.loc[~matched, spec.population_column] = "0"
    source["__value_row"] = source["__value_row"].fillna(0).astype(np.int64)
    return source


class _Values:
    """Reads value columns of the joined frame, naming the file and its rows in messages."""

    def __init__(self, frame: pd.DataFrame, path: Path, rows: np.ndarray) -> None:
        self.frame = frame
        self.path = path
        self.rows = rows

    def numbers(self, column: str) -> np.ndarray:
        series = self.frame[column].reset_index(drop=True)
        values = to_number(series, path=self.path, role="demand", rows=self.rows)
        return values.to_numpy(dtype=float)

    def check_share(self, values: pd.Series | np.ndarray, column: str) -> None:
        v = np.asarray(values, dtype=float)
        bad = np.flatnonzero(((v < 0) | (v > 1 + 1e-9)) & ~np.isnan(v))
        if not len(bad):
            return
        known = v[~np.isnan(v)]
        percent = bool(known.max() <= 100 + 1e-9 and known.min() >= 0 and known.max() > 1)
        hint = (
            f"; the values run from {known.min():g} to {known.max():g}, so they look like "
            "percentages: divide the column by 100 (a share of 0.67 means 67 %)"
            if percent
            else ""
        )
        rows = ", ".join(str(int(self.rows[i])) for i in bad[:5])
        raise LayerError(
            f"{self.path} (demand): '{column}' must be a share between 0 and 1; found "
            f"{float(v[bad[0]])!r} at row {rows.split(', ')[0]} ({len(bad)} rows: {rows}"
            f"{' …' if len(bad) > 5 else ''}){hint}"
        )

    def missing(self, column: str, blank: np.ndarray, people: float, rule: str) -> MissingValues:
        return MissingValues(
            path=str(self.path),
            column=column,
            rows=tuple(int(r) for r in self.rows[blank]),
            units=int(blank.sum()),
            people=float(people),
            rule=rule,
        )


def _fill(
    values: np.ndarray, population: np.ndarray, lives: np.ndarray, *, share: bool
) -> tuple[np.ndarray, tuple[np.ndarray, float, str] | None]:
    """Fill blank values where people live from the units where the value is known.

    A share takes the population-weighted mean share of those units; a count, the unit's
    population times the count's share of their population. Blanks where nobody lives become
    0 (nothing depends on them). Returns the values and, if any was filled, what and how.
    """
    blank = np.isnan(values) & lives
    filled = np.where(np.isnan(values) & ~lives, 0.0, values)
    known = ~np.isnan(values) & lives
    if not blank.any() or not known.any():  # nothing to fill, or from: the caller checks
        return filled, None
    if share:
        rate = float(np.average(values[known], weights=population[known]))
        filled = np.where(blank, rate, filled)
        rule = f"replaced by the population-weighted mean of the other units ({rate:.3f})"
    else:
        rate = float(values[known].sum() / population[known].sum())
        filled = np.where(blank, population * rate, filled)
        rule = f"replaced by the unit's population × the share in the other units ({rate:.3f})"
    return filled, (blank, float(population[blank].sum()), rule)


def _report_missing(
    missing: list[MissingValues],
    source: pd.DataFrame,
    lives: np.ndarray,
    values: _Values,
    spec: DemandSpec,
    *,
    strict: bool,
) -> None:
    """Warn about each blank column (an error under ``strict``); refuse what cannot be filled."""
    for column in value_columns(spec)[1:]:
        raw = source[column].reset_index(drop=True)
        blank = (raw.isna() | (raw.astype("string").str.strip() == "")).to_numpy() & lives
        if blank.any() and blank.sum() == lives.sum():
            raise LayerError(
                f"{values.path} (demand): column '{column}' is blank in every unit where "
                "people live; name another column or fill it in"
            )
    for record in missing:
        if strict:
            raise LayerError(f"{record.message()}; --strict turns this into an error")
        logger.warning("%s", record.message())


def value_columns(spec: DemandSpec) -> list[str]:
    """Columns demand reads: population, internet share and every group's columns."""
    cols = [spec.population_column]
    if spec.internet_share_column:
        cols.append(spec.internet_share_column)
    for group in spec.groups.values():
        cols += group.columns
    return list(dict.fromkeys(cols))


def priority_multiplier(
    cells: pd.DataFrame, groups: dict[str, GroupSpec], rural_multiplier: float
) -> np.ndarray:
    """Return ``1 + sum_g m_g * share_g + m_rural * rural`` for each cell."""
    pop = cells["population"].to_numpy(dtype=float)
    mult = np.ones(len(cells))
    for name, group in groups.items():
        if group.kind == "count":
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(pop > 0, cells[name].to_numpy(dtype=float) / pop, 0.0)
            share = np.clip(share, 0.0, 1.0)
        else:
            share = cells[f"{name}_share"].to_numpy(dtype=float)
        mult += group.multiplier * share
    mult += rural_multiplier * cells["rural"].to_numpy(dtype=float)
    return mult
