"""Where an input layer lives and how to read it: :class:`LayerSpec` (shared by every section)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(kw_only=True)
class LayerSpec:
    """Where one input layer lives and how to read it.

    Parameters
    ----------
    path
        Vector file (Shapefile, GeoJSON, GeoPackage, ...) or CSV table.
    layer
        Layer name inside a multi-layer file such as a GeoPackage.
    crs
        CRS of the coordinates when the file does not carry one (CSV default: EPSG:4326).
    x_column, y_column
        For CSV point layers: the columns holding x/longitude and y/latitude.
    encoding
        Text encoding of a CSV or a Shapefile without a ``.cpg`` (for example ``cp1252``).
    filter
        Keep only rows whose column equals the value (or one of a list of values).
    """

    path: Path
    layer: str | None = None
    crs: str | None = None
    x_column: str | None = None
    y_column: str | None = None
    encoding: str | None = None
    filter: dict[str, Any] = field(default_factory=dict)
