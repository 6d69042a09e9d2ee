"""Coverage: which demand points a site serves.

A point (an analysis point of :mod:`connectivity.grid`, standing for the people of its small
sub-cell) is *covered* by a site when it lies within the site's radius. The site × point
relation is built with a KD-tree and kept sparse: a city of a million points and thousands of
candidates holds only the pairs that are in reach.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

logger = logging.getLogger(__name__)


def covered_by_points(cells_xy: np.ndarray, points_xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Return whether each cell centre lies within ``radius_m`` of any point.

    Parameters
    ----------
    cells_xy
        (n, 2) cell centres in metres.
    points_xy
        (m, 2) site coordinates in the same CRS.
    radius_m
        Service radius in metres.

    Examples
    --------
    >>> import numpy as np
    >>> covered_by_points(np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([[10.0, 0.0]]), 50)
    array([ True, False])
    """
    if len(points_xy) == 0 or len(cells_xy) == 0:
        return np.zeros(len(cells_xy), dtype=bool)
    distance, _ = cKDTree(points_xy).query(cells_xy, k=1, distance_upper_bound=radius_m)
    return np.asarray(distance <= radius_m)


def estimate_pairs(
    sites_xy: np.ndarray, points_xy: np.ndarray, radius_m: float, *, sample: int = 256
) -> int:
    """Estimate how many (site, point) pairs lie within ``radius_m``, without building them.

    Counts the points around a seeded sample of the sites (the same sample every run) and
    scales up; exact when there are at most ``sample`` sites.
    """
    n_sites = len(sites_xy)
    if n_sites == 0 or len(points_xy) == 0:
        return 0
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(n_sites, size=min(sample, n_sites), replace=False))
    counts = cKDTree(points_xy).query_ball_point(sites_xy[pick], r=radius_m, return_length=True)
    return int(np.ceil(np.mean(counts) * n_sites))


def coverage_matrix(
    sites_xy: np.ndarray,
    cells_xy: np.ndarray,
    radius_m: float,
    *,
    decay: Literal["binary", "linear"] = "binary",
) -> sparse.csr_array:
    """Return the sparse site × cell coverage matrix.

    With ``decay="binary"`` entry (i, j) is 1 when cell j's centre is within ``radius_m`` of
    site i; with ``"linear"`` it falls from 1 at the site to 0 at the radius (partial coverage).

    Parameters
    ----------
    sites_xy
        (m, 2) candidate coordinates in metres.
    cells_xy
        (n, 2) cell centres in the same CRS.
    radius_m
        Service radius in metres.
    decay
        ``"binary"`` (1 within the radius) or ``"linear"`` (1 at the site, 0 at the radius).

    Returns
    -------
    scipy.sparse.csr_array
        Shape (m, n), float qualities in (0, 1], column indices sorted within each row.
    """
    n_sites, n_cells = len(sites_xy), len(cells_xy)
    if n_sites == 0 or n_cells == 0:
        return sparse.csr_array((n_sites, n_cells), dtype=float)
    tree = cKDTree(cells_xy)
    neighbours = tree.query_ball_point(sites_xy, r=radius_m, return_sorted=True)
    lengths = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=n_sites)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = (
        np.concatenate([np.asarray(n, dtype=np.int64) for n in neighbours])
        if indptr[-1]
        else np.zeros(0, dtype=np.int64)
    )
    if decay == "linear":
        site_of = np.repeat(np.arange(n_sites), lengths)
        dist = np.hypot(*(cells_xy[indices] - sites_xy[site_of]).T)
        data = np.clip(1.0 - dist / radius_m, 1e-6, 1.0)
    else:
        data = np.ones(len(indices), dtype=float)
    matrix = sparse.csr_array((data, indices, indptr), shape=(n_sites, n_cells))
    logger.info(
        "coverage: %d sites × %d cells, %d pairs within %g m",
        n_sites,
        n_cells,
        matrix.nnz,
        radius_m,
    )
    return matrix
