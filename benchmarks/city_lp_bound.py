"""How far the LP relaxation's bound lies above the best plans at city scale.

The exact method's certified gap cannot fall below the LP relaxation's own gap without branch
and bound closing it. This solves the relaxation of the felt-speed benchmark's city instance
(40,000 x 10,000, k = 200, seed 20261127) to optimality by HiGHS (interior point), with no
time limit, at 300, 500 and 800 m, and prints its bound, its time and the gap to a plan value
given per radius (the exact method's plan at 60 s in ``felt_speed.md``):

    .venv/bin/python benchmarks/city_lp_bound.py 300=591232 500=953075 800=1173486

About 3 minutes on 2 cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_mclp import engine_frames, make_instance  # noqa: E402

from connectivity.optimise import MaximalCovering  # noqa: E402
from connectivity.optimise.highs import solve_milp  # noqa: E402
from connectivity.optimise.reduction import prepare  # noqa: E402

SEED = 20261127


def main(plans: dict[float, float]) -> None:
    print("| radius m | LP bound | LP s | best plan | LP gap to it |")
    print("|---|---|---|---|---|")
    demand, weights, sites = make_instance(40_000, 10_000, SEED)
    d, s = engine_frames(demand, weights, sites)
    for radius, plan in sorted(plans.items()):
        problem = MaximalCovering.from_geodataframe(d, s, "w", radius, 200).problem
        start = time.perf_counter()
        relaxed = solve_milp(prepare(problem), None, 1e-4, relax=True)
        seconds = time.perf_counter() - start
        gap = (relaxed.bound - plan) / relaxed.bound
        print(
            f"| {radius:g} | {relaxed.bound:,.0f} | {seconds:.1f} | {plan:,.0f} | "
            f"{100 * gap:.2f} % |",
            flush=True,
        )


if __name__ == "__main__":
    main({float(a.split("=")[0]): float(a.split("=")[1]) for a in sys.argv[1:]})
