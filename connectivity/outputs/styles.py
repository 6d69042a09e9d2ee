"""QGIS styles stored in the GeoPackage (``layer_styles`` table), so layers open styled.

QGIS looks for a ``layer_styles`` table in a GeoPackage and applies the row marked
``useAsDefault`` when a layer is added. Each style is a QML document that says what the web
map says, in its classes and colours (:mod:`connectivity.outputs.classes`): demand cells
graduated by people without home internet, localities by the share covered after the plan,
gaps by people, chosen sites labelled by rank, Wi-Fi zones and candidates as on the map.
Legend texts are in the output language. The documents are built with ElementTree, so every
text from data or translation is escaped for XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from connectivity.outputs.classes import MapClasses, class_labels, coverage_colour
from connectivity.outputs.i18n import Language, label
from connectivity.outputs.palette import (
    BOUNDARY_COLOUR,
    CANDIDATE_COLOUR,
    DENSITY_COLOURS,
    FREQUENCY_BREAKS,
    FREQUENCY_COLOURS,
    SITE_COLOUR,
    WIFI_COLOUR,
    YEAR_COLOURS,
    rgba,
)

QGIS_VERSION = "3.22"
"""The oldest QGIS the styles are checked with (Debian 12's, in the test suite)."""
COVERAGE_CLASSES = 5
"""Equal classes of the localities' share covered, from 0 to the highest share."""
NO_COLOUR = "0,0,0,0"


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    options = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(options, "Option", name=name, type="QString", value=value)


def _fill(name: str, colour: str, outline: str, width: float, alpha: float) -> ET.Element:
    symbol = ET.Element(
        "symbol", type="fill", name=name, alpha=f"{alpha:g}", clip_to_extent="1", force_rhr="0"
    )
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0"})
    _options(
        layer,
        {
            "color": colour,
            "outline_color": outline,
            "outline_width": f"{width:g}",
            "outline_width_unit": "MM",
            "outline_style": "solid" if width > 0 else "no",
            "style": "solid",
        },
    )
    return symbol


def _marker(name: str, colour: str, size: float, shape: str = "circle") -> ET.Element:
    symbol = ET.Element(
        "symbol", type="marker", name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker", "enabled": "1", "pass": "0"})
    _options(
        layer,
        {
            "name": shape,
            "color": colour,
            "outline_color": "255,255,255,255",
            "outline_width": "0.3",
            "size": f"{size:g}",
            "size_unit": "MM",
        },
    )
    return symbol


def _document(renderer: ET.Element, labeling: ET.Element | None = None) -> str:
    categories = "Symbology|Labeling" if labeling is not None else "Symbology"
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories=categories,
        labelsEnabled="1" if labeling is not None else "0",
    )
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>{body}"


def _single(symbol: ET.Element) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0", forceraster="0"
    )
    ET.SubElement(renderer, "symbols").append(symbol)
    return renderer


def _graduated(
    column: str, edges: list[float], labels: list[str], symbols: list[ET.Element]
) -> ET.Element:
    """Return a graduated renderer on ``column``: class ``i`` is ``edges[i]`` to ``edges[i+1]``."""
    renderer = ET.Element(
        "renderer-v2",
        type="graduatedSymbol",
        attr=column,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    ranges = ET.SubElement(renderer, "ranges")
    for i, text in enumerate(labels):
        ET.SubElement(
            ranges,
            "range",
            lower=repr(float(edges[i])),
            upper=repr(float(edges[i + 1])),
            symbol=str(i),
            label=text,
            render="true",
        )
    holder = ET.SubElement(renderer, "symbols")
    for symbol in symbols:
        holder.append(symbol)
    return renderer


def _labels(column: str, size_pt: float) -> ET.Element:
    """Label each feature with ``column``: dark bold text in a white halo, beside the point."""
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text = ET.SubElement(
        settings,
        "text-style",
        fieldName=column,
        isExpression="0",
        fontSize=f"{size_pt:g}",
        fontSizeUnit="Point",
        fontWeight="75",
        textColor="0,0,0,255",
        textOpacity="1",
    )
    ET.SubElement(
        text,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.7",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="1",
    )
    ET.SubElement(settings, "placement", placement="6", dist="0.6", distUnits="MM")
    ET.SubElement(settings, "rendering", drawLabels="1", obstacle="1", displayAll="1")
    return labeling


def _class_edges(breaks: np.ndarray) -> list[float]:
    """Edges of the four classes split by ``breaks``: from 0 to a value no count reaches."""
    return [0.0, *(float(b) for b in breaks), 1e15]


def _density(classes: MapClasses) -> str:
    breaks = classes.density_breaks
    symbols = [_fill(str(i), rgba(c), NO_COLOUR, 0.0, 0.7) for i, c in enumerate(DENSITY_COLOURS)]
    renderer = _graduated(
        "people_without_internet", _class_edges(breaks), class_labels(breaks), symbols
    )
    return _document(renderer)


def _coverage(classes: MapClasses) -> str:
    top = classes.coverage_top_pct
    edges = list(np.linspace(0.0, top, COVERAGE_CLASSES + 1))
    edges[-1] = max(top, 100.0)  # every share up to 100 % falls in a class
    shown = np.linspace(0.0, top, COVERAGE_CLASSES + 1)
    labels = [f"{shown[i]:.1f}–{shown[i + 1]:.1f} %" for i in range(COVERAGE_CLASSES)]
    labels[-1] = f"≥ {shown[-2]:.1f} %"
    symbols = [
        _fill(str(i), rgba(coverage_colour((shown[i] + shown[i + 1]) / 2, top), 0.35),
              rgba(BOUNDARY_COLOUR), 0.4, 1.0)
        for i in range(COVERAGE_CLASSES)
    ]  # fmt: skip
    return _document(_graduated("pct_covered_after", edges, labels, symbols))


def _gaps(classes: MapClasses) -> str:
    breaks = classes.gap_breaks
    symbols = [
        _fill(str(i), rgba(c, 0.6), "120,0,0,255", 0.2, 1.0) for i, c in enumerate(DENSITY_COLOURS)
    ]
    renderer = _graduated(
        "people_without_internet", _class_edges(breaks), class_labels(breaks), symbols
    )
    return _document(renderer)


def layer_styles(classes: MapClasses, language: Language) -> dict[str, tuple[str, str]]:
    """Return each layer's style: its legend title and its QML document."""
    return {
        "localities": (label("pct_after_legend", language), _coverage(classes)),
        "demand_cells": (
            label("density_legend", language, size=f"{classes.cell_size_m:g}"),
            _density(classes),
        ),
        "gaps": (label("gaps", language), _gaps(classes)),
        "existing_wifi": (
            label("existing_wifi", language),
            _document(_single(_marker("0", rgba(WIFI_COLOUR), 2.4))),
        ),
        "candidates": (
            label("candidates", language),
            _document(_single(_marker("0", rgba(CANDIDATE_COLOUR), 1.2))),
        ),
        "selected_sites": (
            label("selected_sites", language),
            _document(
                _single(_marker("0", rgba(SITE_COLOUR), 3.2, "triangle")), _labels("rank", 8)
            ),
        ),
    }


LAYER_NAMES: tuple[str, ...] = (
    "localities",
    "demand_cells",
    "gaps",
    "existing_wifi",
    "candidates",
    "selected_sites",
)
"""The layers every run writes to its GeoPackage (besides ``layer_styles``)."""
STUDY_LAYER = "study_sites"
"""The layer a study adds (``connectivity study``)."""


def study_style(years: list[str], by_frequency: bool, language: Language) -> tuple[str, str]:
    """Return the ``study_sites`` style: by selection frequency, else by the opening year.

    Sites are labelled with the year they open (when the study has phases).
    """
    labeling = _labels("phase", 7) if years else None
    if by_frequency:
        edges = [-0.5, *FREQUENCY_BREAKS[1:4], 0.999999, 1.5]
        names = ["0–25 %", "25–50 %", "50–75 %", "75–100 %", "100 %"]
        symbols = [_marker(str(i), rgba(c), 1.6 + 0.6 * i) for i, c in enumerate(FREQUENCY_COLOURS)]
        renderer = _graduated("selection_frequency", edges, names, symbols)
        return label("study_robustness", language), _document(renderer, labeling)
    if years:
        edges = [0.5 + i for i in range(len(years) + 1)]
        symbols = [
            _marker(str(i), rgba(YEAR_COLOURS[i % len(YEAR_COLOURS)]), 2.4)
            for i in range(len(years))
        ]
        renderer = _graduated("phase_order", edges, list(years), symbols)
        return label("study_phases", language), _document(renderer, labeling)
    return label("study_title", language), _document(_single(_marker("0", rgba(SITE_COLOUR), 2.4)))


def layer_styles_table(
    layers: list[str],
    classes: MapClasses,
    language: Language,
    geometry_column: str = "geom",
    extra: dict[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Return the rows of the ``layer_styles`` table for the given layers.

    ``extra``: styles of further layers (a study's), by layer name.
    """
    styles = {**layer_styles(classes, language), **(extra or {})}
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": name,
            "f_geometry_column": geometry_column,
            "styleName": name,
            "styleQML": styles[name][1],
            "styleSLD": "",
            "useAsDefault": True,
            "description": styles[name][0],
            "owner": "",
            "ui": "",
            "update_time": "2000-01-01T00:00:00Z",  # fixed: reruns give identical files
        }
        for name in layers
        if name in styles
    ]
    return pd.DataFrame(rows)
