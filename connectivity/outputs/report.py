"""The one-page report for officials (``report.html``): self-contained, in the scenario's language.

Key figures, the table by locality, two charts (coverage before and after by locality; the
Lorenz curve of coverage across localities with its Gini coefficient), the overview map, the
method and the data sources. Images are embedded as base64 PNG, so the file opens without a
network; every text from data is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from connectivity.evaluation import gini
from connectivity.outputs.i18n import Language, coverage_notes, format_number, label
from connectivity.outputs.palette import BEFORE_COLOUR, SITE_COLOUR
from connectivity.outputs.safety import escape_html, plain_text
from connectivity.results import Results

_t = label  # every text comes from the one translation table in i18n


_esc = escape_html


_num = format_number


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _coverage_chart(summary: pd.DataFrame, language: Language) -> str:
    table = summary.dropna(subset=["pct_covered_after"]).sort_values("pct_covered_after")
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(table) + 1.2))
    y = np.arange(len(table))
    ax.barh(
        y - 0.2,
        table["pct_covered_before"],
        height=0.4,
        color=BEFORE_COLOUR,
        label=_t("before", language),
    )
    ax.barh(
        y + 0.2,
        table["pct_covered_after"],
        height=0.4,
        color=SITE_COLOUR,
        label=_t("after", language),
    )
    ax.set_yticks(y, table["locality"].astype(str).str.title())
    ax.set_xlabel("%")
    ax.legend(loc="lower right")
    ax.set_title(_t("chart_coverage", language), fontsize=10)
    return _png(fig)


def _lorenz_chart(summary: pd.DataFrame, language: Language) -> tuple[str, float, float]:
    table = summary.dropna(subset=["population"])
    pop = table["population"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, label=_t("equality", language))
    ginis = []
    for col, colour, key in (
        ("covered_before", BEFORE_COLOUR, "before"),
        ("covered_after", SITE_COLOUR, "after"),
    ):
        rate = table[col].to_numpy(float) / np.maximum(pop, 1)
        order = np.argsort(rate, kind="stable")
        x = np.concatenate([[0], np.cumsum(pop[order]) / pop.sum()])
        covered = table[col].to_numpy(float)[order]
        y = np.concatenate([[0], np.cumsum(covered) / max(covered.sum(), 1e-12)])
        g = gini(rate, pop)
        ginis.append(g)
        ax.plot(
            x,
            y,
            color=colour,
            lw=2,
            label=f"{_t(key, language)} ({_t('gini', language)} {_num(g, language, 2)})",
        )
    ax.set_xlabel(_t("share_localities", language))
    ax.set_ylabel(_t("share_covered", language))
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(_t("chart_lorenz", language), fontsize=9)
    return _png(fig), ginis[0], ginis[1]


@plain_text()
def write_report(
    results: Results,
    path: Path,
    *,
    summary: pd.DataFrame,
    map_png: Path,
    language: Language = "es",
    extra_html: str = "",
) -> None:
    """Write ``report.html`` (self-contained) from a run and its published summary table.

    ``extra_html`` (already escaped, e.g. a study's section) goes after the map.
    """
    s = results.scenario
    figures = results.summary
    coverage_png = _coverage_chart(summary, language)
    lorenz_png, gini_before, gini_after = _lorenz_chart(summary, language)
    map_b64 = base64.b64encode(map_png.read_bytes()).decode("ascii")
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{cell}</td>"
            for cell in (
                _esc(r["locality_code"]),
                _esc(r["locality"]),
                _num(r["population"], language),
                _num(r["people_without_internet"], language),
                _num(r["pct_covered_before"], language, 2),
                _num(r["pct_covered_after"], language, 2),
                _num(r["sites_selected"], language),
            )
        )
        + "</tr>"
        for r in summary.to_dict("records")
    )
    headers = "".join(
        f"<th>{_esc(h)}</th>"
        for h in (
            "#",
            label("locality", language),
            label("population", language),
            _t("without_internet", language),
            label("pct_before", language),
            label("pct_after", language),
            _t("sites", language),
        )
    )
    pct_before = figures["pct_people_covered_before"]
    pct_after = figures["pct_people_covered_after"]
    key = [
        (_t("people", language), _num(figures["population"], language)),
        (_t("without_internet", language), _num(figures["people_without_internet"], language)),
        (
            _t("covered_before", language),
            f"{_num(figures['people_covered_before'], language)} "
            f"({_num(pct_before, language, 2)} %)",
        ),
        (
            _t("covered_after", language),
            f"{_num(figures['people_covered_after'], language)} ({_num(pct_after, language, 2)} %)",
        ),
        (_t("sites", language), _num(figures["sites_selected"], language)),
        (_t("cost", language), _num(figures["total_cost"], language, 1)),
    ]
    cards = "".join(
        f'<div class="card"><div class="v">{v}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in key
    )
    groups = ", ".join(s.demand.groups) or "–"
    if s.demand.rural_multiplier:
        groups += ", rural"
    files = ", ".join(sorted({p.name for p in results.input_files}))
    method = _t(
        "method_text",
        language,
        groups=groups,
        size=f"{s.demand.cell_size_m:g}",
        spacing=f"{results.points.spacing_m:g}",
        radius=f"{s.candidates.radius_m:g}",
        method=s.method.algorithm,
        model=s.method.resolved_model.replace("_", " "),
        privacy=s.output.min_population,
    )
    notes = coverage_notes(results, language)
    check = results.discretisation
    if "relative_change_pct" in check:
        notes.append(
            _t(
                "discretisation_note",
                language,
                check=f"{check['check_spacing_m']:g}",
                spacing=f"{check['analysis_spacing_m']:g}",
                change=_num(check["relative_change_pct"], language, 2),
            )
        )
    method += " " + ". ".join(notes) + "."
    title = f"{_t('report_title', language)}: {s.title}"
    page = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; border-bottom: 1px solid #ddd; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ background: #f5f3fa; border-radius: 6px; padding: 10px 14px; min-width: 180px; }}
.card .v {{ font-size: 1.4em; font-weight: bold; color: #4a2a7a; }}
.card .k {{ font-size: .85em; color: #555; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; }}
th, td {{ border-bottom: 1px solid #eee; padding: 4px 6px; text-align: right; }}
th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
img {{ max-width: 100%; }} .charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}
</style></head><body>
<h1>{_esc(title)}</h1>
<p>{_esc(s.territory.name)} · {_esc(label("generated", language))} {dt.date.today().isoformat()}
 · Gini {_num(gini_before, language, 2)} → {_num(gini_after, language, 2)}</p>
<h2>{_esc(_t("key_figures", language))}</h2><div class="cards">{cards}</div>
<h2>{_esc(_t("by_locality", language))}</h2>
<table><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table>
<div class="charts">
<img alt="{_esc(_t("chart_coverage", language))}" src="data:image/png;base64,{coverage_png}">
<img alt="{_esc(_t("chart_lorenz", language))}" src="data:image/png;base64,{lorenz_png}">
</div>
<h2>{_esc(_t("map", language))}</h2>
<img alt="{_esc(_t("map", language))}" src="data:image/png;base64,{map_b64}">
{_money_section(results, summary, language)}
{extra_html}
<h2>{_esc(_t("method", language))}</h2><p>{_esc(method)}</p>
<h2>{_esc(_t("sources", language))}</h2><p>{_esc(_t("sources_text", language, files=files))}</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def _money_section(results: Results, summary: pd.DataFrame, language: Language) -> str:
    """Return the plan in money and capacity: figures, a chart by locality, sources, assumptions."""
    money = results.scenario.money
    if money is None:
        return ""
    sel = results.selected
    total = {
        c: float(sel[c].sum()) if len(sel) else 0.0
        for c in ("capex", "opex_per_year", "tco", "npc")
    }
    new = float(results.summary["people_covered_after"] - results.summary["people_covered_before"])
    cur = money.currency
    cards = [
        (_t("capex", language), f"{_num(total['capex'], language)} {cur}"),
        (_t("opex", language), f"{_num(total['opex_per_year'], language)} {cur}"),
        (_t("tco", language), f"{_num(total['tco'], language)} {cur}"),
        (_t("npc", language), f"{_num(total['npc'], language)} {cur}"),
        (
            _t("npc_per_person", language),
            f"{_num(total['npc'] / new if new > 0 else float('nan'), language)} {cur}",
        ),
    ]
    html = "".join(
        f'<div class="card"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in cards
    )
    text = _t(
        "money_text",
        language,
        currency=cur,
        year=money.price_year or "–",
        years=money.horizon_years,
        rate=_num(100 * money.discount_rate, language, 1),
        basis=money.budget_on,
        sources="; ".join(money.sources) or "–",
        assumptions="; ".join(money.assumptions) or "–",
    )
    cap = results.capacity
    if cap is not None:
        unserved = summary["people_unserved_in_reach"].sum(min_count=1)
        text += " " + _t(
            "capacity_text",
            language,
            take_up=_num(100 * cap.take_up, language, 1),
            concurrency=_num(100 * cap.concurrency, language, 1),
            served=_num(float(cap.served_users.sum()), language),
            capacity=_num(
                float(cap.capacity_users[np.isfinite(cap.capacity_users)].sum()), language
            ),
            unserved=_num(float(unserved), language),
        )
    chart = _money_chart(summary, language)
    return (
        f'<h2>{_esc(_t("money_title", language))}</h2><div class="cards">{html}</div>'
        f"<p>{_esc(text)}</p>"
        f'<img alt="{_esc(_t("chart_money", language))}" src="data:image/png;base64,{chart}">'
    )


def _money_chart(summary: pd.DataFrame, language: Language) -> str:
    table = summary[summary["sites_selected"] > 0].sort_values("capex")
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(table) + 1.6), sharey=True)
    y = np.arange(len(table))
    names = table["locality"].astype(str).str.title()
    axes[0].barh(y, table["capex"] / 1e6, color=SITE_COLOUR)
    axes[0].set_yticks(y, names)
    axes[0].set_xlabel(
        f"{_t('capex', language)} (millones)"
        if language == "es"
        else f"{_t('capex', language)} (millions)"
    )
    if "served_users" in table:
        use = (
            100 * table["served_users"] / table["capacity_users"].where(table["capacity_users"] > 0)
        )
        axes[1].barh(y, use.fillna(0), color=BEFORE_COLOUR)
        axes[1].set_xlabel("% " + _t("served_of_capacity", language))
    else:
        axes[1].set_axis_off()
    fig.suptitle(_t("chart_money", language), fontsize=10)
    return _png(fig)
