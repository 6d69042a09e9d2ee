"""A study end to end: the run's first stages once, its plan, then every study plan on Dask."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from connectivity.errors import ScenarioError
from connectivity.pipeline import plan_inputs, plan_results
from connectivity.results import Results
from connectivity.scenario import Scenario
from connectivity.study.engine import EngineReport, Shared, cluster_size, dask_client, run_plans
from connectivity.study.model import model_from_inputs
from connectivity.study.plans import (
    frequencies,
    marginal_costs,
    monotone_curve,
    phase_of,
    plan_specs,
)
from connectivity.study.results import StudyResults
from connectivity.study.territories import run_territories

logger = logging.getLogger(__name__)


def run_study(
    scenario: Scenario,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str, int], Any] | None = None,
    strict: bool = False,
    max_memory_bytes: int | None = None,
) -> tuple[Results, StudyResults]:
    """Run a scenario's plan and its ``study:`` section; nothing is written.

    Parameters
    ----------
    scenario
        A scenario with a ``study:`` section.
    workers
        Worker processes of the local Dask cluster (default: one per core).
    scheduler
        Address of a running Dask scheduler to use instead of a local cluster.
    progress, strict, max_memory_bytes
        As for :func:`connectivity.run_scenario`.

    Returns
    -------
    Results, StudyResults
        The scenario's own plan (as :func:`connectivity.run_scenario`) and the study.

    Raises
    ------
    ConnectivityError
        Bad input, no study section, or a study that could not run on the cluster.
    """
    study = scenario.study
    if study is None:
        raise ScenarioError(
            ["study: the scenario has no study section (see the README's studies)"],
            str(scenario.source or ""),
        )
    specs = plan_specs(study, scenario.method)
    n_territories = len(study.territories.scenarios) + 1 if study.territories else 0
    start = time.perf_counter()
    # the cluster first: a wrong address fails before any work; a new one starts meanwhile
    with dask_client(workers, scheduler) as client:
        cluster_s = time.perf_counter() - start
        pre = plan_inputs(scenario, strict=strict, max_memory_bytes=max_memory_bytes)
        results = plan_results(pre, progress=progress)
        radius_draws = study.robustness is not None and bool(study.robustness.radius_m)
        model = model_from_inputs(pre, with_points=radius_draws)
        start = time.perf_counter()  # the plans from here; the cluster's start counted above
        report = EngineReport(
            cluster=scheduler or "local cluster of processes", workers=cluster_size(client)
        )
        logger.info(
            "study: %d plans on %d Dask workers (%s)",
            len(specs) + n_territories,
            report.workers,
            report.cluster,
        )
        bar = progress("study plans", len(specs) + 2 * n_territories) if progress else None
        tick = bar.update if bar is not None else None
        shared = Shared(client, model)
        solved = run_plans(shared, specs, progress=tick, report=report)
        territories = []
        if study.territories is not None:
            t = study.territories
            territories = run_territories(
                shared,
                t,
                algorithm=t.algorithm or scenario.method.algorithm,
                first_index=len(specs),
                strict=strict,
                progress=tick,
                report=report,
            )
        if bar is not None:
            bar.close()
    report.seconds = cluster_s + time.perf_counter() - start
    curve = monotone_curve([r for r in solved if r.spec.kind == "budget_curve"])
    by_index = {r.spec.index: r for r in curve}
    plans = [by_index.get(r.spec.index, r) for r in solved]
    robust = [r for r in plans if r.spec.kind == "robustness"]
    phases = [r for r in plans if r.spec.kind == "phases"]
    out = StudyResults(
        spec=study,
        model=model,
        plans=plans,
        marginal_cost=marginal_costs(curve),
        frequency=frequencies(robust, model.n_sites) if robust else None,
        phase=phase_of(phases, model.n_sites) if phases else None,
        years=[r.spec.year for r in phases],
        territories=territories,
        engine=report,
        min_population=scenario.output.min_population,
    )
    peaks = ", ".join(f"{mb:.0f}" for mb in sorted(report.peak_rss_mb.values()))
    logger.info(
        "study: %d plans in %.1f s; peak memory per worker %s MB",
        len(out.table()),
        report.seconds,
        peaks or "-",
    )
    return results, out
