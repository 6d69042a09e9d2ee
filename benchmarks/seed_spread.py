"""How much the exact solver's time depends on HiGHS's random seed.

HiGHS's branch and bound takes a different path with each random seed (two threads, cut and
branching choices), so one timing per instance is one draw. This script solves the benchmark's
mid-size instances (``bench_mclp.py``, same generator and seed) with seeds 0 to 4, each in a
fresh process, and prints a Markdown table of the times, the plans and the memory the solve
needed. Besides the k-site models of the benchmark it solves two constrained models on the
10,000 x 1,000 x 800 m instance, where HiGHS's options were chosen separately:

- ``budgeted``: site costs drawn lognormal (median 1, sigma 0.5, seeded), a budget of 50 times
  the mean cost;
- ``budgeted + floors``: the same, with the city split into four quadrants that each get at
  least 6 and at most 25 sites.

Reproduce: ``.venv/bin/python benchmarks/seed_spread.py`` (about 6 minutes).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
# (model, demand points, candidates, k, radius m)
CASES = [
    ("k sites", 5_000, 500, 20, 800),
    ("k sites", 10_000, 1_000, 50, 300),
    ("k sites", 10_000, 1_000, 50, 800),
    ("budgeted", 10_000, 1_000, 50, 800),
    ("budgeted + floors", 10_000, 1_000, 50, 800),
]
SEEDS = range(5)
INSTANCE_SEED = 20261127
COST_SEED = 1


def _quadrants(sites: np.ndarray, demand: np.ndarray, k: int) -> list:
    """Four equity groups, split at the median coordinates: at least k/8, at most k/2 sites."""
    from connectivity.optimise import GroupLimit

    east_s, east_c = sites[:, 0] > np.median(sites[:, 0]), demand[:, 0] > np.median(demand[:, 0])
    north_s = sites[:, 1] > np.median(sites[:, 1])
    north_c = demand[:, 1] > np.median(demand[:, 1])
    limits = []
    for name, (es, ec), (ns, nc) in [
        ("north-east", (east_s, east_c), (north_s, north_c)),
        ("north-west", (~east_s, ~east_c), (north_s, north_c)),
        ("south-east", (east_s, east_c), (~north_s, ~north_c)),
        ("south-west", (~east_s, ~east_c), (~north_s, ~north_c)),
    ]:
        limits.append(GroupLimit(name, es & ns, ec & nc, min_sites=k // 8, max_sites=k // 2))
    return limits


def run_one(model: str, n: int, m: int, k: int, r: float, highs_seed: int) -> dict[str, float]:
    """Solve one instance exactly with one HiGHS seed; return time, objective and memory."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    import highspy  # noqa: F401  (imported lazily by the engine; not timed)
    from bench_mclp import OURS_LIMIT_S, engine_frames, make_instance
    from scipy.spatial import cKDTree  # noqa: F401  (likewise)

    from connectivity import optimise

    policy = optimise.Policy(highs_random_seed=highs_seed)
    demand, weights, sites = make_instance(n, m, INSTANCE_SEED)
    costs = np.random.default_rng(COST_SEED).lognormal(0.0, 0.5, m).round(2)
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    d, s = engine_frames(demand, weights, sites)
    solver: optimise.MaximalCovering | optimise.BudgetedMaximalCovering
    if model == "k sites":
        solver = optimise.MaximalCovering.from_geodataframe(d, s, "w", r, k)
    else:
        quality = optimise.quality_from_geodataframes(d, s, r)
        limits = _quadrants(sites, demand, k) if model == "budgeted + floors" else []
        budget = float(k * costs.mean())
        solver = optimise.BudgetedMaximalCovering(
            quality, weights, budget, costs=costs, limits=limits
        )
    solver.solve("exact", time_limit_s=OURS_LIMIT_S, mip_gap=1e-4, policy=policy)
    assert solver.solution is not None
    return {
        "seconds": time.perf_counter() - start,
        "objective": solver.solution.objective,
        "gap": solver.solution.gap,
        "model_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline_mb,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        args = sys.argv[2:8]
        sizes = (int(args[1]), int(args[2]), int(args[3]), float(args[4]))
        print(json.dumps(run_one(args[0], *sizes, int(args[5]))))
        return
    print(
        "| model | demand | candidates | k | radius m | exact s, seeds 0-4 | median s "
        "| objectives | largest gap | model MB, median |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, n, m, k, r in CASES:
        runs = []
        for seed in SEEDS:
            cmd = [sys.executable, __file__, "--one", model, str(n), str(m), str(k), str(r)]
            out = subprocess.run([*cmd, str(seed)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        times = [run["seconds"] for run in runs]
        objectives = sorted({round(run["objective"]) for run in runs})
        print(
            f"| {model} | {n:,} | {m:,} | {k} | {r} | {', '.join(f'{t:.2f}' for t in times)} "
            f"| {statistics.median(times):.2f} | {', '.join(f'{o:,}' for o in objectives)} "
            f"| {max(run['gap'] for run in runs):.3%} "
            f"| {statistics.median(run['model_mb'] for run in runs):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
