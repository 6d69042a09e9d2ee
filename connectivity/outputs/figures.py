"""The static overview map (``map.png``) for reports: matplotlib, no network needed."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
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


def _cell_image(results: Results, breaks: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
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
    image = np.ma.masked_less(grid, 0)
    extent = (x0 * size, (ix.max() + 1) * size, y0 * size, (iy.max() + 1) * size)
    cmap = ListedColormap([*DENSITY_COLOURS, NEW_COLOUR])
    return image, {
        "cmap": cmap,
        "vmin": -0.5,
        "vmax": len(DENSITY_COLOURS) + 0.5,
        "origin": "lower",
        "extent": extent,
    }


def _draw_layers(ax: plt.Axes, results: Results, breaks: np.ndarray, *, label_sites: int) -> None:
    """Draw what every view shows: the cells, the area outlines, Wi-Fi zones and chosen sites."""
    image, style = _cell_image(results, breaks)
    ax.imshow(image, interpolation="nearest", zorder=1, **style)
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
            ax.annotate(
                str(row.rank),
                (row.geometry.x, row.geometry.y),
                fontsize=6,
                xytext=(3, 3),
                textcoords="offset points",
                zorder=6,
                annotation_clip=True,
            )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _frame(
    ax: plt.Axes, bounds: tuple[float, float, float, float], language: Language
) -> list[Any]:
    """Show ``bounds`` in the axes, with a scale bar for that view; return its artists."""
    x0, y0, x1, y1 = bounds
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
    _draw_layers(ax, results, breaks, label_sites=label_sites)
    _frame(ax, bounds, language)


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
    _draw_layers(ax, results, breaks, label_sites=200)
    _legend(fig, breaks, results, language)
    fig.subplots_adjust(left=0.04, right=0.96, top=0.95, bottom=0.10)
    with PdfPages(folder / "atlas.pdf", metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for area in areas.itertuples(index=False):
            x0, y0, x1, y1 = area.geometry.bounds
            page = _frame(ax, (x0 - pad, y0 - pad, x1 + pad, y1 + pad), language)
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
    centres = cells.geometry.centroid
    pad = results.scenario.demand.cell_size_m * 5
    zoom = (
        float(np.quantile(centres.x, 0.01)) - pad,
        float(np.quantile(centres.y, 0.01)) - pad,
        float(np.quantile(centres.x, 0.99)) + pad,
        float(np.quantile(centres.y, 0.99)) + pad,
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
