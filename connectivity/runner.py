"""Run a scenario into a folder: check and lock the folder, run the pipeline, write outputs.

:func:`connectivity.run_scenario` computes and writes nothing; this is the small helper the
command line uses to do both, in the order that loses nothing: the destination is checked
(and locked against another run) before anything is computed, and written all or nothing.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from connectivity.outputs import output_folder, write_outputs
from connectivity.pipeline import ProgressFactory, run_scenario
from connectivity.results import Results
from connectivity.scenario import Scenario

if TYPE_CHECKING:
    from connectivity.study.results import StudyResults

logger = logging.getLogger(__name__)


def run_to_folder(
    scenario: Scenario,
    out_dir: Path | None = None,
    *,
    progress: ProgressFactory | None = None,
    strict: bool = False,
    max_memory_bytes: int | None = None,
) -> Results:
    """Run a scenario and write its outputs into ``out_dir`` (default ``<folder>/<name>``).

    Parameters
    ----------
    scenario
        A scenario from :func:`connectivity.load_scenario`.
    out_dir
        The output folder: new, empty, or an earlier run of this program.
    progress, strict, max_memory_bytes
        As for :func:`connectivity.run_scenario`.

    Returns
    -------
    Results

    Raises
    ------
    ConnectivityError
        On bad input, a destination that cannot be used (before any work), or a failure to
        write; earlier outputs then stay as they were.

    Examples
    --------
    >>> import connectivity
    >>> scenario = connectivity.load_scenario("scenarios/bogota_public_wifi.yaml")  # doctest: +SKIP
    >>> results = connectivity.run_to_folder(scenario)  # doctest: +SKIP
    """
    if scenario.study is not None:
        logger.info("the scenario's study: section runs with `connectivity study`")
    with output_folder(out_dir or scenario.output_dir) as destination:
        results = run_scenario(
            scenario, progress=progress, strict=strict, max_memory_bytes=max_memory_bytes
        )
        start = time.perf_counter()
        write_outputs(results, destination, progress=progress)
        logger.info("stage outputs done in %.2f s", time.perf_counter() - start)
    return results


def study_to_folder(
    scenario: Scenario,
    out_dir: Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressFactory | None = None,
    strict: bool = False,
    max_memory_bytes: int | None = None,
) -> tuple[Results, StudyResults]:
    """Run a scenario and its study; write both into ``out_dir`` (default ``<folder>/<name>``).

    The folder gets the run's outputs and the study's (``study.csv``, ``study.json``, charts,
    a study section in ``report.html`` and a ``study_sites`` layer in ``connectivity.gpkg``),
    checked, locked and swapped in as by :func:`run_to_folder`.

    Parameters
    ----------
    scenario
        A scenario with a ``study:`` section.
    workers, scheduler
        The Dask cluster (see :func:`connectivity.study.run_study`).
    out_dir, progress, strict, max_memory_bytes
        As for :func:`run_to_folder`.
    """
    from connectivity.study.run import run_study

    with output_folder(out_dir or scenario.output_dir) as destination:
        results, study = run_study(
            scenario,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            strict=strict,
            max_memory_bytes=max_memory_bytes,
        )
        start = time.perf_counter()
        write_outputs(results, destination, progress=progress, study=study)
        logger.info("stage outputs done in %.2f s", time.perf_counter() - start)
    return results, study
