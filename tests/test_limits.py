"""Bounded work: hostile or careless scenarios are refused quickly, with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectivity import ScenarioError, load_scenario, run_scenario
from connectivity.cli import main
from connectivity.errors import MAX_PROBLEMS_SHOWN, InputFileError
from connectivity.workload import WorkloadError

from .conftest import SUBSET_SCENARIO, subset_dict, write_scenario


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines)


def _subset_text(tmp_path: Path) -> str:
    """The subset scenario as YAML text with absolute paths (to edit as text)."""
    return write_scenario(tmp_path, subset_dict(), "base.yaml").read_text(encoding="utf-8")


def test_alias_bomb_under_a_known_key_is_refused_at_once(tmp_path: Path) -> None:
    text = _subset_text(tmp_path)
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb() + "\n" + text.replace("title: Extracto de prueba", "title: *a8"))
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="expands to more than 100,000 values"):
        load_scenario(path)
    assert time.perf_counter() - start < 5


def test_alias_bomb_inside_a_filter_value_is_refused_by_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _subset_text(tmp_path)
    assert "SECTOR: 2" in text
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb() + "\n" + text.replace("SECTOR: 2", "SECTOR: *a8", 1))
    assert main(["validate", str(path), "-q"]) == 2
    assert "expands to more than 100,000 values" in capsys.readouterr().err


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = _subset_text(tmp_path)
    text = text.replace("title: Extracto de prueba", "title: &t Extracto de prueba")
    path = tmp_path / "aliases.yaml"
    path.write_text(text + "description: *t\n")
    assert load_scenario(path).description == "Extracto de prueba"


def test_duplicate_keys_are_refused_with_their_lines(tmp_path: Path) -> None:
    text = _subset_text(tmp_path)
    path = tmp_path / "dup.yaml"
    path.write_text(text + "method: {sites: 3}\n")
    with pytest.raises(
        ScenarioError, match=r"the key 'method' is given twice \(lines \d+ and \d+\)"
    ):
        load_scenario(path)


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("description: " + "x" * (2 << 20))
    with pytest.raises(ScenarioError, match="larger than 1024 KiB"):
        load_scenario(path)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("x: " + "[" * 50_000 + "]" * 50_000)
    with pytest.raises(ScenarioError, match=r"nests too deeply|expands"):
        load_scenario(path)


def test_long_values_are_shortened(tmp_path: Path) -> None:
    data = subset_dict()
    data["method"] = {"sites": "y" * 5000, "algorithm": ["z" * 5000]}
    data["y" * 3000] = 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    message = str(info.value)
    assert "y" * 100 not in message and "z" * 100 not in message and "…" in message
    assert len(message) < 3000


def test_the_problems_listed_are_capped(tmp_path: Path) -> None:
    data = subset_dict()
    for i in range(40):
        data[f"unknown_{i:02d}"] = 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    message = str(info.value)
    assert message.startswith("40 problems")
    assert message.count("\n  - ") == MAX_PROBLEMS_SHOWN
    assert f"... and {40 - MAX_PROBLEMS_SHOWN} more" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_a_layer_or_scenario_gets_a_message_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "wifi.csv"
    os.mkfifo(fifo)
    data = subset_dict()
    data["existing_coverage"]["wifi"]["path"] = str(fifo)
    path = write_scenario(tmp_path, data)
    with pytest.raises(ScenarioError, match=r"not a regular file \(a FIFO"):
        load_scenario(path)
    scenario = load_scenario(path, check_files=False)
    with pytest.raises(InputFileError, match="not a regular file"):
        run_scenario(scenario)
    fifo_scenario = tmp_path / "scenario_fifo.yaml"
    os.mkfifo(fifo_scenario)
    cmd = [sys.executable, "-m", "connectivity.cli", "validate", str(fifo_scenario)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr


@pytest.mark.parametrize(
    ("patch", "setting"),
    [
        ({"demand": {"cell_size_m": 1}}, "demand.cell_size_m"),
        ({"demand": {"cell_size_m": 5}}, "demand.cell_size_m"),
        ({"candidates": {"radius_m": 1_000_000}}, "candidates.radius_m"),
    ],
)
def test_runs_that_would_exhaust_memory_are_refused_before_allocating(
    patch: dict, setting: str, tmp_path: Path
) -> None:
    data = subset_dict()
    for section, values in patch.items():
        data[section].update(values)
    path = write_scenario(tmp_path, data)
    scenario = load_scenario(path)
    limit = 2 * 2**30
    start = time.perf_counter()
    with pytest.raises(WorkloadError, match=rf"more than the limit of 2\.0 GB.*{setting}"):
        run_scenario(scenario, max_memory_bytes=limit)
    assert time.perf_counter() - start < 60
    assert main(["validate", str(path), "--max-memory-gb", "2", "-q"]) == 2


def test_validate_reports_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SUBSET_SCENARIO), "-q"]) == 0
    out = capsys.readouterr().out
    assert "estimated work: about" in out and "analysis points" in out


def test_the_limit_can_be_raised_or_come_from_the_environment(monkeypatch) -> None:
    from connectivity.workload import default_memory_limit_bytes

    monkeypatch.setenv("CONNECTIVITY_MAX_MEMORY_GB", "3")
    assert default_memory_limit_bytes() == 3 * 2**30
    monkeypatch.setenv("CONNECTIVITY_MAX_MEMORY_GB", "lots")
    with pytest.raises(Exception, match="expected a number of gigabytes"):
        default_memory_limit_bytes()


def test_the_estimate_counts_only_the_study_area(tmp_path: Path) -> None:
    from connectivity import load_scenario
    from connectivity.pipeline import estimate_workload

    from .conftest import subset_dict, write_scenario

    data = subset_dict()
    study_area, _ = estimate_workload(load_scenario(write_scenario(tmp_path, data)))
    data["territory"].pop("include")
    whole, _ = estimate_workload(load_scenario(write_scenario(tmp_path, data, "all.yaml")))
    assert study_area.cells < whole.cells
