"""The static overview map (``map.png``) for reports: matplotlib, no network needed."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba_array
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from connectivity.outputs.classes import class_labels, density_breaks
from connectivity.outputs.i18n import Language, coverage_notes, label, plan_title
from connectivity.outputs.palette import DENSITY_COLOURS, NEW_COLOUR, SITE_COLOUR, WIFI_COLOUR
from connectivity.outputs.safety import plain_text
from connectivity.results import Results


def _scale_bar(ax: plt.Axes, language: Language) -> list[Any]:
    """Draw a scale bar and a north arrow for the axes' current view; return the artists."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = (x1 - x0) / 5
    nice = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]
    length = max(n for n in nice if n <= span) if span >= 100 else span
    bx, by = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.04
    (bar,) = ax.plot([bx, bx + length], [by, by], color="black", lw=3, solid_capstyle="butt")
    text = f"{length / 1000:g} {label('km', language)}"
    caption = ax.text(
        bx + length / 2, by + (y1 - y0) * 0.015, text, ha="center", va="bottom", fontsize=8
    )
    north = ax.annotate(
        label("north", language),
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )
    return [bar, caption, north]


MAX_RASTER_CELLS = 1600
"""A view shows at most this many cells across: finer grids are sampled every k-th cell, as
nearest-neighbour resampling to the figure's pixels would (no figure is 1,600 pixels wide)."""


@dataclass(frozen=True)
class _CellRaster:
    """The regular cell grid as an RGBA image (row 0 to the south), cut to each view."""

    rgba: np.ndarray
    x0: float
    y0: float
    size: float

    def view(
        self, bounds: tuple[float, float, float, float]
    ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """Return the part of the image in ``bounds``, sampled to :data:`MAX_RASTER_CELLS`."""
        ny, nx = self.rgba.shape[:2]
        bx0, by0, bx1, by1 = bounds
        c0 = int(np.clip(np.floor((bx0 - self.x0) / self.size), 0, nx))
        c1 = int(np.clip(np.ceil((bx1 - self.x0) / self.size), 0, nx))
        r0 = int(np.clip(np.floor((by0 - self.y0) / self.size), 0, ny))
        r1 = int(np.clip(np.ceil((by1 - self.y0) / self.size), 0, ny))
        if c1 <= c0 or r1 <= r0:
            return np.zeros((1, 1, 4), dtype=np.uint8), (bx0, bx1, by0, by1)
        step = max(1, int(np.ceil(max(r1 - r0, c1 - c0) / MAX_RASTER_CELLS)))
        sub = self.rgba[r0:r1:step, c0:c1:step]
        x, y, s = self.x0 + c0 * self.size, self.y0 + r0 * self.size, self.size * step
        return sub, (x, x + sub.shape[1] * s, y, y + sub.shape[0] * s)


def _cell_raster(results: Results, breaks: np.ndarray) -> _CellRaster:
    """Paint the regular cell grid as an image (far lighter than one polygon per cell).

    Uncovered cells show their density class, newly covered ones green, the rest nothing.
    """
    cells = results.cells
    size = results.scenario.demand.cell_size_m
    ix = cells["ix"].to_numpy()
    iy = cells["iy"].to_numpy()
    x0, y0 = ix.min(), iy.min()
    grid = np.full((iy.max() - y0 + 1, ix.max() - x0 + 1), -1, dtype=np.int64)
    classes = np.digitize(cells["people_without_internet"].to_numpy(), breaks)
    classes[cells["covered_after"].to_numpy()] = -1
    classes[cells["covered_by_rank"].to_numpy() > 0] = len(DENSITY_COLOURS)
    grid[iy - y0, ix - x0] = classes
    colours = np.round(255 * to_rgba_array([*DENSITY_COLOURS, NEW_COLOUR])).astype(np.uint8)
    rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
    shown = grid >= 0
    rgba[shown] = colours[grid[shown]]
    return _CellRaster(rgba, float(x0 * size), float(y0 * size), float(size))


class _RasterLayer:
    """The cell image and site numbers of one axes, redrawn for each view it is framed on."""

    def __init__(self, ax: plt.Axes, raster: _CellRaster) -> None:
        self.raster = raster
        self.labels: list[Any] = []  # site numbers: only those in the view are drawn
        self.image = ax.imshow(
            np.zeros((1, 1, 4), dtype=np.uint8), interpolation="nearest", origin="lower", zorder=1
        )

    def show(self, bounds: tuple[float, float, float, float]) -> None:
        """Show the cells in ``bounds``, and the site numbers there."""
        data, extent = self.raster.view(bounds)
        self.image.set_data(data)
        self.image.set_extent(extent)
        x0, y0, x1, y1 = bounds
        for text in self.labels:
            x, y = text.xy
            text.set_visible(bool(x0 <= x <= x1 and y0 <= y <= y1))


def _draw_layers(
    ax: plt.Axes, results: Results, breaks: np.ndarray, *, label_sites: int
) -> _RasterLayer:
    """Draw what every view shows: the cells, the area outlines, Wi-Fi zones and chosen sites."""
    layer = _RasterLayer(ax, _cell_raster(results, breaks))
    outlines = results.territory.areas.boundary.simplify(results.scenario.demand.cell_size_m / 4)
    outlines.plot(ax=ax, color="#333333", linewidth=0.6)
    if len(results.existing_wifi):
        results.existing_wifi.plot(ax=ax, color=WIFI_COLOUR, markersize=6, zorder=4)
    sel = results.selected
    if len(sel):
        sel.plot(
            ax=ax,
            color=SITE_COLOUR,
            markersize=14,
            marker="^",
            zorder=5,
            edgecolor="white",
            linewidth=0.3,
        )
        for row in sel.head(label_sites).itertuples():
            layer.labels.append(
                ax.annotate(
                    str(row.rank),
                    (row.geometry.x, row.geometry.y),
                    fontsize=6,
                    xytext=(3, 3),
                    textcoords="offset points",
                    zorder=6,
                    annotation_clip=True,
                )
            )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return layer


def _frame(
    ax: plt.Axes,
    bounds: tuple[float, float, float, float],
    language: Language,
    cells: _RasterLayer | None = None,
) -> list[Any]:
    """Show ``bounds`` in the axes, with a scale bar for that view; return its artists."""
    x0, y0, x1, y1 = bounds
    if cells is not None:
        cells.show(bounds)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return _scale_bar(ax, language)


def _panel(
    ax: plt.Axes,
    results: Results,
    bounds: tuple[float, float, float, float],
    breaks: np.ndarray,
    language: Language,
    *,
    label_sites: int,
) -> None:
    layer = _draw_layers(ax, results, breaks, label_sites=label_sites)
    _frame(ax, bounds, language, layer)


def _legend(
    fig: plt.Figure,
    breaks: np.ndarray,
    results: Results,
    language: Language,
    *,
    bottom: float = 0.0,
) -> None:
    ranges = class_labels(breaks)
    handles: list[Any] = [
        Patch(color=c, label=r) for c, r in zip(DENSITY_COLOURS, ranges, strict=True)
    ]
    handles += [
        Patch(color=NEW_COLOUR, label=label("newly_covered", language)),
        Line2D([], [], color=WIFI_COLOUR, marker="o", lw=0, label=label("existing_wifi", language)),
        Line2D(
            [], [], color=SITE_COLOUR, marker="^", lw=0, label=label("selected_sites", language)
        ),
    ]
    size = f"{results.scenario.demand.cell_size_m:g}"
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, bottom),
        ncol=4,
        fontsize=9,
        frameon=False,
        title=label("density_legend", language, size=size),
    )


@plain_text()
def write_atlas(results: Results, folder: Path, *, language: Language = "es") -> list[Path]:
    """Write one static map per area (PNG) and all of them as a multi-page ``atlas.pdf``.

    Each page has the area's uncovered demand, newly covered cells, existing Wi-Fi and chosen
    sites (numbered by rank), with a scale bar, a north arrow and the legend. The layers are
    drawn once; each page moves the view, outlines its area and redraws the scale bar (drawing
    every page anew took 16 of the Bogotá demo's 23 s of outputs).
    """
    from matplotlib.backends.backend_pdf import PdfPages

    folder.mkdir()
    cells = results.cells
    areas = results.territory.areas
    breaks = density_breaks(cells["people_without_internet"].to_numpy())
    pad = results.scenario.demand.cell_size_m * 3
    written = []
    fig, ax = plt.subplots(figsize=(8.27, 11.0))
    layer = _draw_layers(ax, results, breaks, label_sites=200)
    _legend(fig, breaks, results, language)
    fig.subplots_adjust(left=0.04, right=0.96, top=0.95, bottom=0.10)
    with PdfPages(folder / "atlas.pdf", metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for area in areas.itertuples(index=False):
            x0, y0, x1, y1 = area.geometry.bounds
            page = _frame(ax, (x0 - pad, y0 - pad, x1 + pad, y1 + pad), language, layer)
            page += ax.plot(*_outline_xy(area.geometry), color="black", linewidth=1.6, zorder=3)
            ax.set_title(
                f"{area.area_code} {str(area.area_name).title()} — {results.scenario.title}",
                fontsize=11,
            )
            path = folder / f"{area.area_code}.png"
            fig.savefig(path, dpi=90)
            pdf.savefig(fig)
            for artist in page:
                artist.remove()
            written.append(path)
    plt.close(fig)
    return [*written, folder / "atlas.pdf"]


def _outline_xy(geometry: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the x and y of every ring of a (multi)polygon, NaN-separated (one line)."""
    import shapely

    rings = shapely.get_rings(shapely.get_parts(geometry))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for ring in rings:
        coords = shapely.get_coordinates(ring)
        xs += [coords[:, 0], np.array([np.nan])]
        ys += [coords[:, 1], np.array([np.nan])]
    return (np.concatenate(xs), np.concatenate(ys)) if xs else (np.zeros(0), np.zeros(0))


@plain_text()
def write_overview_png(results: Results, path: Path, *, language: Language = "es") -> None:
    """Write a two-panel static map: the whole territory and a zoom on the populated core."""
    cells = results.cells
    breaks = density_breaks(cells["people_without_internet"].to_numpy())
    full = tuple(results.territory.areas.total_bounds)
    size = results.scenario.demand.cell_size_m
    cx = (cells["ix"].to_numpy() + 0.5) * size  # the squares' centres: enough to frame a view
    cy = (cells["iy"].to_numpy() + 0.5) * size
    pad = size * 5
    zoom = (
        float(np.quantile(cx, 0.01)) - pad,
        float(np.quantile(cy, 0.01)) - pad,
        float(np.quantile(cx, 0.99)) + pad,
        float(np.quantile(cy, 0.99)) + pad,
    )
    fig, axes = plt.subplots(1, 2, figsize=(14, 9), gridspec_kw={"width_ratios": [1, 2]})
    _panel(axes[0], results, full, breaks, language, label_sites=0)
    axes[0].set_title(label("overview", language), fontsize=10)
    _panel(axes[1], results, zoom, breaks, language, label_sites=20)
    axes[1].set_title(label("urban_zoom", language), fontsize=10)
    s = results.scenario
    _legend(fig, breaks, results, language, bottom=0.035)  # the notes go below it
    fig.suptitle(f"{plan_title(results, language)}: {s.title} — {s.territory.name}", fontsize=13)
    fig.text(
        0.5,
        0.005,
        "\n".join(textwrap.wrap(" · ".join(coverage_notes(results, language)), 190)),
        ha="center",
        va="bottom",
        fontsize=7,
        color="#555555",
    )
    fig.tight_layout(rect=(0, 0.13, 1, 0.96))
    fig.savefig(path, dpi=130)
    plt.close(fig)
