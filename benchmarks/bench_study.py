"""Studies on Dask (writes benchmarks/study.md).

1. A 64-plan robustness study of the default scenario (``bogota_public_wifi.yaml`` with a
   ``robustness`` section: each locality's demand ±15 %, radius 60-100 m), run three ways:
   a local cluster of 1 worker process, of 2, and a "cluster" of a scheduler and two workers
   started as separate processes (``dask scheduler``, ``dask worker``) talking over TCP.
   Reported: wall time of the whole study (first stages, base plan, plans), of the plans on
   the cluster, each worker's peak memory, and the SHA-256 of ``study.csv`` (must be equal).
2. A synthetic national-scale study: many Bogotá-like territories (the benchmark's city
   generator: clustered urban demand and a rural ring) sharing one number of sites, split by
   marginal gain: each territory is generated, ranked and solved on the workers, as
   ``territories`` studies do with real scenarios. Measured with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_study.py [--draws 64] [--territories 48]

About 6 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
from bench_mclp import make_instance  # noqa: E402

SCENARIO = REPO / "scenarios" / "bogota_public_wifi.yaml"


def robustness_scenario(folder: Path, draws: int) -> Path:
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))

    def absolute(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: str((SCENARIO.parent / v).resolve())
                if k in ("path", "table", "boundaries", "layer", "folder") and isinstance(v, str)
                else absolute(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [absolute(v) for v in node]
        return node

    data = absolute(data)
    data["name"] = "bench_robustness"
    data["study"] = {
        "robustness": {"draws": draws, "seed": 1, "demand_share": 0.15, "radius_m": [60, 100]}
    }
    path = folder / "robustness.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run(path: Path, **where: Any) -> dict[str, Any]:
    from connectivity import load_scenario
    from connectivity.outputs.safety import write_csv
    from connectivity.study.run import run_study

    start = time.perf_counter()
    _, study = run_study(load_scenario(path), **where)
    wall = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "study.csv"
        write_csv(study.table(), out)
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert study.engine is not None
    return {
        "wall_s": wall,
        "plans_s": study.engine.seconds,
        "workers": study.engine.workers,
        "peak_mb": sorted(study.engine.peak_rss_mb.values()),
        "sha256": digest,
        "plans": len(study.table()),
    }


def tcp_cluster(port: int) -> list[subprocess.Popen[bytes]]:
    """A scheduler and two single-threaded workers, each its own process, over TCP."""
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--port", str(port), "--no-dashboard"],
            stderr=subprocess.DEVNULL,
        )
    ]
    time.sleep(3)
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    f"tcp://127.0.0.1:{port}",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
    from distributed import Client

    with Client(f"tcp://127.0.0.1:{port}", timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    return procs


def synthetic_model(seed: int) -> Any:
    """A Bogotá-like territory from the benchmark's generator: 20,000 points, 2,000 sites."""
    import pandas as pd

    from connectivity import coverage, planning
    from connectivity.scenario import MethodSpec
    from connectivity.study.model import StudyModel

    demand, weights, sites = make_instance(20_000, 2_000, seed)
    matrix = coverage.coverage_matrix(sites, demand, 300.0, log=False)
    one = np.full(len(sites), "1", dtype=object)
    groups = planning.Groups(
        site_area=one,
        point_area=np.full(len(demand), "1", dtype=object),
        site_rural=np.zeros(len(sites), bool),
        point_rural=np.zeros(len(demand), bool),
        area_names={"1": f"territory {seed}"},
    )
    ids = pd.Index([f"t{seed}-{i}" for i in range(len(sites))]).to_numpy(dtype=object)
    return StudyModel(
        name=f"territory_{seed}",
        title=f"territory {seed}",
        crs="EPSG:9377",
        method=MethodSpec(sites=10, algorithm="greedy"),
        matrix=matrix,
        weights=weights,
        population=weights,
        existing=np.zeros(len(demand)),
        costs=np.ones(len(sites)),
        site_ids=ids,
        site_names=ids,
        site_types=np.full(len(sites), "synthetic", dtype=object),
        site_xy=sites + np.array([4_870_000.0, 2_050_000.0]),
        groups=groups,
        areas=np.array(["1"], dtype=object),
        point_area=np.zeros(len(demand), dtype=np.int64),
        radius_m=300.0,
    )


def national(territories: int, workers: int, sites: int) -> dict[str, Any]:
    """Territories generated, ranked and solved on the workers; the split on the client."""
    from connectivity.study.engine import dask_client
    from connectivity.study.model import PlanSpec
    from connectivity.study.plans import split_by_gain
    from connectivity.study.territories import ranked_gains, solve_territory

    start = time.perf_counter()
    with dask_client(workers) as client:
        started = time.perf_counter()
        models = [client.submit(synthetic_model, 1_000 + t, pure=False) for t in range(territories)]
        gains_f = [client.submit(ranked_gains, m, sites=sites, budget=None) for m in models]
        ranked = client.gather(gains_f)
        ranked_at = time.perf_counter()
        taken = split_by_gain([g for g, _ in ranked], [c for _, c in ranked], sites=sites)
        plans_f = [
            client.submit(
                solve_territory,
                m,
                PlanSpec(index=t, kind="territories", plan=f"t{t}", algorithm="greedy", sites=k),
            )
            for t, (m, k) in enumerate(zip(models, taken, strict=True))
        ]
        plans = client.gather(plans_f)
        done = time.perf_counter()
        peak = max(p.result.peak_rss_mb for p in plans)
    covered = sum(p.result.weight_covered for p in plans)
    return {
        "territories": territories,
        "workers": workers,
        "cluster_start_s": started - start,
        "generate_and_rank_s": ranked_at - started,
        "solve_shares_s": done - ranked_at,
        "total_s": time.perf_counter() - start,
        "weight_covered": covered,
        "territories_with_sites": sum(k > 0 for k in taken),
        "peak_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=64)
    parser.add_argument("--territories", type=int, default=48)
    parser.add_argument("--skip-robustness", action="store_true")
    args = parser.parse_args()
    import distributed

    import connectivity

    lines = [
        "# Studies on Dask",
        "",
        f"`benchmarks/bench_study.py`, run {time.strftime('%Y-%m-%d')} on "
        f"{platform.machine()}, 2 CPUs, Python {platform.python_version()}, dask/distributed "
        f"{distributed.__version__}, connectivity {connectivity.__version__}. Wall seconds; "
        "other work may run on the machine, so single timings can be some per cent off.",
        "",
    ]
    if not args.skip_robustness:
        with tempfile.TemporaryDirectory() as tmp:
            path = robustness_scenario(Path(tmp), args.draws)
            rows = [("local cluster, 1 worker", run(path, workers=1))]
            rows.append(("local cluster, 2 workers", run(path, workers=2)))
            procs = tcp_cluster(8799)
            try:
                rows.append(
                    (
                        "scheduler + 2 workers, separate processes over TCP",
                        run(path, scheduler="tcp://127.0.0.1:8799"),
                    )
                )
            finally:
                for p in procs[::-1]:
                    p.terminate()
                    p.wait(timeout=30)
        digests = {r["sha256"] for _, r in rows}
        lines += [
            f"## A {args.draws}-plan robustness study of the default scenario",
            "",
            "Each locality's demand ×U(0.85, 1.15), the service radius U(60, 100) m, 100 sites "
            "chosen greedily per draw. 'whole study' includes reading the data, the first "
            "stages and the base plan (about 5 s, on the client); 'plans' is the time from "
            "starting the cluster (or connecting to it) to the last plan.",
            "",
            "| cluster | workers | plans | whole study s | plans s | peak MB per worker | "
            "study.csv SHA-256 |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, r in rows:
            peak = ", ".join(f"{m:.0f}" for m in r["peak_mb"])
            lines.append(
                f"| {name} | {r['workers']} | {r['plans']} | {r['wall_s']:.1f} | "
                f"{r['plans_s']:.1f} | {peak} | `{r['sha256'][:16]}…` |"
            )
        lines += [
            "",
            "identical study.csv in all three: "
            + ("**yes**" if len(digests) == 1 else f"**no** ({len(digests)} different)"),
            "",
        ]
    nat = [national(args.territories, w, sites=10 * args.territories) for w in (1, 2)]
    lines += [
        f"## Synthetic national study: {args.territories} Bogotá-like territories",
        "",
        "Each territory: 20,000 demand points and 2,000 candidates from the benchmark's city "
        "generator, 300 m radius; together they share "
        f"{10 * args.territories} sites. Each is generated and ranked on a worker, the split "
        "by marginal gain is made on the client, each share is solved on a worker.",
        "",
        "| workers | cluster start s | generate + rank s | solve shares s | total s | "
        "territories with sites | weight covered | peak MB per worker |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in nat:
        lines.append(
            f"| {r['workers']} | {r['cluster_start_s']:.1f} | {r['generate_and_rank_s']:.1f} | "
            f"{r['solve_shares_s']:.1f} | {r['total_s']:.1f} | {r['territories_with_sites']} | "
            f"{r['weight_covered']:,.1f} | {r['peak_mb']:.0f} |"
        )
    (HERE / "study.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
