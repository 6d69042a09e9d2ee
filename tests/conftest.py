"""Shared fixtures: the small real Bogotá extract and a finished run on it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectivity import Results, Scenario, load_scenario, run_scenario

DATA = Path(__file__).parent / "data"
SUBSET = DATA / "bogota_subset"
SUBSET_SCENARIO = SUBSET / "scenario.yaml"
REPO = Path(__file__).parent.parent
GIS_LAYERS = ("localities", "demand_cells", "existing_wifi", "candidates", "selected_sites", "gaps")
"""The layers every run writes to its GeoPackage (besides ``layer_styles``)."""


def subset_dict() -> dict[str, Any]:
    """The subset scenario as plain data, every path made absolute (for edited copies)."""
    data = yaml.safe_load(SUBSET_SCENARIO.read_text(encoding="utf-8"))

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    str(SUBSET / v)
                    if k in ("path", "table", "boundaries", "layer") and isinstance(v, str)
                    else fix(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(copy.deepcopy(data))


def write_scenario(folder: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    """Write a scenario dict as YAML into ``folder`` and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True, scope="session")
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the street-graph cache of the tests out of the user's cache folder."""
    import os

    os.environ["CONNECTIVITY_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def subset_scenario() -> Scenario:
    return load_scenario(SUBSET_SCENARIO)


@pytest.fixture(scope="session")
def subset_results(subset_scenario: Scenario) -> Results:
    return run_scenario(subset_scenario)


@pytest.fixture(scope="session")
def subset_outputs(subset_results: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The subset run written to a temporary ``maps/bogota_subset`` (treat as read-only)."""
    from connectivity.outputs import write_outputs

    out = tmp_path_factory.mktemp("maps") / "bogota_subset"
    write_outputs(subset_results, out)
    return out
