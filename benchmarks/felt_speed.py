"""Speed where planners feel it (writes benchmarks/felt_speed.md).

Whole processes, as a user starts them, each measured in its own process:

1. ``connectivity --help`` and ``connectivity optimise --help``;
2. ``connectivity optimise`` on 2,000 demand points x 1,000 candidates, 800 m, k = 50 (the
   benchmark's generator, written to CSV), exact and greedy, against a script that does the
   same with spopt + CBC (read the CSVs, dense distance matrix, ``MCLP``, write the plan),
   interleaved, three times each;
3. greedy at city scale (40,000 x 10,000, k = 200, at 300, 500 and 800 m), with the default
   time limit and with ``--time-limit 3``, against the exact method's plan at 60 s;
4. the demo (``connectivity run`` on the default scenario): wall time and each stage;
5. the default scenario with finer cell grids: each stage's seconds against the number of
   cells, analysis points and coverage pairs, and peak memory.

    python3 -m venv /tmp/sp && /tmp/sp/bin/pip install spopt pulp   # the spopt rows only
    .venv/bin/python benchmarks/felt_speed.py --spopt-python /tmp/sp/bin/python \\
        [--skip-city] [--skip-grids]

About 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
from bench_mclp import make_instance  # noqa: E402

SEED = 20261127
ORIGIN_9377 = np.array([4_870_000.0, 2_050_000.0])  # metres: the generator's city over Bogotá
SCENARIO = REPO / "scenarios" / "bogota_public_wifi.yaml"

_SPOPT = r"""
import sys
import pandas as pd, pulp
from scipy.spatial.distance import cdist
from spopt.locate import MCLP
d = pd.read_csv(sys.argv[1]); s = pd.read_csv(sys.argv[2])
cost = cdist(d[["x", "y"]].to_numpy(), s[["x", "y"]].to_numpy())
import time
start = time.perf_counter()
model = MCLP.from_cost_matrix(cost, d["w"].to_numpy(), service_radius=float(sys.argv[3]),
                              p_facilities=int(sys.argv[4]))
model = model.solve(pulp.PULP_CBC_CMD(msg=False))
solve_s = time.perf_counter() - start
chosen = [i for i, v in enumerate(model.fac_vars) if v.value() and v.value() > 0.5]
s.iloc[chosen].to_csv(sys.argv[5], index=False)
covered = sum(d["w"].iloc[i] for i, f in enumerate(model.cli2fac) if f)
import json
print(json.dumps({"objective": covered, "solve_seconds": solve_s}))
"""

_CITY = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from bench_mclp import make_instance, engine_frames
import highspy  # noqa: F401  (imported before the clock, as in bench_mclp)
from connectivity.optimise import MaximalCovering
n, m, k, r, method, limit = 40_000, 10_000, 200, float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
d, w, s = make_instance(n, m, int(sys.argv[5]))
d, s = engine_frames(d, w, s)
start = time.perf_counter()
model = MaximalCovering.from_geodataframe(d, s, "w", r, k)
built = time.perf_counter()
model.solve(method, time_limit_s=limit, mip_gap=1e-4)
end = time.perf_counter()
sol = model.solution
print(json.dumps({"objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
                  "build_s": built - start, "solve_s": end - built, "steps": list(sol.steps),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_GRID = r"""
import dataclasses, json, resource, sys, tempfile, time
from pathlib import Path
from connectivity import load_scenario, run_scenario
from connectivity.outputs import write_outputs
scenario = load_scenario(sys.argv[1])
scenario = dataclasses.replace(
    scenario, demand=dataclasses.replace(scenario.demand, cell_size_m=float(sys.argv[2])))
start = time.perf_counter()
results = run_scenario(scenario, max_memory_bytes=20 * 2**30)
computed = time.perf_counter()
out = Path(tempfile.mkdtemp()) / "out"
write_outputs(results, out)
end = time.perf_counter()
run = json.loads((out / "run.json").read_text())
print(json.dumps({"cells": len(results.cells), "points": len(results.points),
                  "pairs": results.counts["coverage_pairs"], "stages": run["stage_seconds"],
                  "outputs": run["output_seconds"], "compute_s": computed - start,
                  "write_s": end - computed,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _wall(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)[:200]}\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def _peak_wall(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of a whole process, by GNU time."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as report:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name, *cmd],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - start
        peak_mb = int(Path(report.name).read_text().split()[-1]) / 1024
    return seconds, peak_mb, proc.stdout


def help_rows() -> list[tuple[str, float]]:
    rows = []
    for args in (["--help"], ["optimise", "--help"], ["run", "--help"]):
        times = [_wall([str(BIN / "connectivity"), *args])[0] for _ in range(7)]
        rows.append((f"connectivity {' '.join(args)}", statistics.median(times)))
    return rows


def optimise_rows(folder: Path, spopt_python: str) -> dict[str, list[float]]:
    """Whole processes (wall, peak MB) and their solve-only seconds, interleaved, three each."""
    demand, weights, sites = make_instance(2_000, 1_000, SEED)
    # moved to where EPSG:9377 is used (Bogotá), which the CLI checks
    demand, sites = demand + ORIGIN_9377, sites + ORIGIN_9377
    d, s = folder / "demand.csv", folder / "sites.csv"
    np.savetxt(d, np.column_stack([demand, weights]), delimiter=",", header="x,y,w", comments="")
    ids = np.arange(len(sites))
    with s.open("w") as f:
        f.write("id,x,y\n")
        for i, (x, y) in zip(ids, sites, strict=True):
            f.write(f"s{i},{float(x)!r},{float(y)!r}\n")
    times: dict[str, list[float]] = {}
    objectives: dict[str, float] = {}
    for _ in range(3):
        for method in ("exact", "greedy"):
            cmd = [
                str(BIN / "connectivity"),
                "optimise",
                "--demand",
                str(d),
                "--candidates",
                str(s),
                "--radius-m",
                "800",
                "--sites",
                "50",
                "--weight-column",
                "w",
                "--crs",
                "EPSG:9377",
                "--method",
                method,
                "--out",
                str(folder / f"{method}.csv"),
                "--json",
            ]
            seconds, peak, out = _peak_wall(cmd)
            row = json.loads(out.strip().splitlines()[-1])
            times.setdefault(method, []).append(seconds)
            times.setdefault(f"{method}_solve", []).append(float(row["solve_seconds"]))
            times.setdefault(f"{method}_peak", []).append(peak)
            objectives[method] = row["objective"]
        try:
            seconds, peak, out = _peak_wall(
                [spopt_python, "-c", _SPOPT, str(d), str(s), "800", "50", str(folder / "sp.csv")]
            )
        except subprocess.CalledProcessError as error:
            if "No module named" not in str(error.stderr):
                raise
            continue  # spopt not installed
        row = json.loads(out.strip().splitlines()[-1])
        times.setdefault("spopt", []).append(seconds)
        times.setdefault("spopt_solve", []).append(float(row["solve_seconds"]))
        times.setdefault("spopt_peak", []).append(peak)
        objectives["spopt"] = float(row["objective"])
    times["objectives"] = [objectives.get(k, float("nan")) for k in ("exact", "greedy", "spopt")]
    return times


def city_rows() -> list[dict[str, object]]:
    rows = []
    for radius in (300, 500, 800):
        for method, limit in (("exact", 60.0), ("greedy", 60.0), ("greedy", 3.0)):
            _, out = _wall(
                [sys.executable, "-c", _CITY, str(HERE), str(radius), method, str(limit), str(SEED)]
            )
            row = json.loads(out.strip().splitlines()[-1])
            row.update({"radius": radius, "method": method, "limit": limit})
            rows.append(row)
            print(row, file=sys.stderr)
    return rows


def demo_row(folder: Path, repeats: int = 3) -> dict[str, object]:
    """The demo as ``make demo`` runs it, ``repeats`` times: the median run's figures."""
    runs = []
    for i in range(repeats):
        out = folder / f"demo{i}"
        seconds, peak, _ = _peak_wall(
            [str(BIN / "connectivity"), "run", str(SCENARIO), "--out", str(out), "-q"]
        )
        run = json.loads((out / "run.json").read_text())
        runs.append(
            {
                "seconds": seconds,
                "peak_mb": peak,
                "stages": run["stage_seconds"],
                "outputs": run["output_seconds"],
            }
        )
    runs.sort(key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    median = runs[len(runs) // 2]
    median["all_seconds"] = [r["seconds"] for r in runs]
    return median


def grid_rows(sizes: list[float]) -> list[dict[str, object]]:
    rows = []
    for size in sizes:
        seconds, peak, out = _peak_wall([sys.executable, "-c", _GRID, str(SCENARIO), str(size)])
        row = json.loads(out.strip().splitlines()[-1])
        row.update({"cell_m": size, "seconds": seconds, "process_peak_mb": peak})
        rows.append(row)
        print({k: row[k] for k in ("cell_m", "cells", "points", "seconds")}, file=sys.stderr)
    return rows


def _n(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def write_table(
    path: Path,
    helps: list[tuple[str, float]],
    opt: dict[str, list[float]],
    city: list[dict[str, object]],
    demo: dict[str, object],
    grids: list[dict[str, object]],
) -> None:
    from importlib.metadata import version

    lines = [
        "# Speed where planners feel it",
        "",
        f"`benchmarks/felt_speed.py`, run {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
        f"2 CPUs, Python {platform.python_version()}, highspy {version('highspy')}, SciPy "
        f"{version('scipy')}, NumPy {version('numpy')}, geopandas {version('geopandas')}, "
        f"matplotlib {version('matplotlib')}; spopt 0.7.0 and PuLP 3.3.2 (CBC bundled) in a "
        "venv of their own. Whole processes as a user starts them; "
        "medians where repeated. Other work may run on the machine: single timings can be "
        "tens of per cent off.",
        "",
        "## Start-up",
        "",
        "| command | wall s (median of 7) |",
        "|---|---|",
        *[f"| `{c}` | {s:.2f} |" for c, s in helps],
        "",
    ]
    sp, sp_solve = opt.get("spopt", []), opt.get("spopt_solve", [])
    lines += [
        "## `connectivity optimise` against spopt + CBC",
        "",
        "2,000 demand points x 1,000 candidates, 800 m, k = 50 (seed "
        f"{SEED}); three interleaved runs each. Whole process: reading the CSVs, building, "
        "solving, writing the plan (imports included); solve only: from the arrays to the plan "
        "(spopt: the dense distance matrix to `MCLP.solve` with CBC). Peak: the whole "
        "process's resident memory (CBC's own process not included).",
        "",
        "| engine | whole process s, runs | median s | spopt / this | solve s (median) "
        "| spopt / this, solve | peak MB | objective |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, name in enumerate(("exact", "greedy", "spopt")):
        ts = opt.get(name, [])
        if not ts:
            lines.append(f"| {name} | not run (spopt not installed) | – | – | – | – | – | – |")
            continue
        solve = statistics.median(opt[f"{name}_solve"])
        ratio = statistics.median(sp) / statistics.median(ts) if sp else float("nan")
        ratio_solve = statistics.median(sp_solve) / solve if sp_solve else float("nan")
        lines.append(
            f"| {name} | {', '.join(f'{t:.2f}' for t in ts)} | {statistics.median(ts):.2f} | "
            f"{ratio:.1f}× | {solve:.2f} | {ratio_solve:.0f}× | "
            f"{statistics.median(opt[f'{name}_peak']):.0f} | {_n(opt['objectives'][i], 1)} |"
        )
    if city:
        lines += [
            "",
            "## City scale: 40,000 x 10,000, k = 200",
            "",
            "Solve seconds exclude building the coverage matrix (given separately). 'of exact' "
            "is the plan's objective over the exact method's plan at 60 s at the same radius.",
            "",
            "| radius m | method | time limit s | build s | solve s | objective | gap to its bound "
            "| of exact | peak MB | steps |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        exact = {r["radius"]: r["objective"] for r in city if r["method"] == "exact"}
        for r in city:
            share = float(r["objective"]) / float(exact[r["radius"]])  # type: ignore[arg-type]
            lines.append(
                f"| {r['radius']} | {r['method']} | {r['limit']:g} | {r['build_s']:.2f} | "
                f"{r['solve_s']:.2f} | {_n(r['objective'], 0)} | "  # type: ignore[arg-type]
                f"{100 * float(r['gap']):.2f}% | {share:.4f} | "  # type: ignore[arg-type]
                f"{r['peak_mb']:.0f} | {', '.join(r['steps'])} |"  # type: ignore[arg-type]
            )
    stages = demo["stages"] | demo["outputs"]  # type: ignore[operator]
    lines += [
        "",
        "## The demo: `connectivity run scenarios/bogota_public_wifi.yaml`",
        "",
        f"Whole process: {demo['seconds']:.1f} s (median of "
        f"{', '.join(f'{t:.1f}' for t in demo['all_seconds'])} s), "  # type: ignore[attr-defined]
        f"peak {demo['peak_mb']:.0f} MB; the stages of the median run:",
        "",
        "| stage | s |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in stages.items()],
    ]
    if grids:
        names = list(grids[0]["stages"])  # type: ignore[arg-type]
        lines += [
            "",
            "## Finer grids: the default scenario at smaller cells",
            "",
            "Each stage's seconds against the cells, analysis points and coverage pairs "
            "(analysis points are at most a quarter of the 80 m radius apart, finer where the "
            "cells are). Whole process includes imports and every output.",
            "",
            "| cell m | cells | points | pairs | " + " | ".join(names) + " | compute s "
            "| outputs s | whole process s | peak MB |",
            "|---|---|---|---|" + "---|" * len(names) + "---|---|---|---|",
        ]
        for g in grids:
            st = g["stages"]
            lines.append(
                f"| {g['cell_m']:g} | {g['cells']:,} | {g['points']:,} | {g['pairs']:,} | "
                + " | ".join(f"{st[n]:.2f}" for n in names)  # type: ignore[index]
                + f" | {g['compute_s']:.1f} | {g['write_s']:.1f} | {g['seconds']:.1f} | "
                f"{g['process_peak_mb']:.0f} |"
            )
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--skip-grids", action="store_true")
    parser.add_argument("--grids", default="100,50,25", help="cell sizes in metres")
    parser.add_argument("--out", default=str(HERE / "felt_speed.md"))
    parser.add_argument(
        "--spopt-python",
        default=sys.executable,
        help="a Python with spopt and pulp installed (default: this one)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        helps = help_rows()
        print(helps, file=sys.stderr)
        opt = optimise_rows(folder, args.spopt_python)
        print(opt, file=sys.stderr)
        demo = demo_row(folder)
        print(demo, file=sys.stderr)
        city = [] if args.skip_city else city_rows()
        sizes = [float(x) for x in args.grids.split(",")]
        grids = [] if args.skip_grids else grid_rows(sizes)
    write_table(Path(args.out), helps, opt, city, demo, grids)


if __name__ == "__main__":
    main()
