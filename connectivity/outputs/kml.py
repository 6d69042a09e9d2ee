"""The plan for Google Earth: ``plan.kmz`` with the chosen sites, the gaps and the localities.

Three folders, styled in the web map's colours and labelled in the output language: the
chosen sites as placemarks named by rank, each with a balloon of its figures; the gaps
graduated by people without home internet; the localities shaded by the share covered after
the plan. Figures are the published ones (hidden counts stay hidden). The document is built
with ElementTree (XML escaping); balloon text is HTML-escaped first, since Google Earth shows
descriptions as HTML, and characters XML forbids become spaces.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import shapely

from connectivity.outputs.classes import MapClasses, class_labels, coverage_colour
from connectivity.outputs.i18n import Language, format_number, label, plan_title
from connectivity.outputs.palette import BOUNDARY_COLOUR, DENSITY_COLOURS, SITE_COLOUR
from connectivity.outputs.published import Published
from connectivity.outputs.safety import escape_html, xml_text
from connectivity.results import Results

KML_NS = "http://www.opengis.net/kml/2.2"
SIMPLIFY_DEG = 0.00003
"""Polygon outlines are simplified to about 3 m (in degrees), which keeps the file light."""
COVERAGE_SHADES = 5


def kml_colour(colour: str, alpha: float = 1.0) -> str:
    """Return a ``#rrggbb`` colour as KML's ``aabbggrr``.

    Examples
    --------
    >>> kml_colour("#6a3d9a", 0.5)
    '809a3d6a'
    """
    value = colour.lstrip("#")
    r, g, b = value[0:2], value[2:4], value[4:6]
    return f"{round(255 * alpha):02x}{b}{g}{r}"


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = xml_text(value)
    return element


def _style(
    document: ET.Element,
    style_id: str,
    *,
    icon: str | None = None,
    line: str | None = None,
    fill: str | None = None,
    label_scale: float = 0.0,
) -> None:
    style = ET.SubElement(document, "Style", id=style_id)
    if icon is not None:
        icon_style = ET.SubElement(style, "IconStyle")
        _text(icon_style, "color", icon)
        _text(icon_style, "scale", "1.0")
    label_style = ET.SubElement(style, "LabelStyle")
    _text(label_style, "scale", f"{label_scale:g}")
    if line is not None:
        line_style = ET.SubElement(style, "LineStyle")
        _text(line_style, "color", line)
        _text(line_style, "width", "1.5")
    if fill is not None:
        poly = ET.SubElement(style, "PolyStyle")
        _text(poly, "color", fill)


def _ring(parent: ET.Element, tag: str, coords: np.ndarray) -> None:
    boundary = ET.SubElement(parent, tag)
    ring = ET.SubElement(boundary, "LinearRing")
    _text(ring, "coordinates", " ".join(f"{x:.6f},{y:.6f}" for x, y in coords[:, :2]))


def _polygon(parent: ET.Element, polygon: shapely.Polygon) -> None:
    element = ET.SubElement(parent, "Polygon")
    _ring(element, "outerBoundaryIs", shapely.get_coordinates(polygon.exterior))
    for interior in polygon.interiors:
        _ring(element, "innerBoundaryIs", shapely.get_coordinates(interior))


def _geometry(parent: ET.Element, geometry: Any) -> None:
    if geometry.geom_type == "Point":
        point = ET.SubElement(parent, "Point")
        _text(point, "coordinates", f"{geometry.x:.6f},{geometry.y:.6f}")
        return
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and not p.is_empty]
    if len(parts) == 1:
        _polygon(parent, parts[0])
        return
    multi = ET.SubElement(parent, "MultiGeometry")
    for part in parts:
        _polygon(multi, part)


def _balloon(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left'>{escape_html(k)}</th><td>{escape_html(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _placemark(
    folder: ET.Element, name: str, style: str, rows: list[tuple[str, str]], geometry: Any
) -> None:
    mark = ET.SubElement(folder, "Placemark")
    _text(mark, "name", name)
    _text(mark, "styleUrl", f"#{style}")
    _text(mark, "description", _balloon(rows))
    _geometry(mark, geometry)


def _wgs84(frame: gpd.GeoDataFrame, simplify: bool) -> gpd.GeoDataFrame:
    out = frame.to_crs("EPSG:4326")
    if simplify and len(out):
        out = out.set_geometry(out.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True))
    return out


def build_kml(
    results: Results, published: Published, classes: MapClasses, language: Language
) -> ET.Element:
    """Return the KML document of a run's plan (sites, gaps, localities)."""
    hidden = f"< {published.min_population}"

    def number(value: float, digits: int = 0) -> str:
        return format_number(value, language, digits, hidden=hidden)

    root = ET.Element("kml", xmlns=KML_NS)
    document = ET.SubElement(root, "Document")
    _text(document, "name", f"{plan_title(results, language)}: {results.scenario.title}")
    _text(document, "description", results.scenario.territory.name)
    _style(document, "site", icon=kml_colour(SITE_COLOUR), label_scale=0.9)
    density = class_labels(classes.gap_breaks)
    for i, colour in enumerate(DENSITY_COLOURS):
        _style(document, f"gap-{i}", line=kml_colour("#780000"), fill=kml_colour(colour, 0.6))
    top = classes.coverage_top_pct
    edges = np.linspace(0.0, top, COVERAGE_SHADES + 1)
    for i in range(COVERAGE_SHADES):
        shade = coverage_colour((edges[i] + edges[i + 1]) / 2, top)
        _style(
            document,
            f"locality-{i}",
            line=kml_colour(BOUNDARY_COLOUR),
            fill=kml_colour(shade, 0.45),
        )

    sites = ET.SubElement(document, "Folder")
    _text(sites, "name", label("selected_sites", language))
    for row in _wgs84(published.layers["selected_sites"], simplify=False).itertuples():
        _placemark(
            sites,
            f"{int(row.rank)}. {row.name}",
            "site",
            [
                (label("rank", language), str(int(row.rank))),
                (label("name", language), str(row.name)),
                (label("type", language), str(row.type)),
                (label("locality", language), str(row.locality)),
                (label("new_people", language), number(row.new_people_covered)),
                (label("gain", language), number(row.new_priority_weight, 1)),
            ],
            row.geometry,
        )

    gaps = ET.SubElement(document, "Folder")
    _text(gaps, "name", label("gaps", language))
    gap_layer = _wgs84(published.layers["gaps"], simplify=True)
    for row in gap_layer.itertuples():
        people = float(row.people_without_internet)
        cls = int(np.digitize(people, classes.gap_breaks)) if np.isfinite(people) else 0
        _placemark(
            gaps,
            f"{row.gap_id} · {row.area_name}",
            f"gap-{cls}",
            [
                (label("locality", language), str(row.area_name)),
                (label("without_internet", language), number(row.people_without_internet)),
                (label("population", language), number(row.population)),
                ("km²", number(row.area_km2, 2)),
                (label("legend_class", language), density[cls]),
            ],
            row.geometry,
        )

    localities = ET.SubElement(document, "Folder")
    _text(localities, "name", label("localities", language))
    for row in _wgs84(published.layers["localities"], simplify=True).itertuples():
        pct = float(row.pct_covered_after)
        step = int(np.digitize(pct, edges[1:-1])) if np.isfinite(pct) else 0
        _placemark(
            localities,
            str(row.area_name),
            f"locality-{step}",
            [
                (label("locality", language), str(row.area_name)),
                (label("population", language), number(row.population)),
                (label("pct_before", language), number(row.pct_covered_before, 2)),
                (label("pct_after", language), number(row.pct_covered_after, 2)),
            ],
            row.geometry,
        )
    return root


def write_kmz(results: Results, published: Published, classes: MapClasses, path: Path) -> None:
    """Write ``plan.kmz``: the KML document zipped as ``doc.kml``, as Google Earth expects."""
    language = results.scenario.output.language
    tree = build_kml(results, published, classes, language)
    body = ET.tostring(tree, encoding="utf-8", xml_declaration=True)
    info = zipfile.ZipInfo("doc.kml", date_time=(2000, 1, 1, 0, 0, 0))  # reruns: same bytes
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, body)
