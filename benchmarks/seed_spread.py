"""How much the exact solver's time depends on HiGHS's random seed.

HiGHS's branch and bound takes a different path with each random seed (two threads, cut and
branching choices), so one timing per instance is one draw. This script solves the benchmark's
mid-size instances (``bench_mclp.py``, same generator and seed) with seeds 0 to 4, each in a
fresh process, and prints a Markdown table of the times. Reproduce:
``.venv/bin/python benchmarks/seed_spread.py`` (about 3 minutes).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
SIZES = [(5_000, 500, 20, 800), (10_000, 1_000, 50, 300), (10_000, 1_000, 50, 800)]
SEEDS = range(5)
INSTANCE_SEED = 20261127


def run_one(n: int, m: int, k: int, r: float, highs_seed: int) -> dict[str, float]:
    """Solve one instance exactly with one HiGHS seed; return time and objective."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    import geopandas as gpd
    import highspy  # noqa: F401  (imported lazily by the engine; not timed)
    from bench_mclp import OURS_LIMIT_S, make_instance
    from scipy.spatial import cKDTree  # noqa: F401  (likewise)

    from connectivity import optimise

    optimise._HIGHS_RANDOM_SEED = highs_seed
    demand, weights, sites = make_instance(n, m, INSTANCE_SEED)
    start = time.perf_counter()
    d = gpd.GeoDataFrame({"w": weights}, geometry=gpd.points_from_xy(*demand.T), crs="EPSG:9377")
    s = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*sites.T), crs="EPSG:9377")
    model = optimise.MaximalCovering.from_geodataframe(d, s, "w", r, k)
    model.solve("exact", time_limit_s=OURS_LIMIT_S, mip_gap=1e-4)
    assert model.solution is not None
    return {"seconds": time.perf_counter() - start, "objective": model.solution.objective}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        n, m, k, r, seed = sys.argv[2:7]
        print(json.dumps(run_one(int(n), int(m), int(k), float(r), int(seed))))
        return
    print("| demand | candidates | k | radius m | exact s, seeds 0-4 | median s | objectives |")
    print("|---|---|---|---|---|---|---|")
    for n, m, k, r in SIZES:
        runs = []
        for seed in SEEDS:
            cmd = [sys.executable, __file__, "--one", str(n), str(m), str(k), str(r), str(seed)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        times = [run["seconds"] for run in runs]
        objectives = sorted({round(run["objective"]) for run in runs})
        print(
            f"| {n:,} | {m:,} | {k} | {r} | {', '.join(f'{t:.2f}' for t in times)} "
            f"| {statistics.median(times):.2f} | {', '.join(f'{o:,}' for o in objectives)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
