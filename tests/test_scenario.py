from __future__ import annotations

from pathlib import Path

import pytest

from connectivity import ScenarioError, load_scenario
from connectivity.scenario import scenario_from_dict

from .conftest import REPO, SUBSET, subset_dict, write_scenario


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.territory.boundaries.path.exists()
    assert scenario.output_dir == (REPO / "maps" / scenario.name).resolve()


def test_paths_resolve_relative_to_the_scenario_file(subset_scenario) -> None:
    assert subset_scenario.demand.layer.path == (SUBSET / "sectores.gpkg").resolve()
    assert subset_scenario.demand.join is not None
    assert subset_scenario.demand.join.table.path.parent == SUBSET.resolve()


def test_unknown_key_suggests_the_closest_valid_key(tmp_path: Path) -> None:
    data = subset_dict()
    data["demand"]["cell_sise_m"] = 50
    with pytest.raises(
        ScenarioError, match=r"demand\.cell_sise_m: unknown key; did you mean 'cell_size_m'"
    ):
        load_scenario(write_scenario(tmp_path, data))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = subset_dict()
    data["demand"]["cell_size_m"] = -100
    data["existing_coverage"]["radius_m"] = 0
    data["method"]["sites"] = 0
    data["candidates"]["layers"][0]["path"] = str(tmp_path / "missing.geojson")
    data["candidates"]["layers"][2]["name_column"] = "LecNombr"
    data["territory"]["colour"] = "red"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    problems = info.value.problems
    text = "\n".join(problems)
    assert len(problems) == 6, text
    assert "demand.cell_size_m: must be greater than 0, got -100" in text
    assert "existing_coverage.radius_m: must be greater than 0" in text
    assert "method.sites: must be at least 1" in text
    assert "candidates.layers[0].path: file not found" in text
    assert (
        "column 'LecNombr' (did you mean 'LecNombre'?) not in bibliotecas_comunitarias.geojson."
        in text
    )
    assert "Columns there: OBJECTID_1, OBJECTID, LecCodigo" in text
    assert "territory.colour: unknown key" in text
    assert str(tmp_path / "scenario.yaml") in str(info.value)


def test_missing_required_keys_and_wrong_types(tmp_path: Path) -> None:
    data = subset_dict()
    del data["territory"]["id_column"]
    data["demand"]["cell_size_m"] = "big"
    data["output"]["language"] = "fr"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    text = str(info.value)
    assert "territory.id_column: required key is missing" in text
    assert "demand.cell_size_m: expected a number, got 'big'" in text
    assert "output.language: 'fr' is not one of 'es', 'en'" in text


def test_method_needs_sites_or_budget(tmp_path: Path) -> None:
    data = subset_dict()
    data["method"] = {"algorithm": "greedy"}
    with pytest.raises(ScenarioError, match="give the number of sites"):
        load_scenario(write_scenario(tmp_path, data))


def test_yaml_object_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="the scenario file does not exist"):
        load_scenario(tmp_path / "nope.yaml")


def test_scenario_name_must_be_a_plain_folder_name(tmp_path: Path) -> None:
    data = subset_dict()
    data["name"] = "../../etc"
    with pytest.raises(ScenarioError, match="must be a simple folder name"):
        scenario_from_dict(data, base_dir=tmp_path)


def test_to_dict_is_plain_data(subset_scenario) -> None:
    plain = subset_scenario.to_dict()
    assert isinstance(plain["demand"]["layer"]["path"], str)
    assert plain["method"]["sites"] == 15
