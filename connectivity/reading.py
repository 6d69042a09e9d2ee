"""Reading a run's inputs, and timing its stages.

:class:`Inputs` reads layers and tables, keeping what cleaning did and every file read;
:class:`Stages` keeps the seconds each stage took.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from connectivity.columns import LoadReport, read_table
from connectivity.files import layer_files
from connectivity.layers import read_layer
from connectivity.scenario import LayerSpec, Scenario

logger = logging.getLogger("connectivity.pipeline")


class Stages:
    """Seconds spent in each stage of a run, logged as each ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as the stage ``name``."""
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        logger.info("stage %s done in %.2f s", name, self.seconds[name])


@dataclass
class Inputs:
    """Reads the scenario's layers, keeping what each read cleaned and every file read."""

    scenario: Scenario
    strict: bool
    reports: list[LoadReport] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    left_out: shapely.Geometry | None = None

    @property
    def metric(self) -> str:
        """The scenario's metric CRS."""
        return self.scenario.territory.metric_crs

    def layer(self, spec: LayerSpec, role: str, **kwargs: Any) -> gpd.GeoDataFrame:
        """Read a layer (:func:`connectivity.layers.read_layer`) in the metric CRS."""
        return self.layer_with_report(spec, role, **kwargs)[0]

    def layer_with_report(
        self, spec: LayerSpec, role: str, **kwargs: Any
    ) -> tuple[gpd.GeoDataFrame, LoadReport]:
        """Read a layer and return what reading it cleaned too."""
        if "clip_to" in kwargs and self.left_out is not None:
            kwargs["left_out"] = self.left_out
        gdf, report = read_layer(
            spec, role=role, metric_crs=self.metric, strict=self.strict, **kwargs
        )
        self.reports.append(report)
        self.files.extend(layer_files(spec))
        return gdf, report

    def table(self, spec: LayerSpec, role: str, expected: list[str]) -> pd.DataFrame:
        """Read a table (CSV) with the columns ``expected``."""
        frame, report = read_table(spec, role=role, strict=self.strict, expected=expected)
        self.reports.append(report)
        self.files.extend(layer_files(spec))
        return frame
