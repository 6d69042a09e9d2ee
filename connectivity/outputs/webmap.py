"""The interactive map (``map.html``) for officials: folium, labels from the translation table.

Every text that comes from data is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.plugins import Search
from jinja2 import Template

from connectivity.outputs.classes import class_labels, coverage_top_pct, density_breaks
from connectivity.outputs.i18n import Language, coverage_notes, format_number, label, plan_title
from connectivity.outputs.palette import (
    COVERAGE_COLOURS,
    DENSITY_COLOURS,
    NEW_COLOUR,
    SITE_COLOUR,
    WIFI_COLOUR,
)
from connectivity.outputs.published import Published
from connectivity.outputs.published import published as publish
from connectivity.outputs.safety import escape_html
from connectivity.outputs.slider import SitesSlider, slider_steps
from connectivity.results import Results


def dissolve_by_class(
    cells: gpd.GeoDataFrame,
    mask: np.ndarray,
    values: np.ndarray,
    breaks: np.ndarray,
    ranks: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Dissolve the masked cells into one multipolygon per value class (for light web maps).

    With ``ranks`` (per cell: the rank of the site that newly covers it, 0 for none), one
    multipolygon per class and rank, so that the map's slider can show any first sites.
    """
    classes = np.digitize(values, breaks)
    keys = np.zeros(len(cells), dtype=np.int64) if ranks is None else np.asarray(ranks)
    geoms = cells.geometry.to_numpy()
    rows = []
    for k in range(len(breaks) + 1):
        in_class = mask & (classes == k)
        for rank in np.unique(keys[in_class]):
            pick = in_class & (keys == rank)
            geom = shapely.coverage_union_all(geoms[pick])
            rows.append({"cls": k, "rank": int(rank), "n_cells": int(pick.sum()), "geometry": geom})
    return gpd.GeoDataFrame(
        rows, columns=["cls", "rank", "n_cells", "geometry"], geometry="geometry", crs=cells.crs
    )


_esc = escape_html  # text from data lands in HTML inside JavaScript template literals


def _fmt(value: float, language: Language, digits: int = 0, hidden: str = "–") -> str:
    return _esc(format_number(value, language, digits, hidden=hidden))


def build_map(
    results: Results, *, language: Language = "es", published: Published | None = None
) -> folium.Map:
    """Build the folium map of a run.

    Layers: localities (coloured by the share of people covered after the plan), uncovered
    demand before and after the plan, cells newly covered, existing Wi-Fi zones and the ranked
    sites with popups; a legend, a title and a layer control.
    """
    cells = results.cells
    wgs = "EPSG:4326"
    if published is None:
        published = publish(results)
    hidden = f"< {published.min_population}"
    summary = published.summary.set_index("locality_code")
    areas = results.territory.areas.merge(
        summary[["population", "pct_covered_before", "pct_covered_after"]],
        left_on="area_code",
        right_index=True,
        how="left",
    ).to_crs(wgs)

    # open on where people live (1st–99th percentile of the cells), not on the whole territory
    size = results.scenario.demand.cell_size_m  # the squares' centres frame the view
    cx, cy = (
        np.quantile((cells["ix"].to_numpy() + 0.5) * size, [0.01, 0.99]),
        np.quantile((cells["iy"].to_numpy() + 0.5) * size, [0.01, 0.99]),
    )
    corners = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=cells.crs).to_crs(wgs)
    (x0, x1), (y0, y1) = corners.x.to_numpy(), corners.y.to_numpy()
    fmap = folium.Map(prefer_canvas=True)
    fmap.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
    _MetricScale().add_to(fmap)

    # localities: choropleth of % covered after
    pct = areas["pct_covered_after"].fillna(0.0).to_numpy()
    top = coverage_top_pct(pct)
    colours = cm.LinearColormap(COVERAGE_COLOURS, vmin=0.0, vmax=top)
    colours.caption = label("pct_after_legend", language)
    props = pd.DataFrame(
        {
            "name": [_esc(n) for n in areas["area_name"]],
            "pop": [_fmt(v, language, hidden=hidden) for v in areas["population"]],
            "before": [_fmt(v, language, 2, hidden) for v in areas["pct_covered_before"]],
            "after": [_fmt(v, language, 2, hidden) for v in areas["pct_covered_after"]],
            "pct": pct,
        }
    )
    loc_gdf = gpd.GeoDataFrame(props, geometry=areas.geometry.simplify(0.0002).to_numpy(), crs=wgs)
    localities_layer = folium.GeoJson(
        loc_gdf,
        name=label("localities", language),
        style_function=lambda f: {
            "fillColor": colours(f["properties"]["pct"]),
            "color": "#444444",
            "weight": 1.2,
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "pop", "before", "after"],
            aliases=[
                label("locality", language),
                label("population", language),
                label("pct_before", language),
                label("pct_after", language),
            ],
        ),
    ).add_to(fmap)
    colours.add_to(fmap)
    # find a locality by name: the search box zooms to it
    Search(
        layer=localities_layer,
        search_label="name",
        position="topleft",
        placeholder=label("search_locality", language),
        collapsed=False,
    ).add_to(fmap)

    # uncovered demand before / after, in four density classes
    values = cells["people_without_internet"].to_numpy()
    breaks = density_breaks(values)
    by_rank = cells["covered_by_rank"].to_numpy()
    uncovered_before = ~cells["covered_before"].to_numpy()
    # "after": the cells uncovered before, each with the rank of the site that covers it (0:
    # none); the slider shows those of rank 0 or above the sites it shows
    layers: dict[str, folium.GeoJson] = {}
    for key, ranks, show in (
        ("uncovered_before", None, False),
        ("uncovered_after", by_rank, True),
    ):
        layer = dissolve_by_class(cells, uncovered_before, values, breaks, ranks).to_crs(wgs)
        layers[key] = folium.GeoJson(
            layer,
            name=label(key, language),
            show=show,
            style_function=lambda f: {
                "fillColor": DENSITY_COLOURS[f["properties"]["cls"]],
                "color": "none",
                "weight": 0,
                "fillOpacity": 0.7 if f["properties"]["rank"] == 0 else 0.0,
            },
        )
        layers[key].add_to(fmap)

    if (by_rank > 0).any():  # one shape per site: the cells it newly covers
        ranked = by_rank[by_rank > 0]
        geoms = cells.geometry.to_numpy()[by_rank > 0]
        newly = gpd.GeoDataFrame(
            {"rank": np.unique(ranked)},
            geometry=[shapely.coverage_union_all(geoms[ranked == r]) for r in np.unique(ranked)],
            crs=cells.crs,
        ).to_crs(wgs)
        layers["newly_covered"] = folium.GeoJson(
            newly,
            name=label("newly_covered", language),
            style_function=lambda f: {
                "fillColor": NEW_COLOUR,
                "color": NEW_COLOUR,
                "weight": 1,
                "fillOpacity": 0.6,
            },
        )
        layers["newly_covered"].add_to(fmap)

    wifi_group = folium.FeatureGroup(name=label("existing_wifi", language))
    for name, pt in zip(
        results.existing_wifi["name"], results.existing_wifi.to_crs(wgs).geometry, strict=True
    ):
        folium.CircleMarker(
            [pt.y, pt.x],
            radius=4,
            color=WIFI_COLOUR,
            fill=True,
            fill_opacity=0.9,
            weight=1,
            tooltip=folium.Tooltip(_esc(name) if name else label("existing_wifi", language)),
        ).add_to(wifi_group)
    wifi_group.add_to(fmap)

    sites_group = folium.FeatureGroup(name=label("selected_sites", language))
    sel = published.layers["selected_sites"].to_crs(wgs)
    n = max(len(sel), 1)
    for row, pt in zip(sel.itertuples(index=False), sel.geometry, strict=True):
        popup = (
            f"<b>{_esc(label('rank', language))} {int(row.rank)}</b><br>"
            f"{_esc(label('name', language))}: {_esc(row.name)}<br>"
            f"{_esc(label('type', language))}: {_esc(row.type)}<br>"
            f"{_esc(label('locality', language))}: {_esc(row.locality)}<br>"
            f"{_esc(label('new_people', language))}: "
            f"{_fmt(row.new_people_covered, language, hidden=hidden)}<br>"
            f"{_esc(label('gain', language))}: "
            f"{_fmt(row.new_priority_weight, language, 1, hidden)}"
            + _money_lines(row, results, language, hidden)
        )
        size = 9 - 5 * (int(row.rank) - 1) / n
        folium.CircleMarker(
            [pt.y, pt.x],
            radius=size,
            color="#ffffff",
            weight=1.5,
            fill=True,
            fill_color=SITE_COLOUR,
            fill_opacity=0.95,
            popup=folium.Popup(popup, max_width=320),
            tooltip=folium.Tooltip(f"{int(row.rank)}. {_esc(row.name)}"),
            class_name=f"site-marker site-rank-{int(row.rank)}",
        ).add_to(sites_group)
    sites_group.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    _KeepOnTop([wifi_group, sites_group]).add_to(fmap)
    if len(sel):
        SitesSlider(
            sites_group,
            layers["uncovered_after"],
            layers.get("newly_covered"),
            slider_steps(published, language),
            language,
        ).add_to(fmap)
    root: Any = fmap.get_root()
    root.html.add_child(Element(_title_html(results, language)))
    root.html.add_child(Element(_legend_html(results, breaks, language)))
    return fmap


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, position: 'bottomright'})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


class _KeepOnTop(MacroElement):
    """Keep point layers above the polygons when a polygon layer is switched back on.

    On a canvas, the layer added last is drawn on top and takes the clicks; without this,
    switching the localities off and on again hides the sites and their popups under them.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.on('overlayadd', function () { "
        "{% for g in this.groups %}"
        "if ({{ this._parent.get_name() }}.hasLayer({{ g }})) { {{ g }}.bringToFront(); }"
        "{% endfor %}});"
        "{% endmacro %}"
    )

    def __init__(self, groups: list[folium.FeatureGroup]) -> None:
        super().__init__()
        self._name = "KeepOnTop"
        self.groups = [g.get_name() for g in groups]


def _title_html(results: Results, language: Language) -> str:
    s = results.scenario
    date = dt.date.today().isoformat()
    return (
        '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;'
        "padding:6px 12px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
        'font:14px sans-serif"><b>'
        f"{_esc(plan_title(results, language))}: {_esc(s.title)}</b><br>"
        f'<span style="font-size:12px">{_esc(s.territory.name)} · '
        f"{_esc(label('generated', language))} {date}</span></div>"
    )


def _legend_html(results: Results, breaks: np.ndarray, language: Language) -> str:
    s = results.scenario
    size = f"{s.demand.cell_size_m:g}"
    ranges = [_esc(text) for text in class_labels(breaks)]
    swatches = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{c};'
        f'margin-right:6px;vertical-align:middle"></span>{r}</div>'
        for c, r in zip(DENSITY_COLOURS, ranges, strict=True)
    )

    def dot(colour: str, text: str) -> str:
        return (
            f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:50%;'
            f'background:{colour};margin-right:6px;vertical-align:middle"></span>{text}</div>'
        )

    return (
        '<div style="position:fixed;bottom:40px;left:10px;z-index:9999;background:white;'
        "padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
        'font:12px sans-serif;max-width:260px">'
        f"<b>{_esc(label('density_legend', language, size=size))}</b>{swatches}"
        f'<div style="margin-top:6px"></div>'
        f"{dot(NEW_COLOUR, _esc(label('newly_covered', language)))}"
        f"{dot(WIFI_COLOUR, _esc(label('existing_wifi', language)))}"
        f"{dot(SITE_COLOUR, _esc(label('selected_sites', language)))}"
        f'<div style="margin-top:6px;color:#555">'
        f"{'<br>'.join(_esc(n) for n in coverage_notes(results, language))}</div>"
        "</div>"
    )


def _money_lines(row: Any, results: Results, language: Language, hidden: str) -> str:
    """Return a site's costs, backhaul and capacity use for its popup (empty without them)."""
    lines = []
    money = results.scenario.money
    if money is not None:
        currency = _esc(money.currency)
        lines += [
            f"{_esc(label('capex', language))}: {_fmt(row.capex, language)} {currency}",
            f"{_esc(label('opex', language))}: {_fmt(row.opex_per_year, language)} {currency}",
            f"{_esc(label('npc', language))}: {_fmt(row.npc, language)} {currency}",
            f"{_esc(label('backhaul', language))}: {_esc(row.backhaul)}",
        ]
    if results.capacity is not None:
        lines.append(
            f"{_esc(label('served_of_capacity', language))}: "
            f"{_fmt(row.served_users, language, 1, hidden)} / "
            f"{_fmt(row.capacity_users, language)}"
        )
    return "".join(f"<br>{line}" for line in lines)
