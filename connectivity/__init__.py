"""connectivity: plan where public Wi-Fi and telecom infrastructure should go.

The data flow runs one way: scenario → layers → demand cells and candidate sites → coverage →
ranking → outputs. The library only adds a ``NullHandler`` to its logger; the command line
configures logging.

Examples
--------
>>> import connectivity
>>> scenario = connectivity.load_scenario("scenarios/bogota_public_wifi.yaml")  # doctest: +SKIP
>>> results = connectivity.run_scenario(scenario)  # computes, writes nothing  # doctest: +SKIP
>>> results = connectivity.run_to_folder(scenario)  # and writes maps/<name>/  # doctest: +SKIP
>>> results.summary["pct_people_covered_after"]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from connectivity._version import __version__
from connectivity.errors import (
    ConnectivityError,
    InputFileError,
    LayerError,
    MissingColumnError,
    NoCRSError,
    OptimisationError,
    OutputError,
    ScenarioError,
    StudyError,
    WorkloadError,
)

if TYPE_CHECKING:
    from connectivity.loading import load_scenario
    from connectivity.pipeline import run_scenario
    from connectivity.results import Results
    from connectivity.runner import run_to_folder, study_to_folder
    from connectivity.scenario import Scenario
    from connectivity.study.run import run_study

logging.getLogger(__name__).addHandler(logging.NullHandler())

# the heavy parts (geopandas, scipy, HiGHS ...) load on first use, so that the command line
# starts at once and `import connectivity` stays cheap (as geopandas does for its IO)
_LAZY = {
    "load_scenario": "connectivity.loading",
    "run_scenario": "connectivity.pipeline",
    "Results": "connectivity.results",
    "run_to_folder": "connectivity.runner",
    "Scenario": "connectivity.scenario",
    "run_study": "connectivity.study.run",
    "study_to_folder": "connectivity.runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'connectivity' has no attribute {name!r}")


__all__ = [
    "ConnectivityError",
    "InputFileError",
    "LayerError",
    "MissingColumnError",
    "NoCRSError",
    "OptimisationError",
    "OutputError",
    "Results",
    "Scenario",
    "ScenarioError",
    "StudyError",
    "WorkloadError",
    "__version__",
    "load_scenario",
    "run_scenario",
    "run_study",
    "run_to_folder",
    "study_to_folder",
]
