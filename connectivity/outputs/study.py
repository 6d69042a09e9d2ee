"""A study's outputs: its table, record, charts and maps, GeoPackage layer and report section.

``study.csv``, ``study.json``, ``study_<kind>.png``, the ``study_sites`` layer of
``connectivity.gpkg`` and the study section of ``report.html``.

Charts: the budget curve (coverage against cost, with the exact plans' bounds), the equity
frontier (coverage against the lowest locality's coverage, with the Gini of each plan), the
rollout map (sites coloured by the year they open) and the robustness map (sites by how often
the draws chose them). Text from data is escaped for HTML and drawn as plain text in figures.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from connectivity.outputs.i18n import Language, format_number, label
from connectivity.outputs.palette import (
    BEFORE_COLOUR,
    BOUNDARY_COLOUR,
    FREQUENCY_BREAKS,
    FREQUENCY_COLOURS,
    SITE_COLOUR,
    YEAR_COLOURS,
)
from connectivity.outputs.privacy import protect, small
from connectivity.outputs.safety import escape_html, plain_text, write_csv
from connectivity.results import Results
from connectivity.study.model import PlanResult
from connectivity.study.results import StudyResults


def study_files(study: StudyResults) -> list[str]:
    """Return the files a study adds to its run's folder."""
    names = ["study.csv", "study.json"]
    for kind in ("budget_curve", "equity_frontier", "phases", "robustness"):
        if study.of_kind(kind):
            names.append(f"study_{kind}.png")
    return names


def write_study_files(results: Results, study: StudyResults, folder: Path) -> None:
    """Write ``study.csv``, ``study.json`` and the charts into ``folder``."""
    language = results.scenario.output.language
    write_csv(study.table(), folder / "study.csv")
    record = study.to_dict()
    for plan, p in zip(record["plans"], study.plans, strict=True):
        plan["localities"] = localities(study, p)
    (folder / "study.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    charts = {
        "budget_curve": _budget_curve,
        "equity_frontier": _equity_frontier,
        "phases": _phases_map,
        "robustness": _robustness_map,
    }
    for kind, draw in charts.items():
        if study.of_kind(kind):
            with plain_text():
                fig = draw(results, study, language)
                fig.savefig(folder / f"study_{kind}.png", dpi=110, bbox_inches="tight")
                plt.close(fig)


def localities(study: StudyResults, p: PlanResult) -> list[dict[str, Any]]:
    """Return a plan's coverage per locality (%), hidden where a count of people is small.

    The run's privacy rule: a locality whose people covered, or left out, count between 1 and
    ``min_population`` - 1 has its shares hidden, and more are hidden until the hidden ones
    are safe together, so the plan's total cannot give one back.
    """
    t = float(study.min_population)
    hidden = small(p.area_people, t) | small(p.area_population - p.area_people, t)
    protect(p.area_people, hidden, np.arange(len(hidden)), t)
    names = study.model.groups.area_names
    rows = []
    for i, code in enumerate(study.model.areas):
        rows.append(
            {
                "locality_code": str(code),
                "locality": names.get(str(code), ""),
                "pct_people_covered": None
                if hidden[i]
                else _round(_pct(p.area_people[i], p.area_population[i])),
                "pct_weight_covered": None
                if hidden[i]
                else _round(_pct(p.area_weight_covered[i], p.area_weight[i])),
            }
        )
    return rows


def _pct(part: float, whole: float) -> float:
    return float(100 * part / whole) if whole > 0 else float("nan")


def _round(value: float) -> float | None:
    return round(value, 3) if np.isfinite(value) else None


def study_layer(results: Results, study: StudyResults) -> gpd.GeoDataFrame:
    """Every site a study plan chose: its year, selection frequency and plans (output CRS).

    Columns: ``territory``, ``site_id``, ``name``, ``type``, ``phase`` (the year it opens, empty
    if no phase chose it), ``phase_order`` (1 for the first year, 0 if none),
    ``selection_frequency`` (share of the robustness draws that chose it, empty without
    robustness), ``plans_chosen`` (how many of the study's plans chose it).
    """
    m = study.model
    counts = np.zeros(m.n_sites, dtype=np.int64)
    for p in study.plans:
        counts[p.sites] += 1
    own = np.flatnonzero(counts > 0)
    phase = study.phase if study.phase is not None else np.full(m.n_sites, -1)
    years = np.asarray([*study.years, ""], dtype=object)
    freq = study.frequency
    table = pd.DataFrame(
        {
            "territory": m.name,
            "site_id": m.site_ids[own].astype(str),
            "name": m.site_names[own].astype(str),
            "type": m.site_types[own].astype(str),
            "phase": years[phase[own]],
            "phase_order": phase[own] + 1,
            "selection_frequency": freq[own] if freq is not None else np.nan,
            "plans_chosen": counts[own],
        }
    )
    layer = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(m.site_xy[own, 0], m.site_xy[own, 1]), crs=m.crs
    )
    crs = results.scenario.output.crs
    parts = [layer.to_crs(crs)]
    for t in study.territories:
        if t.name == m.name:
            continue
        other = t.sites
        parts.append(
            gpd.GeoDataFrame(
                {
                    "territory": other["territory"].astype(str),
                    "site_id": other["site_id"].astype(str),
                    "name": other["name"].astype(str),
                    "type": other["type"].astype(str),
                    "phase": "",
                    "phase_order": 0,
                    "selection_frequency": np.nan,
                    "plans_chosen": 1,
                },
                geometry=gpd.points_from_xy(other["lon"], other["lat"]),
                crs="EPSG:4326",
            ).to_crs(crs)
        )
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def _outlines(ax: plt.Axes, results: Results, xy: np.ndarray) -> None:
    """Locality outlines and names, the view on the sites shown (at least 3 km across)."""
    areas = results.territory.areas
    areas.boundary.plot(ax=ax, color=BOUNDARY_COLOUR, linewidth=0.5)
    if len(xy):
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        centre, half = (lo + hi) / 2, max(float((hi - lo).max()) * 0.6, 1500.0)
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        for point, name in zip(
            areas.geometry.representative_point(), areas["area_name"].astype(str), strict=True
        ):
            if x0 <= point.x <= x1 and y0 <= point.y <= y1:
                ax.text(
                    point.x,
                    point.y,
                    name.title(),
                    fontsize=7,
                    color="#555555",
                    ha="center",
                    va="center",
                )
    ax.set_axis_off()
    ax.set_aspect("equal")


def _budget_curve(results: Results, study: StudyResults, language: Language) -> plt.Figure:
    plans = [p for p in study.of_kind("budget_curve") if p.feasible]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    by_sites = [p for p in plans if p.spec.sites is not None]
    by_budget = [p for p in plans if p.spec.budget is not None]
    for group, key in ((by_sites, "study_sites_axis"), (by_budget, "study_cost_axis")):
        if not group:
            continue
        x = [len(p.sites) if key == "study_sites_axis" else p.cost for p in group]
        ax.plot(
            x,
            [p.pct_people for p in group],
            "o-",
            color=SITE_COLOUR,
            label=label("study_pct_people", language),
        )
        ax.plot(
            x,
            [p.pct_weight for p in group],
            "s--",
            color="#33a02c",
            label=label("study_pct_weight", language),
        )
        bounds = [100 * p.bound / p.total_weight if p.total_weight else np.nan for p in group]
        if any(p.spec.algorithm == "exact" for p in group):
            ax.plot(x, bounds, ":", color=BEFORE_COLOUR, label=label("study_bound", language))
        ax.set_xlabel(label(key, language))
    ax.set_ylabel("%")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(label("study_budget_curve", language), fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def _equity_frontier(results: Results, study: StudyResults, language: Language) -> plt.Figure:
    plans = study.of_kind("equity_frontier")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ok = [p for p in plans if p.feasible]
    ax.plot(
        [p.lowest_area_pct_weight for p in ok], [p.pct_weight for p in ok], "o-", color=SITE_COLOUR
    )
    for p in ok:
        ax.annotate(
            f"{p.spec.plan}\nGini {format_number(p.gini_people, language, 2)}",
            (p.lowest_area_pct_weight, p.pct_weight),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    infeasible = [p.spec.plan for p in plans if not p.feasible]
    if infeasible:
        ax.text(
            0.01,
            0.01,
            label("study_infeasible", language, plans="; ".join(infeasible)),
            transform=ax.transAxes,
            fontsize=7,
            color="#a50f15",
        )
    ax.set_xlabel(label("study_lowest_locality", language))
    ax.set_ylabel(label("study_pct_weight", language))
    ax.set_title(label("study_equity_frontier", language), fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def _phases_map(results: Results, study: StudyResults, language: Language) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 8))
    xy = study.model.site_xy
    assert study.phase is not None
    _outlines(ax, results, xy[study.phase >= 0])
    for y, (year, p) in enumerate(zip(study.years, study.of_kind("phases"), strict=True)):
        mine = np.flatnonzero(study.phase == y)
        colour = YEAR_COLOURS[y % len(YEAR_COLOURS)]
        text = label(
            "study_year_legend",
            language,
            year=year,
            n=len(mine),
            pct=format_number(p.pct_people, language, 2),
        )
        ax.scatter(
            xy[mine, 0],
            xy[mine, 1],
            s=22,
            color=colour,
            edgecolor="black",
            linewidth=0.3,
            label=text,
            zorder=3,
        )
    ax.legend(loc="lower left", fontsize=8, title=label("study_phases", language))
    ax.set_title(f"{label('study_phases', language)}: {results.scenario.title}", fontsize=10)
    return fig


def _robustness_map(results: Results, study: StudyResults, language: Language) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 8))
    freq = study.frequency
    assert freq is not None
    xy = study.model.site_xy
    _outlines(ax, results, xy[freq > 0])
    draws = len(study.of_kind("robustness"))
    every = freq >= 1.0 - 1e-12
    for i, colour in enumerate(FREQUENCY_COLOURS):
        lo, hi = FREQUENCY_BREAKS[i], FREQUENCY_BREAKS[i + 1]
        last = i == len(FREQUENCY_COLOURS) - 1
        mine = np.flatnonzero(every if last else (freq > lo) & (freq <= hi) & ~every)
        text = label(
            "study_frequency_all" if last else "study_frequency_class",
            language,
            lo=f"{100 * lo:.0f}",
            hi=f"{100 * hi:.0f}",
            n=len(mine),
        )
        ax.scatter(
            xy[mine, 0],
            xy[mine, 1],
            s=14 + 30 * i,
            color=colour,
            edgecolor="black",
            linewidth=0.3,
            label=text,
            zorder=3 + i,
        )
    ax.legend(loc="lower left", fontsize=8, title=label("study_frequency", language, n=draws))
    ax.set_title(f"{label('study_robustness', language)}: {results.scenario.title}", fontsize=10)
    return fig


def study_section(study: StudyResults, folder: Path, language: Language) -> str:
    """Return the report's study section (HTML, every text escaped), charts embedded."""
    esc = escape_html
    table = study.table()
    columns = [
        ("kind", None),
        ("plan", None),
        ("sites", 0),
        ("cost", 1),
        ("pct_people_covered", 2),
        ("pct_weight_covered", 2),
        ("gap_pct", 2),
        ("marginal_cost_per_person", 4),
        ("lowest_locality_pct_weight", 2),
        ("gini_people", 3),
        ("status", None),
    ]
    head = "".join(f"<th>{esc(label('study_col_' + c, language))}</th>" for c, _ in columns)
    body = []
    for row in table.to_dict("records"):
        cells = []
        for column, digits in columns:
            value = row[column]
            if digits is None:
                text = esc(label("study_kind_" + value, language) if column == "kind" else value)
            else:
                text = format_number(
                    float("nan") if pd.isna(value) else float(value), language, digits, hidden=""
                )
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    images = []
    for name in study_files(study):
        if name.endswith(".png"):
            data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
            alt = esc(label("study_kind_" + name[len("study_") : -len(".png")], language))
            images.append(f'<img alt="{alt}" src="data:image/png;base64,{data}">')
    notes = [
        label(
            "study_intro",
            language,
            n=len(table),
            kinds=", ".join(label("study_kind_" + k, language) for k in study.spec.kinds),
        )
    ]
    robust = study.of_kind("robustness")
    if robust and study.frequency is not None:
        r = study.spec.robustness
        assert r is not None
        notes.append(
            label(
                "study_robust_note",
                language,
                n=len(robust),
                share=f"{100 * r.demand_share:g}",
                radius=f"{r.radius_m[0]:g}–{r.radius_m[1]:g} m" if r.radius_m else "–",
                every=int((study.frequency >= 1 - 1e-12).sum()),
            )
        )
    if any(p.notes for p in study.plans):
        notes.append(label("study_kept_note", language))
    text = " ".join(esc(n) for n in notes)
    return (
        f"<h2>{esc(label('study_title', language))}</h2><p>{text}</p>"
        f'<table class="study"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
        f'</table><div class="charts">{"".join(images)}</div>'
    )
