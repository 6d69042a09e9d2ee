"""Bounded work: estimate a run's cells, points, coverage pairs and memory before allocating.

A scenario with ``cell_size_m: 1`` or ``radius_m: 1000000`` would otherwise allocate until the
machine runs out of memory. The pipeline (and ``connectivity validate``) estimate the work
first and refuse a run above the memory limit with the estimate and the setting to change.

The memory model is linear in the counts: a run holds each published cell as a polygon with
about twenty columns and in the maps, each analysis point as a few numbers in several stages,
and each coverage pair in the sparse matrix, its transpose and the optimiser's merged model.
The bytes per item are set so that the estimate lies above the peak memory measured on every
shipped scenario (``benchmarks/convergence.py`` prints both, ``benchmarks/convergence.md``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from connectivity.errors import ConnectivityError, WorkloadError

__all__ = ["Workload", "WorkloadError", "check_workload", "default_memory_limit_bytes"]

BYTES_PER_CELL = 4_000
BYTES_PER_POINT = 160
BYTES_PER_PAIR = 100
BYTES_PER_GRID_BOX = 250
BASE_BYTES = 400 * 2**20


def default_memory_limit_bytes() -> int:
    """Half of this machine's physical memory, or ``$CONNECTIVITY_MAX_MEMORY_GB``."""
    env = os.environ.get("CONNECTIVITY_MAX_MEMORY_GB")
    if env:
        try:
            return int(float(env) * 2**30)
        except ValueError:
            raise ConnectivityError(
                f"CONNECTIVITY_MAX_MEMORY_GB: expected a number of gigabytes, got {env[:40]!r}"
            ) from None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not on this platform
        total = 16 * 2**30
    return int(total // 2)


@dataclass(frozen=True)
class Workload:
    """Estimated size of a run.

    Attributes
    ----------
    grid_boxes
        Cells of the units' bounding boxes that the area weighting tests.
    cells, points
        Published cells and analysis points with people (upper estimates).
    pairs
        Site × point coverage pairs.
    """

    grid_boxes: int = 0
    cells: int = 0
    points: int = 0
    pairs: int = 0

    @property
    def bytes(self) -> int:
        """Estimated peak memory of the run."""
        return int(
            BASE_BYTES
            + BYTES_PER_GRID_BOX * self.grid_boxes
            + BYTES_PER_CELL * self.cells
            + BYTES_PER_POINT * self.points
            + BYTES_PER_PAIR * self.pairs
        )

    def describe(self) -> str:
        """One line: the counts and the memory they need."""
        return (
            f"about {self.cells:,} cells, {self.points:,} analysis points and {self.pairs:,} "
            f"site-point pairs: {_gb(self.bytes)} of memory"
        )

    def to_dict(self) -> dict[str, int]:
        """Plain data for ``run.json`` and ``validate``."""
        return {
            "grid_boxes": self.grid_boxes,
            "cells": self.cells,
            "points": self.points,
            "pairs": self.pairs,
            "bytes": self.bytes,
        }


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else f"{n / 2**20:,.0f} MB"


def grid_workload(
    unit_bounds: np.ndarray,
    unit_area_m2: float,
    unit_length_m: float,
    *,
    cell_size_m: float,
    subdivisions: int,
) -> Workload:
    """Estimate the grid of a demand layer from its units' bounds, area and outline length.

    A cell is made for every grid square a unit's area touches: about the area over the
    cell's area, plus one cell along each cell-length of outline.
    """
    b = np.asarray(unit_bounds, dtype=float).reshape(-1, 4)
    finite = np.isfinite(b).all(axis=1)
    b = b[finite]
    nx = np.ceil(b[:, 2] / cell_size_m) - np.floor(b[:, 0] / cell_size_m)
    ny = np.ceil(b[:, 3] / cell_size_m) - np.floor(b[:, 1] / cell_size_m)
    boxes = float(np.sum(np.maximum(nx, 1) * np.maximum(ny, 1)))
    cells = unit_area_m2 / cell_size_m**2 + unit_length_m / cell_size_m
    cells = min(cells, boxes)
    return Workload(
        grid_boxes=_count(boxes), cells=_count(cells), points=_count(cells * subdivisions**2)
    )


def pairs_bound(n_sites: int, radius_m: float, spacing_m: float, n_points: int) -> int:
    """Most site × point pairs a layer of sites can give: its discs' points, at most all."""
    per_site = math.pi * (radius_m + spacing_m) ** 2 / spacing_m**2
    return _count(n_sites * min(float(n_points), per_site))


def with_pairs(work: Workload, pairs: int) -> Workload:
    """Return the same workload with a number of coverage pairs."""
    return Workload(
        grid_boxes=work.grid_boxes, cells=work.cells, points=work.points, pairs=_count(pairs)
    )


def _count(x: float) -> int:
    return int(min(max(x, 0.0), 1e18))


def check_workload(work: Workload, limit_bytes: int, *, settings: str) -> None:
    """Refuse a workload above the memory limit, naming the estimate and what to change.

    Parameters
    ----------
    work
        The estimate.
    limit_bytes
        The memory limit (:func:`default_memory_limit_bytes`, or ``--max-memory-gb``).
    settings
        The scenario settings that drive the estimate, with their values, to name in the
        message (e.g. ``"demand.cell_size_m (1 m)"``).

    Raises
    ------
    WorkloadError
        When the estimate is above the limit.
    """
    if work.bytes <= limit_bytes:
        return
    raise WorkloadError(
        f"this run would hold {work.describe()}, more than the limit of {_gb(limit_bytes)}. "
        f"Change {settings}, or raise the limit with --max-memory-gb (or "
        "CONNECTIVITY_MAX_MEMORY_GB) if this machine has the memory"
    )
