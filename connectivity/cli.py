"""Command line: ``connectivity run|validate|study``, ``optimise``, ``compare``, ``export``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectivity._version import __version__
from connectivity.errors import ConnectivityError, LayerError

logger = logging.getLogger("connectivity")


def _configure_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("connectivity")
    root.handlers[:] = [h for h in root.handlers if isinstance(h, logging.NullHandler)]
    root.addHandler(handler)
    root.setLevel(level)


def _progress_factory(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    def make(label: str, total: int) -> Any:
        return tqdm(total=total, desc=label, unit="step", leave=False, file=sys.stderr)

    return make


def _memory_limit(args: argparse.Namespace) -> int | None:
    gb = getattr(args, "max_memory_gb", None)
    if gb is None:
        return None
    if not gb > 0:
        raise ConnectivityError(f"--max-memory-gb: must be above 0, got {gb}")
    return int(gb * 2**30)


def _cmd_validate(args: argparse.Namespace) -> int:
    from connectivity.loading import load_scenario
    from connectivity.pipeline import estimate_workload
    from connectivity.workload import check_workload, default_memory_limit_bytes

    scenario = load_scenario(args.scenario)
    work, settings = estimate_workload(scenario)
    limit = _memory_limit(args) or default_memory_limit_bytes()
    check_workload(work, limit, settings=settings)
    print(
        f"{args.scenario}: OK — scenario '{scenario.name}', outputs to {scenario.output_dir}; "
        f"estimated work: {work.describe()} (limit {limit / 2**30:.1f} GB)"
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from connectivity.loading import load_scenario
    from connectivity.runner import run_to_folder

    start = time.perf_counter()
    scenario = load_scenario(args.scenario)
    out_dir = Path(args.out).resolve() if args.out else scenario.output_dir
    results = run_to_folder(
        scenario,
        out_dir,
        strict=args.strict,
        progress=_progress_factory(args.verbose >= 0 and sys.stderr.isatty()),
        max_memory_bytes=_memory_limit(args),
    )
    s = results.summary
    print(
        f"{scenario.name}: {results.counts['demand_cells']} demand cells, "
        f"{results.counts['candidates']} candidates, {len(results.selected)} sites chosen; "
        f"people covered {s['pct_people_covered_before']:.2f}% → "
        f"{s['pct_people_covered_after']:.2f}%, priority-weighted demand "
        f"{s['pct_weight_covered_before']:.2f}% → {s['pct_weight_covered_after']:.2f}% "
        f"({time.perf_counter() - start:.1f} s). Outputs: {out_dir}"
    )
    if results.mobile is not None:
        r = results.rural_coverage
        known = (
            "" if results.mobile.known else "; existing mobile coverage unknown (counted as none)"
        )
        print(
            f"rural land: {r['people']:,.0f} people, covered {r['covered_before']:,.0f} → "
            f"{r['covered_after']:,.0f}{known}"
        )
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from connectivity.loading import load_scenario
    from connectivity.runner import study_to_folder

    start = time.perf_counter()
    if args.workers is not None and args.workers < 1:
        raise ConnectivityError(f"--workers: at least 1, got {args.workers}")
    scenario = load_scenario(args.scenario)
    out_dir = Path(args.out).resolve() if args.out else scenario.output_dir
    _, study = study_to_folder(
        scenario,
        out_dir,
        workers=args.workers,
        scheduler=args.scheduler,
        strict=args.strict,
        progress=_progress_factory(args.verbose >= 0 and sys.stderr.isatty()),
        max_memory_bytes=_memory_limit(args),
    )
    table = study.table()
    kinds = ", ".join(f"{k} ({int((table['kind'] == k).sum())})" for k in study.spec.kinds)
    engine = study.engine
    workers = f" on {engine.workers} Dask workers" if engine else ""
    print(
        f"{scenario.name}: study of {len(table)} plans{workers}: {kinds} "
        f"({time.perf_counter() - start:.1f} s). Outputs: {out_dir} (study.csv, study.json, "
        "report.html)"
    )
    return 0


def _cmd_optimise(args: argparse.Namespace) -> int:
    import json

    from connectivity import coverage, optimise, workload
    from connectivity.layers import read_points
    from connectivity.outputs import write_site_file
    from connectivity.scenario import resolve_model

    start = time.perf_counter()
    demand, demand_report = read_points(Path(args.demand), role="--demand", crs=args.crs)
    metric = demand.crs
    sites, sites_report = read_points(
        Path(args.candidates), role="--candidates", crs=args.crs, metric_crs=metric.to_string()
    )
    for frame, flag, column in (
        (demand, "--weight-column", args.weight_column),
        (sites, "--cost-column", args.cost_column),
        (sites, "--id-column", args.id_column),
    ):
        if column is not None and column not in frame.columns:
            raise LayerError(
                f"{flag}: column '{column}' not found. Columns there: "
                f"{', '.join(c for c in frame.columns if c != 'geometry')}"
            )
    _check_unique_ids(sites, args, sites_report.file_rows)
    if args.weight_column:
        demand["__w"] = _column_values(
            demand, args.weight_column, Path(args.demand), "--demand", demand_report.file_rows
        )
    else:
        demand["__w"] = 1.0
    if args.budget is not None and args.cost_column is None:
        raise LayerError("--budget needs --cost-column (the cost of each candidate)")
    if args.cost_column:
        sites["__c"] = _column_values(
            sites, args.cost_column, Path(args.candidates), "--candidates", sites_report.file_rows
        )
    model_name = resolve_model(budget=args.budget, target=args.target_coverage)
    if args.sites is not None and args.sites > len(sites):
        raise LayerError(f"--sites {args.sites} is more than the {len(sites)} candidates")
    xy = {
        name: frame.geometry.get_coordinates().to_numpy()
        for name, frame in (("d", demand), ("s", sites))
    }
    pairs = coverage.estimate_pairs(xy["s"], xy["d"], args.radius_m) if args.radius_m > 0 else 0
    workload.check_workload(
        workload.Workload(points=len(demand), pairs=pairs),
        _memory_limit(args) or workload.default_memory_limit_bytes(),
        settings=f"--radius-m (now {args.radius_m:g} m)",
    )
    model = optimise.build_model(
        model_name,
        optimise.quality_from_geodataframes(demand, sites, args.radius_m),
        demand["__w"].to_numpy(dtype=float),
        k=args.sites,
        budget=args.budget,
        target_share=args.target_coverage,
        costs=sites["__c"].to_numpy(dtype=float) if args.cost_column else None,
    )
    model.solve(args.method, time_limit_s=args.time_limit, mip_gap=args.mip_gap)
    sol = model.solution
    assert sol is not None
    chosen = sites.iloc[sol.ranking.sites].drop(columns=["__c"], errors="ignore").copy()
    chosen.insert(0, "rank", range(1, len(chosen) + 1))
    chosen.insert(1, "gain", sol.ranking.gains.round(6))
    write_site_file(chosen, Path(args.out))
    summary = {
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "coverage_share": sol.coverage_share,
        "n_selected": len(sol.ranking.sites),
        "total_cost": sol.total_cost,
        "method": sol.method,
        "model": model_name,
        "status": sol.status,
        "seconds": round(time.perf_counter() - start, 3),
        "solve_seconds": round(sol.seconds, 3),
    }
    if args.json:
        print(
            json.dumps(
                {k: (None if isinstance(v, float) and v != v else v) for k, v in summary.items()}
            )
        )
    else:
        print(
            f"{len(sol.ranking.sites)} sites, coverage {100 * sol.coverage_share:.2f}% of "
            f"demand weight, gap {100 * sol.gap:.3f}% ({summary['seconds']} s) → {args.out}"
        )
    return 0


def _check_unique_ids(sites: Any, args: argparse.Namespace, rows: Any) -> None:
    """Refuse candidates whose id column repeats a value, naming the rows of the file."""
    column = args.id_column or next((c for c in ("site_id", "id") if c in sites.columns), None)
    if column is None:
        return
    ids = sites[column].astype("string").str.strip()
    repeated = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if repeated.any():
        first = ids[repeated].iloc[0]
        where = ", ".join(str(int(r)) for r in rows[repeated][:6])
        raise LayerError(
            f"{args.candidates} (--candidates): the id column '{column}' repeats ids (rows "
            f"{where}, counted from 1 after the header; first {str(first)[:40]!r}); give each "
            "candidate its own id"
        )


def _column_values(frame: Any, column: str, path: Path, role: str, rows: Any) -> Any:
    """Read a weight or cost column: numbers, finite and not negative, or a named error."""
    import numpy as np

    from connectivity.columns import to_number

    values = to_number(frame[column], path=path, role=role, rows=rows).to_numpy(dtype=float)
    for bad, what in (
        (np.isnan(values), "blank"),
        (~np.isnan(values) & ~np.isfinite(values), "not finite"),
        (np.isfinite(values) & (values < 0), "negative"),
    ):
        if bad.any():
            where = ", ".join(str(int(r)) for r in rows[bad][:5])
            raise LayerError(
                f"{path} ({role}): column '{column}' has values that are {what} (rows {where}, "
                f"counted from 1 after the header; first {values[bad][0]!r}); weights and "
                "costs must be numbers of 0 or more"
            )
    return values


def _cmd_compare(args: argparse.Namespace) -> int:
    from connectivity.compare import write_comparison

    a, b = Path(args.a), Path(args.b)
    out = Path(args.out) if args.out else a.parent / f"compare_{a.name}_vs_{b.name}"
    write_comparison(a, b, out)
    print(f"comparison of {a} and {b} written to {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    import os

    from connectivity.outputs.postgis import export_to_postgis

    url = args.postgis or os.environ.get("CONNECTIVITY_POSTGIS_URL")
    if not url:
        raise ConnectivityError(
            "export: give --postgis URL (or set CONNECTIVITY_POSTGIS_URL, which keeps a "
            "password out of the shell history)"
        )
    report = export_to_postgis(Path(args.folder), url, schema=args.schema, replace=args.replace)
    print(
        f"{args.folder}: {len(report.rows)} tables ({sum(report.rows.values())} rows) and "
        f"{report.styles} QGIS styles written to schema '{report.schema}'"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``connectivity`` command."""
    parser = argparse.ArgumentParser(
        prog="connectivity",
        description="Plan public Wi-Fi and telecom infrastructure so that nobody is left offline.",
    )
    parser.add_argument("--version", action="version", version=f"connectivity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def verbosity(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=0,
            help="more log lines; shows tracebacks on errors",
        )
        p.add_argument(
            "-q",
            "--quiet",
            dest="verbose",
            action="store_const",
            const=-1,
            help="only warnings and errors",
        )

    def memory(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--max-memory-gb",
            type=float,
            dest="max_memory_gb",
            metavar="GB",
            help="refuse a run whose estimated memory is above this (default: half of this "
            "machine's memory, or $CONNECTIVITY_MAX_MEMORY_GB)",
        )

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", help="scenario file (YAML)")
        verbosity(p)

    def written(p: argparse.ArgumentParser) -> None:  # a run written into a folder
        p.add_argument("--out", help="output folder (default: <output.folder>/<scenario name>)")
        p.add_argument(
            "--strict",
            action="store_true",
            help="treat warnings about input rows left out or values filled in as errors",
        )
        memory(p)

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    common(run)
    written(run)
    run.set_defaults(func=_cmd_run)
    study = sub.add_parser(
        "study",
        help="run a scenario's study: many plans at once on Dask",
        description="Run the scenario's plan and the plans of its study: section (budget "
        "curve, phases, equity frontier, robustness, territories) on a Dask cluster, and write "
        "both into one folder.",
    )
    common(study)
    where = study.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of a local Dask cluster (default: one per core)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (start it with "
        "`dask scheduler`, and workers with `dask worker ADDRESS`)",
    )
    written(study)
    study.set_defaults(func=_cmd_study)
    validate = sub.add_parser("validate", help="check a scenario without running it")
    common(validate)
    memory(validate)
    validate.set_defaults(func=_cmd_validate)
    cmp_ = sub.add_parser("compare", help="compare two output folders side by side")
    cmp_.add_argument("a", help="first output folder, e.g. maps/bogota_public_wifi")
    cmp_.add_argument("b", help="second output folder, e.g. maps/bogota_equitable")
    cmp_.add_argument("--out", help="folder for the comparison (default: beside A)")
    verbosity(cmp_)
    cmp_.set_defaults(func=_cmd_compare)
    exp = sub.add_parser(
        "export",
        help="write a finished run's layers to PostGIS",
        description="Write every layer of an output folder to PostGIS, with spatial indexes "
        "and QGIS styles, in one transaction.",
    )
    exp.add_argument("folder", help="output folder of a run, e.g. maps/bogota_public_wifi")
    exp.add_argument(
        "--postgis",
        metavar="URL",
        help="database URL, e.g. postgresql://user@host:5432/db "
        "(default: $CONNECTIVITY_POSTGIS_URL)",
    )
    exp.add_argument("--schema", help="schema for the tables (default: the folder's name)")
    exp.add_argument("--replace", action="store_true", help="overwrite tables of the same names")
    verbosity(exp)
    exp.set_defaults(func=_cmd_export)
    opt = sub.add_parser(
        "optimise",
        help="choose sites on your own demand and candidate layers",
        description="Bring-your-own-layers site selection. FILE is a CSV (x,y in metres with "
        "--crs, or lon,lat) or any vector file of points.",
    )
    opt.add_argument("--demand", required=True, metavar="FILE")
    opt.add_argument("--candidates", required=True, metavar="FILE")
    opt.add_argument("--radius-m", required=True, type=float, dest="radius_m")
    goal = opt.add_mutually_exclusive_group(required=True)
    goal.add_argument("--sites", type=int, help="choose this many sites (maximal covering)")
    goal.add_argument("--budget", type=float, help="total budget (needs --cost-column)")
    goal.add_argument(
        "--target-coverage",
        type=float,
        dest="target_coverage",
        help="least cost reaching this share (0-1) of demand (set covering)",
    )
    opt.add_argument("--cost-column", dest="cost_column")
    opt.add_argument(
        "--id-column",
        dest="id_column",
        help="candidate id column, checked for repeats (default: site_id or id, if present)",
    )
    opt.add_argument("--weight-column", dest="weight_column")
    opt.add_argument("--method", choices=["greedy", "exact"], default="greedy")
    opt.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        dest="time_limit",
        metavar="S",
        help="time limit in seconds for either method (default 60): the exact search, or "
        "greedy's local search, stops there with its best plan and a proven bound (a large "
        "model can end a second or two late, and later under limits shorter than its greedy "
        "start takes)",
    )
    opt.add_argument("--mip-gap", type=float, default=1e-4, dest="mip_gap")
    opt.add_argument("--crs", help="CRS of x,y columns, e.g. EPSG:9377")
    opt.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="chosen sites: .csv, .gpkg, .geojson or .parquet",
    )
    opt.add_argument("--json", action="store_true", help="print one JSON object")
    memory(opt)
    verbosity(opt)
    opt.set_defaults(func=_cmd_optimise)
    return parser


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like any failure, so that nothing half-written is left."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``connectivity`` command; returns the exit status."""
    import signal

    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args))
    except ConnectivityError as exc:
        if args.verbose > 0:
            logger.exception("failed")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; earlier outputs are unchanged", file=sys.stderr)
        return 130
    except _Terminated:
        print("terminated (SIGTERM); earlier outputs are unchanged", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
