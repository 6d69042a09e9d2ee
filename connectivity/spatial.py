"""Spatial joins the pipeline repeats, done the fast way round."""

from __future__ import annotations

import numpy as np
import shapely


def points_within(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs ``(point index, polygon index)`` of points strictly inside polygons.

    The same pairs as ``STRtree(polygons).query(points, predicate="within")`` (a point on an
    edge is inside neither polygon), sorted by point. The tree holds the points and each
    polygon is the query, which shapely prepares once: on Bogotá's 666,000 cells of 25 m
    the other way round took 16 s against the 20 localities' detailed outlines.
    """
    if len(points) == 0 or len(polygons) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    tree = shapely.STRtree(points)
    polygon_idx, point_idx = tree.query(polygons, predicate="contains")
    order = np.lexsort((polygon_idx, point_idx))
    return point_idx[order].astype(np.int64), polygon_idx[order].astype(np.int64)
