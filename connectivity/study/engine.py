"""Running a study's plans on Dask: a local cluster of processes, or an existing scheduler.

The coverage model is sent to the workers once (:meth:`distributed.Client.scatter` with
``broadcast=True``); each plan is one task that receives it, so a plan's message carries only
its :class:`~connectivity.study.model.PlanSpec`. Phases run as a chain (each year waits for
the year before and keeps its sites); every other plan runs at once. Territories other than
the study's own are loaded on the workers (their files must be at the same paths there).

A worker that dies is replaced (its nanny restarts it) and the scheduler runs its tasks again
elsewhere; should the model itself be lost with it (a one-worker cluster), it is sent again and
the plans that needed it are resubmitted. Plans are deterministic and collected by index, so
the results do not depend on the number of workers or the order tasks finish in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectivity._version import __version__
from connectivity.errors import StudyError
from connectivity.study.model import PlanResult, PlanSpec, StudyModel, solve_plan
from connectivity.study.plans import next_phase

logger = logging.getLogger(__name__)

MAX_RESUBMITS = 3
"""A plan whose inputs were lost with a worker is resubmitted at most this many times."""


@dataclass
class EngineReport:
    """How the study ran: the cluster, its workers' peak memory and the wall time."""

    cluster: str
    workers: int
    seconds: float = 0.0  # the whole study on the cluster, starting it included
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    resubmitted: int = 0

    def note_memory(self, results: Iterable[PlanResult]) -> None:
        """Keep each worker's highest peak memory seen by the plans it ran."""
        for r in results:
            if r.worker:
                self.peak_rss_mb[r.worker] = max(self.peak_rss_mb.get(r.worker, 0.0), r.peak_rss_mb)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (for ``study.json``)."""
        return {
            "cluster": self.cluster,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "peak_rss_mb_per_worker": {k: round(v, 1) for k, v in self.peak_rss_mb.items()},
            "plans_resubmitted_after_a_lost_worker": self.resubmitted,
        }


@contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, *, connect_timeout_s: float = 20.0
) -> Iterator[Any]:
    """Yield a Dask client: of an existing scheduler, or of a new local cluster of processes.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (default: one per core), one thread each.
    scheduler
        Address of a running scheduler (``tcp://host:8786``); its workers must have the same
        version of connectivity installed.
    connect_timeout_s
        How long to try to reach the scheduler.

    Raises
    ------
    StudyError
        No scheduler answers at the address, or its workers run another version.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout_s}s")
        except ValueError as error:  # not an address
            raise StudyError(
                f"--scheduler {scheduler!r} is not a scheduler address ({error}); give one like "
                "tcp://10.0.0.5:8786"
            ) from None
        except (OSError, TimeoutError) as error:
            raise StudyError(
                f"no Dask scheduler answered at {scheduler} ({error}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`"
            ) from None
        try:
            _check_versions(client)
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _check_versions(client: Any) -> None:
    versions = client.run(_connectivity_version)
    if not versions:
        raise StudyError("the Dask scheduler has no workers; start some with `dask worker`")
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        worker, version = next(iter(wrong.items()))
        raise StudyError(
            f"Dask worker {worker} runs connectivity {version}, this is {__version__}: "
            "install the same version on every worker"
        )


def _connectivity_version() -> str:
    try:
        from connectivity._version import __version__ as version
    except ImportError:  # pragma: no cover - a worker without the package
        return "not installed"
    return version


def cluster_size(client: Any) -> int:
    """Return the number of workers the client's scheduler has now."""
    return len(client.scheduler_info()["workers"])


def solve_phase(model: StudyModel, spec: PlanSpec, before: PlanResult | None) -> PlanResult:
    """Solve a year of a rollout with the sites of the year before fixed."""
    return solve_plan(model, next_phase(spec, before))


class Shared:
    """The model on the cluster: scattered to every worker once, again only if it was lost."""

    def __init__(self, client: Any, model: StudyModel) -> None:
        self.client = client
        self.model = model
        self.future = client.scatter(model, broadcast=True, hash=False)

    def get(self) -> Any:
        """Return the model's future (sent again if the workers holding it died)."""
        if self.future.status != "finished":
            self.future = self.client.scatter(self.model, broadcast=True, hash=False)
        return self.future


def run_plans(
    shared: Shared,
    specs: list[PlanSpec],
    *,
    progress: Callable[[int], None] | None = None,
    report: EngineReport | None = None,
) -> list[PlanResult]:
    """Solve plans over one shared model; return the results in index order.

    Phases (``kind == "phases"``) are chained in the order given; other plans run at once.

    Raises
    ------
    StudyError
        A plan failed on a worker (with the worker's error), or lost its inputs with workers
        more than :data:`MAX_RESUBMITS` times.
    """
    from distributed import as_completed

    client = shared.client
    phases = [s for s in specs if s.kind == "phases"]
    results: dict[int, PlanResult] = {}
    owner: dict[Any, PlanSpec] = {}
    tries: dict[int, int] = {}
    queue = as_completed()

    def submit(spec: PlanSpec) -> None:
        if spec.kind == "phases":
            i = phases.index(spec)
            before = results[phases[i - 1].index] if i else None
            fut = client.submit(solve_phase, shared.get(), spec, before, pure=False)
        else:
            fut = client.submit(solve_plan, shared.get(), spec, pure=False)
        owner[fut] = spec
        queue.add(fut)

    for spec in specs:
        if spec.kind != "phases":
            submit(spec)
    if phases:
        submit(phases[0])
    for fut in queue:
        spec = owner.pop(fut)
        if fut.status == "finished":
            results[spec.index] = fut.result()
            if progress is not None:
                progress(1)
            if spec.kind == "phases" and spec is not phases[-1]:
                submit(phases[phases.index(spec) + 1])
            continue
        _resubmit_or_raise(fut, spec, tries)
        if report is not None:
            report.resubmitted += 1
        submit(spec)
    if report is not None:
        report.note_memory(results.values())
    return [results[s.index] for s in sorted(specs, key=lambda s: s.index)]


def _resubmit_or_raise(fut: Any, spec: PlanSpec, tries: dict[int, int]) -> None:
    """Raise the task's own error; allow a lost-input resubmission a few times."""
    from distributed.scheduler import KilledWorker

    error = fut.exception() if fut.status == "error" else None
    if isinstance(error, KilledWorker):
        raise StudyError(
            f"plan {spec.plan} ({spec.kind}) was running on workers that died "
            f"{MAX_RESUBMITS} times: {error}"
        ) from None
    if error is not None:
        raise error
    tries[spec.index] = tries.get(spec.index, 0) + 1
    if tries[spec.index] > MAX_RESUBMITS:
        raise StudyError(
            f"plan {spec.plan} ({spec.kind}) lost its inputs with dying workers "
            f"{MAX_RESUBMITS} times"
        )
    logger.warning("study: plan %s lost its inputs with a worker; resubmitted", spec.plan)


def load_territory(path: Path, strict: bool) -> StudyModel:
    """Load a territory's scenario and run its first stages (on a worker)."""
    from connectivity.loading import load_scenario
    from connectivity.pipeline import plan_inputs
    from connectivity.study.model import model_from_inputs

    return model_from_inputs(plan_inputs(load_scenario(path), strict=strict))
