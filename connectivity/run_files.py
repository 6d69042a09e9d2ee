"""Reading what earlier runs wrote: for ``connectivity export`` and ``connectivity compare``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from connectivity.errors import InputFileError, NoCRSError
from connectivity.files import no_sidecar_files

logger = logging.getLogger(__name__)


def read_run_folder(
    folder: Path, *, layer_names: Sequence[str]
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Read a finished run's manifest and the documented layers of its GeoPackage (for export).

    Parameters
    ----------
    folder
        An output folder written by ``connectivity run`` (it holds ``run.json`` and
        ``connectivity.gpkg``).
    layer_names
        The layers a run writes. Any other table found in the GeoPackage (one added by hand,
        or by someone tampering with the folder) is left out with a warning, never exported.

    Returns
    -------
    dict, dict of GeoDataFrame
        The manifest, and the layers by name in the order of ``layer_names``. The
        ``layer_styles`` table (QGIS styles) has no geometry and comes back as a plain
        DataFrame.

    Raises
    ------
    InputFileError
        If the folder is not a finished run or its GeoPackage cannot be read.
    """
    manifest_path = folder / "run.json"
    gpkg = folder / "connectivity.gpkg"
    if not folder.is_dir():
        raise InputFileError(f"{folder}: folder not found")
    for path in (manifest_path, gpkg):
        if not path.is_file():
            raise InputFileError(
                f"{path}: not found; {folder} is not the output folder of a finished run"
            )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with no_sidecar_files():
            present = [str(name) for name, _ in pyogrio.list_layers(gpkg)]
            foreign = [n for n in present if n not in layer_names]
            if foreign:
                logger.warning(
                    "%s: layers that a run does not write are left out: %s",
                    gpkg,
                    ", ".join(repr(n[:60]) for n in foreign[:10]),
                )
            names = [n for n in layer_names if n in present]
            frames = {name: gpd.read_file(gpkg, layer=name, engine="pyogrio") for name in names}
    except (OSError, ValueError, pyogrio.errors.DataSourceError) as exc:
        raise InputFileError(f"{gpkg}: cannot read the run's outputs ({exc})") from exc
    layers: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None and name != "layer_styles":
            raise NoCRSError(f"{gpkg}: layer '{name}' has no CRS")
        layers[name] = frame
    return manifest, layers


_RUN_SUMMARY_FILES = ("run.json", "selected_sites.csv", "summary_by_locality.csv")


def read_run_summary(folder: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Read a finished run's manifest, selected sites and per-locality summary (for compare).

    Parameters
    ----------
    folder
        An output folder written by ``connectivity run``.

    Returns
    -------
    dict, DataFrame, DataFrame
        ``run.json``, ``selected_sites.csv`` and ``summary_by_locality.csv`` (identifiers kept
        as text).

    Raises
    ------
    InputFileError
        If a file is missing, or cannot be parsed (the message names the file).
    """
    missing = [name for name in _RUN_SUMMARY_FILES if not (folder / name).is_file()]
    if missing:
        raise InputFileError(
            f"{folder}: not a connectivity output folder (missing {', '.join(missing)})"
        )
    path = folder / "run.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "summary" not in manifest:
            raise ValueError("no 'summary' object")
        path = folder / "selected_sites.csv"
        sites = pd.read_csv(path, dtype={"site_id": str})
        path = folder / "summary_by_locality.csv"
        summary = pd.read_csv(path, dtype={"locality_code": str})
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: cannot read this run output ({exc})") from exc
    return manifest, sites, summary
