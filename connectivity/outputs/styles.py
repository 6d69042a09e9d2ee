"""QGIS styles stored in the GeoPackage (``layer_styles`` table), so layers open styled.

QGIS looks for a ``layer_styles`` table in a GeoPackage and applies the row marked
``useAsDefault`` when a layer is added. Each style here is a small QML document: one simple
symbol per layer, in the colours of the web map.
"""

from __future__ import annotations

import pandas as pd

from connectivity.outputs.palette import (
    BOUNDARY_COLOUR,
    CANDIDATE_COLOUR,
    DENSITY_COLOURS,
    SITE_COLOUR,
    WIFI_COLOUR,
    rgba,
)

_HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def _fill(rgba: str, outline: str, width: float, alpha: float) -> str:
    return (
        f'<symbol type="fill" name="0" alpha="{alpha}" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{rgba}"/>'
        f'<Option name="outline_color" type="QString" value="{outline}"/>'
        f'<Option name="outline_width" type="QString" value="{width}"/>'
        '<Option name="style" type="QString" value="solid"/>'
        "</Option></layer></symbol>"
    )


def _marker(rgba: str, size: float) -> str:
    return (
        '<symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">'
        '<Option name="name" type="QString" value="circle"/>'
        f'<Option name="color" type="QString" value="{rgba}"/>'
        '<Option name="outline_color" type="QString" value="255,255,255,255"/>'
        f'<Option name="size" type="QString" value="{size}"/>'
        "</Option></layer></symbol>"
    )


def _qml(symbol: str) -> str:
    return (
        f'{_HEADER}<qgis version="3.28" styleCategories="Symbology">'
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol}</symbols></renderer-v2></qgis>"
    )


STYLES: dict[str, tuple[str, str]] = {
    "localities": ("polygon", _qml(_fill("0,0,0,0", rgba(BOUNDARY_COLOUR), 0.4, 1.0))),
    "demand_cells": ("polygon", _qml(_fill(rgba(DENSITY_COLOURS[1]), "0,0,0,0", 0.0, 0.6))),
    "gaps": ("polygon", _qml(_fill(rgba(DENSITY_COLOURS[3]), "120,0,0,255", 0.2, 0.5))),
    "existing_wifi": ("point", _qml(_marker(rgba(WIFI_COLOUR), 2.4))),
    "candidates": ("point", _qml(_marker(rgba(CANDIDATE_COLOUR), 1.2))),
    "selected_sites": ("point", _qml(_marker(rgba(SITE_COLOUR), 3.2))),
}


LAYER_NAMES: tuple[str, ...] = tuple(STYLES)
"""The layers every run writes to its GeoPackage (besides ``layer_styles``)."""


def layer_styles_table(layers: list[str], geometry_column: str = "geom") -> pd.DataFrame:
    """Return the rows of the ``layer_styles`` table for the given layers."""
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": name,
            "f_geometry_column": geometry_column,
            "styleName": name,
            "styleQML": STYLES[name][1],
            "styleSLD": "",
            "useAsDefault": True,
            "description": "connectivity default style",
            "owner": "",
            "ui": "",
            "update_time": "2000-01-01T00:00:00Z",  # fixed: reruns give identical files
        }
        for name in layers
        if name in STYLES
    ]
    return pd.DataFrame(rows)
