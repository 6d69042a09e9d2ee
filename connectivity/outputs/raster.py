"""The received-power raster (``signal_dbm.tif``): a tiled GeoTIFF written window by window."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from connectivity.propagation import NODATA_DBM, Grid

logger = logging.getLogger(__name__)


def write_power_raster(
    path: Path, grid: Grid, windows: Iterable[tuple[int, np.ndarray]], *, crs: str
) -> None:
    """Write received power (dBm, float32) as a GeoTIFF with the grid's CRS and transform.

    ``windows`` yields ``(first row, rows × width array)`` (as
    :func:`connectivity.propagation.power_windows` does), so the whole raster is never held in
    memory.
    """
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": Affine(*grid.transform),
        "nodata": NODATA_DBM,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.update_tags(units="dBm", quantity="received power from the best transmitter")
        for row0, values in windows:
            rows = values.shape[0]
            dst.write(values.astype("float32"), 1, window=Window(0, row0, grid.width, rows))
    logger.info("signal raster: %d × %d cells written to %s", grid.width, grid.height, path.name)
