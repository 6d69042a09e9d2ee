"""Writing a run: every output file into a hidden folder, swapped in whole.

Everything for one run is written into a temporary folder beside the destination and moved into
place only when every file was written; a failed run leaves the previous outputs as they were.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from connectivity._atomic import replaced_file
from connectivity._version import __version__
from connectivity.errors import OutputError
from connectivity.files import file_sha256
from connectivity.outputs.folder import RUN_FORMAT, atomic_folder, folder_files
from connectivity.outputs.published import Published, published
from connectivity.outputs.safety import write_csv
from connectivity.results import Results

if TYPE_CHECKING:
    from connectivity.study.results import StudyResults

logger = logging.getLogger(__name__)


OUTPUT_FILES = [
    "connectivity.gpkg",
    "geoparquet",
    "selected_sites.csv",
    "summary_by_locality.csv",
    "map.html",
    "map.png",
    "atlas",
    "report.html",
    "plan.kmz",
    "tables.xlsx",
    "run.json",
]


def write_outputs(
    results: Results,
    out_dir: Path,
    *,
    progress: Callable[[str, int], Any] | None = None,
    study: StudyResults | None = None,
) -> list[Path]:
    """Write every output of a run into ``out_dir``, all or nothing.

    Parameters
    ----------
    results
        A finished run.
    out_dir
        Destination folder: new, empty, or an earlier run of this program (see
        :mod:`connectivity.outputs.folder`); it is replaced only once the new outputs are
        complete, and keeps its permissions.
    progress
        Optional progress-bar factory.
    study
        A study of the scenario (:func:`connectivity.study.run_study`): its files join the
        run's, its section the report and its layer (``study_sites``) the GeoPackage.

    Returns
    -------
    list of Path
        The files written, in their final place.

    Raises
    ------
    OutputError
        ``out_dir`` is a file, holds files this program did not write, is locked by another
        run, or the disk filled up (the earlier outputs are then unchanged).
    """
    out = Path(out_dir).expanduser().resolve()
    current = ["the first file"]
    with atomic_folder(out, doing=current) as tmp:
        _write_all(results, tmp, progress, current, study)
    names = output_files(results, study)
    logger.info("outputs: %d files in %s", len(names), out)
    return [out / name for name in names]


def _write_all(
    results: Results,
    folder: Path,
    progress: Callable[[str, int], Any] | None,
    current: list[str],
    study: StudyResults | None = None,
) -> None:
    from connectivity.outputs import figures, report, webmap
    from connectivity.outputs.classes import map_classes
    from connectivity.outputs.kml import write_kmz
    from connectivity.outputs.styles import layer_styles_table
    from connectivity.outputs.workbook import write_workbook

    language = results.scenario.output.language
    bar = progress("writing outputs", len(output_files(results, study))) if progress else None
    seconds: dict[str, float] = {}

    def step(name: str, func: Callable[[], object]) -> None:
        current[0] = name
        start = time.perf_counter()
        func()
        seconds[name] = round(time.perf_counter() - start, 3)
        if bar is not None:
            bar.update(1)

    pub = published(results)
    hashes = {p: file_sha256(p) for p in results.input_files}  # once, for gpkg and run.json
    crs = results.scenario.output.crs
    layers = {name: layer.to_crs(crs) for name, layer in pub.layers.items()}
    study_html = ""
    if study is not None:
        from connectivity.outputs.study import study_layer
        from connectivity.outputs.styles import STUDY_LAYER

        layers[STUDY_LAYER] = study_layer(results, study)
    facts = {
        "connectivity_version": __version__,
        "scenario": results.scenario.name,
        "scenario_title": results.scenario.title,
        "privacy_min_population": str(pub.min_population),
        "inputs_sha256": "; ".join(f"{p.name}={digest}" for p, digest in hashes.items()),
        "manifest": "run.json beside this file",
    }
    classes = map_classes(results, pub)
    extra_styles = None
    if study is not None:
        from connectivity.outputs.styles import STUDY_LAYER, study_style

        by_frequency = study.frequency is not None
        extra_styles = {STUDY_LAYER: study_style(study.years, by_frequency, language)}
    styles = layer_styles_table(list(layers), classes, language, extra=extra_styles)
    step(
        "connectivity.gpkg",
        lambda: write_geopackage(
            layers, folder / "connectivity.gpkg", styles=styles, metadata=facts
        ),
    )
    step("geoparquet", lambda: write_geoparquet(layers, folder / "geoparquet"))
    step(
        "selected_sites.csv",
        lambda: _csv(pub.selected, folder / "selected_sites.csv"),
    )
    step(
        "summary_by_locality.csv",
        lambda: _csv(pub.summary, folder / "summary_by_locality.csv"),
    )
    step(
        "map.html",
        lambda: webmap.build_map(results, language=language, published=pub).save(
            str(folder / "map.html")
        ),
    )
    step(
        "map.png",
        lambda: figures.write_overview_png(results, folder / "map.png", language=language),
    )
    step("atlas", lambda: figures.write_atlas(results, folder / "atlas", language=language))
    if study is not None:
        from connectivity.outputs.study import study_files, study_section, write_study_files

        step("study.csv", lambda: write_study_files(results, study, folder))
        if bar is not None:  # one step writes every study file
            bar.update(len(study_files(study)) - 1)
        study_html = study_section(study, folder, language)
    step(
        "report.html",
        lambda: report.write_report(
            results,
            folder / "report.html",
            summary=pub.summary,
            map_png=folder / "map.png",
            language=language,
            extra_html=study_html,
        ),
    )
    step("plan.kmz", lambda: write_kmz(results, pub, classes, folder / "plan.kmz"))
    step("tables.xlsx", lambda: write_workbook(results, pub, folder / "tables.xlsx"))
    for name, table in results.tables.items():
        step(f"{name}.csv", functools.partial(_csv, table, folder / f"{name}.csv"))
    if _writes_raster(results):
        step("signal_dbm.tif", lambda: _signal_raster(results, folder / "signal_dbm.tif"))
    step("run.json", lambda: write_manifest(results, folder, seconds, pub, hashes, study))
    if bar is not None:
        bar.close()


def output_files(results: Results, study: StudyResults | None = None) -> list[str]:
    """Names of the files a run writes (comparison tables only when the scenario makes them)."""
    extra = [f"{name}.csv" for name in results.tables]
    if _writes_raster(results):
        extra.append("signal_dbm.tif")
    if study is not None:
        from connectivity.outputs.study import study_files

        extra += study_files(study)
    return [*OUTPUT_FILES[:-1], *extra, OUTPUT_FILES[-1]]


def _writes_raster(results: Results) -> bool:
    return results.signal is not None


def _signal_raster(results: Results, path: Path) -> None:
    """Write the received-power raster the pipeline computed."""
    from connectivity.outputs.raster import write_power_raster

    signal = results.signal
    assert signal is not None
    write_power_raster(
        path, signal.grid, [(0, signal.power)], crs=results.scenario.territory.metric_crs
    )


def _mobile_dict(results: Results) -> dict[str, Any] | None:
    mob, cov = results.scenario.mobile, results.mobile
    if mob is None or cov is None:
        return None
    people = results.cells["population"].to_numpy()
    rural = results.rural_coverage
    q = cov.quality
    return {
        "existing_coverage_known": cov.known,
        "note": (
            "existing mobile coverage comes from the sources below"
            if cov.known
            else "existing mobile coverage is unknown in the data supplied (no transmitters and "
            "no measurements) and is counted as none"
        ),
        "terrain": "DEM used: paths without line of sight get knife-edge diffraction loss"
        if cov.terrain
        else "no DEM supplied: flat terrain assumed",
        "sources": cov.sources.to_dict(orient="records"),
        "people_with_good_mobile_coverage_before": round(float(people[q >= 1].sum()), 1),
        "people_with_basic_mobile_coverage_before": round(
            float(people[(q > 0) & (q < 1)].sum()), 1
        ),
        "rural_people": round(rural["people"], 1),
        "rural_people_covered_before": round(rural["covered_before"], 1),
        "rural_people_covered_after": round(rural["covered_after"], 1),
        "existing_transmitters": len(cov.transmitters),
        "calibration": {
            tech: {
                "exponent": round(c.exponent, 3),
                "intercept_db": round(c.intercept_db, 2),
                "rmse_db": round(c.rmse_db, 2),
                "samples": c.n_samples,
            }
            for tech, c in cov.calibrations.items()
        },
        "new_towers_chosen": int((results.selected["type"] == "torre_nueva").sum()),
    }


def _solution_dict(results: Results) -> dict[str, Any] | None:
    sol = results.solution
    if sol is None:
        return None
    return {
        "model": results.scenario.method.resolved_model,
        "method": sol.method,
        "status": sol.status,
        "objective": round(sol.objective, 3),
        "bound": round(sol.bound, 3) if sol.bound == sol.bound else None,
        "gap": round(sol.gap, 6) if sol.gap == sol.gap else None,
        "coverage_share": round(sol.coverage_share, 6),
        "total_cost": round(sol.total_cost, 3),
        "seconds": round(sol.seconds, 3),
        "cells_in_model_after_merging": sol.n_cells_model,
        "path": sol.path,
        "steps": list(sol.steps),
    }


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path)


def write_site_file(sites: gpd.GeoDataFrame, path: Path) -> None:
    """Write chosen sites to ``path`` (CSV with lon/lat, or GeoPackage/GeoJSON/GeoParquet).

    The file is written beside its destination and moved into place once complete.
    """
    path = Path(path).resolve()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".gpkg", ".geojson", ".parquet"):
        raise OutputError(f"{path}: use .csv, .gpkg, .geojson or .parquet")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; name a file")
    if not path.parent.is_dir():
        raise OutputError(f"{path.parent}: folder does not exist")
    with replaced_file(path) as tmp:
        if suffix == ".csv":
            lonlat = sites.geometry.to_crs("EPSG:4326")
            table = pd.DataFrame(sites.drop(columns="geometry"))
            table["lon"] = lonlat.x.round(7).to_numpy()
            table["lat"] = lonlat.y.round(7).to_numpy()
            write_csv(table, tmp)
        elif suffix == ".parquet":
            sites.to_parquet(tmp)
        else:
            driver = "GPKG" if suffix == ".gpkg" else "GeoJSON"
            sites.to_file(tmp, driver=driver, layer="selected_sites")


def write_geopackage(
    layers: dict[str, gpd.GeoDataFrame],
    path: Path,
    *,
    styles: pd.DataFrame | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write layers to one GeoPackage (each with its CRS), with QGIS styles and metadata.

    ``styles`` (:func:`connectivity.outputs.styles.layer_styles_table`) becomes the
    ``layer_styles`` table, a default QGIS style per layer; ``metadata`` (the run
    manifest's key facts) goes into the GeoPackage's dataset metadata. GDAL stamps each table
    with the current time; ``OGR_CURRENT_DATE`` pins it so that the same run gives the same file.
    """
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        for i, (name, layer) in enumerate(layers.items()):
            extra: dict[str, Any] = {}
            if i == 0:  # GeoPackage 1.2 opens without warnings in QGIS 3.22 and ArcGIS Pro
                extra = {"dataset_options": {"VERSION": "1.2"}}
                if metadata:
                    extra["dataset_metadata"] = metadata
            # through Arrow: the same tables, about a fifth faster for 666,000 cells of 25 m
            layer.to_file(
                path, layer=name, driver="GPKG", engine="pyogrio", use_arrow=True, **extra
            )
        if styles is not None:
            pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_geoparquet(layers: dict[str, gpd.GeoDataFrame], folder: Path) -> None:
    """Write each layer as ``<folder>/<layer>.parquet`` (GeoParquet, with its CRS)."""
    folder.mkdir()
    for name, layer in layers.items():
        layer.to_parquet(folder / f"{name}.parquet", index=False)


def installed_versions() -> dict[str, str]:
    """Return the installed version of each package connectivity requires (extras included).

    With ``make``, these are the versions of ``requirements.lock``.
    """
    from importlib import metadata

    from packaging.requirements import Requirement

    versions: dict[str, str] = {}
    for line in metadata.requires("connectivity") or []:
        name = Requirement(line).name
        if name == "connectivity":
            continue
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # an extra that is not installed
            continue
    return dict(sorted(versions.items()))


def write_manifest(
    results: Results,
    folder: Path,
    output_seconds: dict[str, float],
    pub: Published,
    hashes: dict[Path, str],
    study: StudyResults | None = None,
) -> None:
    """Write ``run.json``: version, scenario, input checksums, counts, timings, outputs."""
    s = results.scenario
    inputs = [
        {"path": str(p), "bytes": p.stat().st_size, "sha256": hashes[p]}
        for p in results.input_files
    ]
    manifest: dict[str, Any] = {
        "format": RUN_FORMAT,
        "connectivity_version": __version__,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenario_file": str(s.source) if s.source else None,
        "scenario_sha256": file_sha256(s.source) if s.source and s.source.exists() else None,
        "scenario": s.to_dict(),
        "inputs": inputs,
        "cleaning": [
            {
                "layer": r.role,
                "path": r.path,
                "rows_read": r.rows_read,
                "rows_kept": r.rows_kept,
                "cleaned": r.cleaned,
            }
            for r in results.load_reports
        ],
        "counts": results.counts,
        "stage_seconds": results.stage_seconds,
        "output_seconds": output_seconds,
        "summary": {k: round(v, 3) for k, v in results.summary.items()},
        "solution": _solution_dict(results),
        "mobile": _mobile_dict(results),
        "privacy": {
            "rule": f"no published figure gives a count of between 0 and {pub.min_population} "
            "people, directly or by subtracting published parts from a published total: such "
            "counts, every column that would give them back, and enough further parts in each "
            "total (at least two hidden parts with people, together at least the threshold) "
            "are left empty; rows keep their geometry and have suppressed = true",
            "min_population": pub.min_population,
            "rows_suppressed": pub.suppressed,
            "personal_data": "none read or written: inputs are aggregates (census sectors, "
            "public sites)",
        },
        "outputs": output_files(results, study),
        "files": sorted([*folder_files(folder), "run.json"]),
        "missing_values": [m.to_dict() for m in results.missing_values],
        "discretisation": results.discretisation,
        "study": None
        if study is None
        else {
            "kinds": study.spec.kinds,
            "plans": len(study.table()),
            "files": ["study.csv", "study.json"],
            "engine": study.engine.to_dict() if study.engine else None,
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": installed_versions(),
        },
    }
    (folder / "run.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
