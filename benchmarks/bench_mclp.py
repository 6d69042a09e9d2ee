"""Benchmark: connectivity's maximal covering engine against spopt's MCLP (PuLP + CBC).

Generates seeded city-like instances (clustered demand with lognormal weights plus rural
scatter; candidates near demand plus some anywhere), solves each with connectivity (exact HiGHS
MILP and lazy greedy) and with spopt's ``MCLP.from_cost_matrix`` + ``PULP_CBC_CMD`` as spopt
users run it, each in its own process so that peak memory (max RSS) is measured per run, and
writes the table to ``benchmarks/results.md`` (copied into ``benchmarks/README.md``) and every
measurement to ``benchmarks/results.jsonl``.

Usage::

    .venv/bin/pip install spopt pulp      # only for this benchmark
    .venv/bin/python benchmarks/bench_mclp.py            # the full grid (about 20 minutes)
    .venv/bin/python benchmarks/bench_mclp.py --quick    # two small sizes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SPOPT_LIMIT_S = 900  # a run of spopt still going after this is reported as "did not finish"
OURS_LIMIT_S = 60  # the exact solver stops here with its best solution, bound and gap

# (demand points, candidates, k, radius m); spopt is run only where it is expected to finish
GRID = [
    (2_000, 200, 10, 300),
    (2_000, 200, 10, 800),
    (5_000, 500, 20, 300),
    (5_000, 500, 20, 800),
    (10_000, 1_000, 50, 300),
    (10_000, 1_000, 50, 800),
    (40_000, 10_000, 200, 300),
    (40_000, 10_000, 200, 800),
    (200_000, 10_000, 200, 300),
    (200_000, 10_000, 200, 800),
]
SPOPT_MAX_CELLS = 10_000 * 1_000  # dense cost matrix size spopt is tried on
QUICK = [(2_000, 200, 10, 300), (5_000, 500, 20, 800)]


def make_instance(
    n_demand: int, n_sites: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """City-like instance: 85% of demand in clusters over 20 km × 20 km, 15% rural scatter."""
    rng = np.random.default_rng(seed)
    n_urban = int(n_demand * 0.85)
    n_clusters = max(5, n_demand // 800)
    centres = rng.uniform(2_000, 18_000, (n_clusters, 2))
    spread = rng.uniform(300, 1_500, n_clusters)
    which = rng.integers(0, n_clusters, n_urban)
    urban = centres[which] + rng.normal(size=(n_urban, 2)) * spread[which, None]
    rural = rng.uniform(-10_000, 30_000, (n_demand - n_urban, 2))
    demand = np.vstack([urban, rural])
    weights = rng.lognormal(mean=3.0, sigma=1.0, size=n_demand)
    near = int(n_sites * 0.7)
    sites = np.vstack(
        [
            demand[rng.integers(0, n_demand, near)] + rng.normal(scale=100, size=(near, 2)),
            rng.uniform(0, 20_000, (n_sites - near, 2)),
        ]
    )
    return demand, weights, sites


def engine_frames(demand: np.ndarray, weights: np.ndarray, sites: np.ndarray) -> tuple:
    """The instance as the engine's users pass it: point GeoDataFrames in a metric CRS."""
    import geopandas as gpd

    d = gpd.GeoDataFrame({"w": weights}, geometry=gpd.points_from_xy(*demand.T), crs="EPSG:9377")
    s = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*sites.T), crs="EPSG:9377")
    return d, s


class ChildMemory:
    """Sample the resident memory of this process's children every 20 ms (Linux ``/proc``).

    ``RUSAGE_CHILDREN`` is no use here: a child started by ``vfork`` reports its parent's
    memory before it runs its own program.
    """

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _children_kb(self) -> int:
        total = 0
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:
                pids = (task / "children").read_text().split()
                for pid in pids:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue  # the child ended between two reads
        return total

    def _run(self) -> None:
        while not self._done.wait(0.02):
            self.peak_kb = max(self.peak_kb, self._children_kb())

    def stop(self) -> float:
        """Stop sampling; return the children's peak resident memory in MB."""
        self._done.set()
        self._thread.join()
        return self.peak_kb / 1024


def run_one(solver: str, n: int, m: int, k: int, r: float, seed: int) -> dict[str, object]:
    """Solve one instance with one solver in this process; return the measurements."""
    demand, weights, sites = make_instance(n, m, seed)
    # imports happen before the clock starts, for both engines
    if solver == "spopt":
        import pulp
        from scipy.spatial.distance import cdist
        from spopt.locate import MCLP
    else:
        import geopandas  # noqa: F401  (imported before the clock, as spopt's imports are)
        import highspy  # noqa: F401  (imported lazily by the engine; an import, so not timed)
        from scipy.spatial import cKDTree  # noqa: F401  (likewise)

        from connectivity.optimise import MaximalCovering
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler = ChildMemory()
    start = time.perf_counter()
    if solver == "spopt":
        cost = cdist(demand, sites)
        model = MCLP.from_cost_matrix(cost, weights, service_radius=r, p_facilities=k)
        built = time.perf_counter()
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
        objective = float(sum(weights[i] for i, f in enumerate(model.cli2fac) if f))
        n_selected = sum(1 for v in model.fac_vars if v.value() and v.value() > 0.5)
        out: dict[str, object] = {"bound": None, "gap": None}
    else:
        d, s = engine_frames(demand, weights, sites)
        model = MaximalCovering.from_geodataframe(d, s, "w", r, k)
        built = time.perf_counter()
        method = "exact" if solver == "exact" else "greedy"
        model.solve(method, time_limit_s=OURS_LIMIT_S, mip_gap=1e-4)
        sol = model.solution
        assert sol is not None
        objective = sol.objective
        n_selected = len(sol.selected)
        out = {
            "bound": sol.bound,
            "gap": sol.gap,
            "status": sol.status,
            "merged_cells": sol.n_cells_model,
        }
    end = time.perf_counter()
    out.update(
        {
            "solver": solver,
            "n": n,
            "m": m,
            "k": k,
            "r": r,
            "seed": seed,
            "objective": objective,
            "n_selected": n_selected,
            "build_s": built - start,
            "solve_s": end - built,
            "total_s": end - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "baseline_rss_mb": baseline_mb,
            # PuLP runs CBC as a child process, which RUSAGE_SELF does not see
            "child_peak_rss_mb": sampler.stop(),
        }
    )
    return out


def measure(solver: str, n: int, m: int, k: int, r: float, seed: int, limit: float) -> dict:
    cmd = [sys.executable, __file__, "--one", solver, str(n), str(m), str(k), str(r), str(seed)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return {"solver": solver, "n": n, "m": m, "k": k, "r": r, "failed": f"> {limit:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"solver": solver, "n": n, "m": m, "k": k, "r": r, "failed": tail[:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=6, metavar=("SOLVER", "N", "M", "K", "R", "SEED"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument(
        "--log",
        default=str(HERE / "results.jsonl"),
        help="one JSON line per instance, appended as runs finish",
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="rewrite the table from --log without running anything",
    )
    args = parser.parse_args()
    if args.one:
        solver, n, m, k, r, seed = args.one
        print(json.dumps(run_one(solver, int(n), int(m), int(k), float(r), int(seed))))
        return
    log = Path(args.log)
    if not args.table_only:
        log.write_text("", encoding="utf-8")
        for n, m, k, r in QUICK if args.quick else GRID:
            runs = {
                s: measure(s, n, m, k, r, args.seed, OURS_LIMIT_S * 10) for s in ("exact", "greedy")
            }
            if n * m <= SPOPT_MAX_CELLS:
                runs["spopt"] = measure("spopt", n, m, k, r, args.seed, SPOPT_LIMIT_S)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(runs) + "\n")
            print(json.dumps(runs), flush=True)
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    write_table(rows, Path(args.out))


def _fmt(x: object, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if isinstance(x, float | int) else "–"


def _mem(run: dict) -> str:
    """Peak RSS in MB, and in brackets the part above the process after imports and data.

    A child process's peak (CBC under PuLP) is added to both: it runs while the parent holds
    the model, so the machine needs both at once.
    """
    child = run.get("child_peak_rss_mb") or 0.0
    if run.get("baseline_rss_mb") is None:
        return _fmt(run["peak_rss_mb"] + child, 0)
    model = run["peak_rss_mb"] - run["baseline_rss_mb"] + child
    return f"{run['peak_rss_mb'] + child:.0f} (+{model:.0f})"


def write_table(rows: list[dict], path: Path) -> None:
    from importlib.metadata import version

    import scipy

    try:
        import pulp
        import spopt

        versions = f"spopt {spopt.__version__}, PuLP {pulp.__version__} (CBC bundled)"
    except ImportError:
        versions = "spopt not installed"
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SciPy {scipy.__version__}, "
        f"highspy {version('highspy')}, {versions}.",
        "",
        "| demand | candidates | k | radius m | exact s | exact obj | exact gap | merged cells "
        "| exact MB (+model) | greedy s | greedy gap | greedy / exact | spopt s | spopt obj "
        "| exact / spopt obj | spopt / exact time | spopt MB (+model) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in rows:
        e, g, s = runs["exact"], runs["greedy"], runs.get("spopt")
        first = e if "failed" not in e else g
        cells = [f"{first['n']:,}", f"{first['m']:,}", str(first["k"]), f"{first['r']:.0f}"]
        if "failed" in e:
            cells += [e["failed"], "–", "–", "–", "–"]
        else:
            cells += [
                _fmt(e["total_s"]),
                _fmt(e["objective"], 0),
                _fmt(100 * e["gap"], 3) + "%",
                f"{e['merged_cells']:,}",
                _mem(e),
            ]
        if "failed" in g:
            cells += [g["failed"], "–", "–"]
        else:
            ratio = g["objective"] / e["objective"] if "failed" not in e else None
            cells += [_fmt(g["total_s"]), _fmt(100 * g["gap"], 2) + "%", _fmt(ratio, 4)]
        if s is None:
            cells += ["not run (dense matrix too large)", "–", "–", "–", "–"]
        elif "failed" in s:
            cells += [f"did not finish ({s['failed']})", "–", "–", "–", "–"]
        else:
            ok = "failed" not in e
            cells += [
                _fmt(s["total_s"]),
                _fmt(s["objective"], 0),
                _fmt(e["objective"] / s["objective"], 6) if ok else "–",
                _fmt(s["total_s"] / e["total_s"], 0) + "×" if ok else "–",
                _mem(s),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(path.read_text())


if __name__ == "__main__":
    main()
