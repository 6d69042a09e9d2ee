"""Command line: ``connectivity run|validate SCENARIO``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectivity._version import __version__
from connectivity.errors import ConnectivityError

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


def _cmd_validate(args: argparse.Namespace) -> int:
    from connectivity.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    print(f"{args.scenario}: OK — scenario '{scenario.name}', outputs to {scenario.output_dir}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from connectivity.pipeline import run_scenario
    from connectivity.scenario import load_scenario

    start = time.perf_counter()
    scenario = load_scenario(args.scenario)
    out_dir = Path(args.out).resolve() if args.out else scenario.output_dir
    results = run_scenario(
        scenario,
        out_dir=out_dir,
        progress=_progress_factory(args.verbose >= 0 and sys.stderr.isatty()),
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
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``connectivity`` command."""
    parser = argparse.ArgumentParser(
        prog="connectivity",
        description="Plan public Wi-Fi and telecom infrastructure so that nobody is left offline.",
    )
    parser.add_argument("--version", action="version", version=f"connectivity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", help="scenario file (YAML)")
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

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    common(run)
    run.add_argument("--out", help="output folder (default: <output.folder>/<scenario name>)")
    run.set_defaults(func=_cmd_run)
    validate = sub.add_parser("validate", help="check a scenario without running it")
    common(validate)
    validate.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``connectivity`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
