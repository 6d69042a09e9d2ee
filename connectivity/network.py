"""Walking reach on the street network, from a local OpenStreetMap file.

People reach a Wi-Fi zone by walking streets, not in straight lines. The street graph is read
with :func:`osmnx.graph_from_xml` (never from the Overpass API), projected to the scenario's
metric CRS and cached. Sites and cell centres are snapped to their nearest street node; the
walking distance from a site to a cell is the snap distance of each plus the shortest path
between their nodes (multi-source Dijkstra with a cutoff, :func:`scipy.sparse.csgraph.dijkstra`,
streets walkable both ways). Because every street is at least as long as the straight line
between its ends, a walking distance is never shorter than the straight-line distance.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from connectivity._atomic import replaced_file
from connectivity.errors import LayerError
from connectivity.files import check_input_file

if TYPE_CHECKING:  # networkx loads with the street graph, not with every run
    import networkx as nx

logger = logging.getLogger(__name__)

_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """Folder for cached street graphs: ``$CONNECTIVITY_CACHE_DIR``, else the user's cache."""
    import os

    env = os.environ.get("CONNECTIVITY_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "connectivity"


def street_graph_from_osm(
    osm_path: Path, *, metric_crs: str, cache_dir: Path | None = None
) -> nx.MultiDiGraph:
    """Read the street graph of a local OSM XML file, projected to ``metric_crs``.

    Parameters
    ----------
    osm_path
        OpenStreetMap XML (``.osm``) file.
    metric_crs
        Projected CRS for the graph.
    cache_dir
        Folder for a cached copy keyed by the file's SHA-256 and the CRS (reruns skip parsing).

    Raises
    ------
    InputFileError
        The file does not exist.
    LayerError
        The file cannot be parsed or holds no streets.
    """
    import osmnx as ox

    osm_path = Path(osm_path)
    check_input_file(osm_path, "candidates.network")
    digest = hashlib.sha256(osm_path.read_bytes()).hexdigest()[:16]
    key = f"streets-{digest}-{metric_crs.replace(':', '_')}-v{_CACHE_VERSION}.pickle"
    cached = cache_dir / key if cache_dir is not None else None
    if cached is not None and cached.exists():
        with cached.open("rb") as fh:
            graph: nx.MultiDiGraph = pickle.load(fh)  # our own cache file
        logger.info("network: street graph from cache %s", cached.name)
        return graph
    try:
        raw = ox.graph_from_xml(osm_path, simplify=True, retain_all=True)
    except Exception as exc:  # osmnx raises several error types for bad files
        raise LayerError(f"{osm_path}: cannot read a street graph: {exc}") from None
    if raw.number_of_edges() == 0:
        raise LayerError(f"{osm_path}: the file holds no streets")
    graph = ox.project_graph(raw, to_crs=metric_crs)
    logger.info(
        "network: %d nodes and %d edges from %s",
        graph.number_of_nodes(),
        graph.number_of_edges(),
        osm_path.name,
    )
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with replaced_file(cached) as tmp, tmp.open("wb") as fh:
            pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return graph


def _adjacency(graph: nx.MultiDiGraph) -> tuple[sparse.csr_array, np.ndarray]:
    nodes = np.array(list(graph.nodes))
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, lengths = [], [], []
    for u, v, data in graph.edges(data=True):
        rows.append(index[u])
        cols.append(index[v])
        lengths.append(float(data.get("length", 0.0)))
    n = len(nodes)
    return _shortest_parallel(rows, cols, lengths, n), nodes


def _snapped(
    graph: nx.MultiDiGraph, *points: np.ndarray
) -> tuple[sparse.csr_array, list[tuple[np.ndarray, np.ndarray]]]:
    """Return the graph's adjacency and each point's snap distance and nearest street node.

    One pair of arrays per set of points given; nodes are rows of the adjacency.
    """
    adj, nodes = _adjacency(graph)
    node_xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes])
    tree = cKDTree(node_xy)
    return adj, [tree.query(xy) for xy in points]


def _shortest_parallel(
    rows: list[int], cols: list[int], lengths: list[float], n: int
) -> sparse.csr_array:
    """Symmetric adjacency with the shortest of any parallel edges (streets walk both ways)."""
    r = np.r_[rows, cols]
    c = np.r_[cols, rows]
    w = np.r_[lengths, lengths]
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
    w = np.maximum(w[first], 1e-3)  # a zero length would read as "no edge"
    return sparse.csr_array((w, (r[first], c[first])), shape=(n, n))


def walking_coverage(
    graph: nx.MultiDiGraph,
    sites_xy: np.ndarray,
    cells_xy: np.ndarray,
    cutoff_m: float,
    *,
    max_snap_m: float = 150.0,
    chunk: int = 256,
) -> sparse.csr_array:
    """Return the sparse site × cell matrix of cells within ``cutoff_m`` walking of each site.

    Parameters
    ----------
    graph
        Street graph in the same metric CRS as the points.
    sites_xy, cells_xy
        (n, 2) coordinates in metres.
    cutoff_m
        Maximum walking distance (snap distances included).
    max_snap_m
        Points farther than this from any street node cannot be reached on foot.
    chunk
        Sites per Dijkstra batch (bounds memory: ``chunk × nodes`` distances at a time).

    Returns
    -------
    scipy.sparse.csr_array
        Shape (sites, cells), 1.0 where the cell is within walking reach.
    """
    n_sites, n_cells = len(sites_xy), len(cells_xy)
    if n_sites == 0 or n_cells == 0 or graph.number_of_nodes() == 0:
        return sparse.csr_array((n_sites, n_cells), dtype=float)
    adj, ((site_snap, site_node), (cell_snap, cell_node)) = _snapped(graph, sites_xy, cells_xy)
    cell_ok = cell_snap <= max_snap_m
    rows_out, cols_out = [], []
    usable = np.flatnonzero(site_snap <= max_snap_m)
    for start in range(0, len(usable), chunk):
        batch = usable[start : start + chunk]
        dist = dijkstra(adj, directed=False, indices=site_node[batch], limit=cutoff_m)
        for k, s in enumerate(batch):
            budget = cutoff_m - site_snap[s]
            total = dist[k, cell_node] + cell_snap
            hit = np.flatnonzero(cell_ok & (total <= budget))
            rows_out.append(np.full(len(hit), s, dtype=np.int64))
            cols_out.append(hit)
    rows = np.concatenate(rows_out) if rows_out else np.zeros(0, np.int64)
    cols = np.concatenate(cols_out) if cols_out else np.zeros(0, np.int64)
    matrix = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n_sites, n_cells))
    matrix.sort_indices()
    logger.info(
        "network: %d sites × %d cells, %d pairs within %g m walking (%d cells beyond %g m of "
        "a street)",
        n_sites,
        n_cells,
        matrix.nnz,
        cutoff_m,
        int((~cell_ok).sum()),
        max_snap_m,
    )
    return matrix


def route_lengths(
    graph: nx.MultiDiGraph,
    sources_xy: np.ndarray,
    targets_xy: np.ndarray,
    *,
    limit_m: float,
    max_snap_m: float = 150.0,
) -> np.ndarray:
    """Return, for each target, the shortest route along the streets from any source (metres).

    A route is the source's snap distance to its nearest street node, the shortest path (streets
    both ways) and the target's snap distance. Infinite where no source is within ``limit_m``
    or either end lies farther than ``max_snap_m`` from a street.
    """
    out = np.full(len(targets_xy), np.inf)
    if not len(sources_xy) or not len(targets_xy) or graph.number_of_nodes() == 0:
        return out
    adj, ((src_snap, src_node), (dst_snap, dst_node)) = _snapped(graph, sources_xy, targets_xy)
    ok = src_snap <= max_snap_m
    if not ok.any():
        return out
    # one extra node joined to each source's street node by its snap distance: one Dijkstra
    n = adj.shape[0]
    extra = sparse.csr_array(
        (np.maximum(src_snap[ok], 1e-3), (np.full(int(ok.sum()), n), src_node[ok])),
        shape=(n + 1, n + 1),
    )
    grown = sparse.csr_array(sparse.block_diag([adj, sparse.csr_array((1, 1))]) + extra)
    dist = dijkstra(grown, directed=False, indices=n, limit=limit_m)
    total = dist[dst_node] + dst_snap
    reach = (dst_snap <= max_snap_m) & (total <= limit_m)
    out[reach] = total[reach]
    return out
