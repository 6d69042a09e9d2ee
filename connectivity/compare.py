"""Compare two finished runs: ``connectivity compare maps/A maps/B``.

Reads what two runs wrote (``run.json``, ``selected_sites.csv``, ``summary_by_locality.csv``)
and writes, into a new folder, a side-by-side table of the key figures, a table of sites per
locality and a map of the sites that differ. Like every output, the folder is written in full
or not at all.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium
import pandas as pd

from connectivity.outputs.folder import atomic_folder
from connectivity.outputs.safety import escape_html, write_csv
from connectivity.run_files import read_run_summary

logger = logging.getLogger(__name__)

COMPARISON_FILES = frozenset({"comparison.csv", "by_locality.csv", "sites.csv", "differences.html"})


def compare_runs(a: Path, b: Path) -> dict[str, pd.DataFrame]:
    """Return the comparison tables of two output folders.

    Returns
    -------
    dict
        ``figures`` (one row per key figure, a column per run and the difference),
        ``by_locality`` (people covered and sites per locality in each run) and ``sites``
        (every selected site with the runs that chose it).
    """
    run_a, sites_a, sum_a = read_run_summary(a)
    run_b, sites_b, sum_b = read_run_summary(b)
    name_a, name_b = run_a["scenario"]["name"], run_b["scenario"]["name"]
    if name_a == name_b:
        name_a, name_b = f"A {name_a}", f"B {name_b}"
    keys = [
        "population",
        "people_without_internet",
        "people_covered_before",
        "people_covered_after",
        "pct_people_covered_after",
        "pct_weight_covered_after",
        "sites_selected",
        "total_cost",
    ]
    figures = pd.DataFrame(
        {
            "figure": keys,
            name_a: [run_a["summary"].get(k) for k in keys],
            name_b: [run_b["summary"].get(k) for k in keys],
        }
    )
    figures["difference"] = (figures[name_b] - figures[name_a]).round(3)
    cols = ["locality_code", "locality", "covered_after", "pct_covered_after", "sites_selected"]
    by_locality = sum_a[cols].merge(
        sum_b[cols].drop(columns="locality"),
        on="locality_code",
        how="outer",
        suffixes=(f" {name_a}", f" {name_b}"),
    )
    keep = ["site_id", "name", "type", "locality", "lon", "lat"]
    sites = sites_a[[*keep, "rank"]].merge(
        sites_b[[*keep, "rank"]], on=keep, how="outer", suffixes=(f" {name_a}", f" {name_b}")
    )
    in_a = sites[f"rank {name_a}"].notna()
    in_b = sites[f"rank {name_b}"].notna()
    sites["chosen_by"] = "both"
    sites.loc[in_a & ~in_b, "chosen_by"] = name_a
    sites.loc[in_b & ~in_a, "chosen_by"] = name_b
    return {"figures": figures, "by_locality": by_locality, "sites": sites}


def _difference_map(sites: pd.DataFrame) -> folium.Map:
    colours = {"both": "#999999"}
    palette = ["#1b9e77", "#d95f02"]
    for value in sites["chosen_by"].unique():
        if value != "both":
            colours[value] = palette[len(colours) - 1]
    fmap = folium.Map(prefer_canvas=True)
    if len(sites):
        fmap.fit_bounds(
            [[sites["lat"].min(), sites["lon"].min()], [sites["lat"].max(), sites["lon"].max()]]
        )
    for value, group in sites.groupby("chosen_by"):
        layer = folium.FeatureGroup(name=escape_html(value))
        for row in group.to_dict("records"):
            folium.CircleMarker(
                [row["lat"], row["lon"]],
                radius=5,
                color=colours[str(value)],
                fill=True,
                fill_opacity=0.9,
                tooltip=folium.Tooltip(escape_html(f"{row['name']} ({row['type']}) — {value!s}")),
            ).add_to(layer)
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def write_comparison(a: Path, b: Path, out: Path) -> list[Path]:
    """Compare runs ``a`` and ``b`` and write the comparison into ``out`` (all or nothing).

    Files: ``comparison.csv``, ``by_locality.csv``, ``sites.csv`` and ``differences.html``.

    Raises
    ------
    InputFileError
        A folder is not a connectivity output folder.
    OutputError
        ``out`` exists and is not an earlier comparison.
    """
    tables = compare_runs(Path(a), Path(b))
    out = Path(out).expanduser().resolve()
    with atomic_folder(out, names=COMPARISON_FILES) as tmp:
        write_csv(tables["figures"], tmp / "comparison.csv")
        write_csv(tables["by_locality"], tmp / "by_locality.csv")
        write_csv(tables["sites"], tmp / "sites.csv")
        _difference_map(tables["sites"]).save(str(tmp / "differences.html"))
    logger.info("compare: %s vs %s written to %s", a, b, out)
    return [out / n for n in sorted(COMPARISON_FILES)]
