"""Grid convergence and run size on the shipped scenarios (writes benchmarks/convergence.md).

For each scenario, the plan is chosen and judged on analysis points of the default spacing, of
half of it, and (for contrast) on one point per published cell, as coverage was judged before
analysis points existed. Reported: people newly covered by each plan, the run's own check on
points twice as fine, the share of chosen sites within 15 m of a corner of the 100 m grid
against the candidates' share, seconds, peak memory, and the memory the workload estimate
predicted (:mod:`connectivity.workload`).

Each run is a separate process, so that peak memory is the run's own.

    python benchmarks/convergence.py [scenario.yaml ...]
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = [
    "scenarios/bogota_public_wifi.yaml",
    "scenarios/bogota_equitable.yaml",
    "scenarios/usaquen_walking.yaml",
    "scenarios/medellin_public_wifi.yaml",
    "scenarios/bogota_rural_towers.yaml",
]

_CHILD = r"""
import dataclasses, json, resource, sys, time
from connectivity import load_scenario, run_scenario
from connectivity.grid import analysis_subdivisions
from connectivity.pipeline import point_radii, estimate_workload
scenario = load_scenario(sys.argv[1])
factor = sys.argv[2]
d = scenario.demand
s = analysis_subdivisions(d.cell_size_m, point_radii(scenario), d.analysis_cell_size_m)
by = {"default": s, "half": 2 * s, "cell": 1}
spacing = d.cell_size_m / by[factor]
demand = dataclasses.replace(d, analysis_cell_size_m=spacing)
scenario = dataclasses.replace(scenario, demand=demand)
work, _ = estimate_workload(scenario)
start = time.perf_counter()
r = run_scenario(scenario)
seconds = time.perf_counter() - start
c = r.cells
print(json.dumps({
    "spacing_m": spacing,
    "points": len(r.points),
    "pairs": r.counts["coverage_pairs"],
    "newly_covered": float(c["people_covered_after"].sum() - c["people_covered_before"].sum()),
    "check": r.discretisation,
    "seconds": round(seconds, 2),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "estimate_mb": work.bytes / 2**20,
    "objective": r.solution.objective,
}))
"""


def measure(scenario: str, factor: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO / scenario), factor],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    scenarios = argv or DEFAULT
    rows = []
    for scenario in scenarios:
        runs = {f: measure(scenario, f) for f in ("default", "half", "cell")}
        base = runs["default"]["newly_covered"]
        for factor, r in runs.items():
            check = r["check"]
            change = 100 * (r["newly_covered"] - base) / base if base else 0.0
            rows.append(
                f"| {Path(scenario).stem} | {factor} | {r['spacing_m']:g} | {r['points']:,} | "
                f"{r['pairs']:,} | {r['newly_covered']:,.0f} | {change:+.2f} % | "
                f"{check.get('relative_change_pct', 0.0):+.2f} % | "
                f"{check['pct_chosen_sites_near_grid_corner']:.1f} % / "
                f"{check['pct_candidates_near_grid_corner']:.1f} % | {r['seconds']:.1f} | "
                f"{r['peak_mb']:,.0f} | {r['estimate_mb']:,.0f} |"
            )
            print(rows[-1], flush=True)
    head = (
        "| scenario | points | spacing (m) | analysis points | coverage pairs | people newly "
        "covered | against default | run's own check on points twice as fine | chosen / "
        "candidate sites near a grid corner | seconds (run, no outputs) | peak MB | "
        "estimated MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    text = (
        "# Grid convergence and run size\n\n"
        f"`python benchmarks/convergence.py`, {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, Python {platform.python_version()}, one process per run. "
        "*default*: the automatic analysis spacing; *half*: half of it; *cell*: one point per "
        "published cell (coverage judged at cell centres, as before analysis points). Each "
        "row's plan is chosen on its own points. *Against default*: people newly covered "
        "against the default row. *Run's own check*: what the run reports in `run.json` "
        "(`discretisation.relative_change_pct`): its plan judged again on points twice as "
        "fine. Near a grid corner: within 15 % of the cell size of a corner of the published "
        "grid (15 m of a 100 m grid; 7.1 % of the plane is).\n\n"
        + head
        + "\n"
        + "\n".join(rows)
        + "\n"
    )
    (REPO / "benchmarks" / "convergence.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
