from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from connectivity import InputFileError, OutputError, run_to_folder
from connectivity.cli import main


@pytest.fixture(scope="module")
def two_runs(subset_scenario, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("runs")
    a = folder / "a"
    run_to_folder(subset_scenario, a)
    method = dataclasses.replace(subset_scenario.method, sites=5)
    b = folder / "b"
    run_to_folder(dataclasses.replace(subset_scenario, name="five_sites", method=method), b)
    return a, b


def test_compare_two_runs(two_runs, tmp_path: Path, capsys) -> None:
    a, b = two_runs
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "by_locality.csv",
        "comparison.csv",
        "differences.html",
        "sites.csv",
    ]
    figures = pd.read_csv(out / "comparison.csv").set_index("figure")
    assert figures.loc["sites_selected", "bogota_subset"] == 15
    assert figures.loc["sites_selected", "five_sites"] == 5
    assert figures.loc["sites_selected", "difference"] == -10
    sites = pd.read_csv(out / "sites.csv")
    assert set(sites["chosen_by"]) <= {"both", "bogota_subset", "five_sites"}
    both = int((sites["chosen_by"] == "both").sum())
    assert (sites["chosen_by"] == "bogota_subset").sum() == 15 - both
    assert (sites["chosen_by"] == "five_sites").sum() == 5 - both
    by_locality = pd.read_csv(out / "by_locality.csv", dtype={"locality_code": str})
    assert by_locality["locality_code"].tolist() == ["03", "14", "17", "20"]


def test_compare_refuses_other_folders(two_runs, tmp_path: Path) -> None:
    from connectivity.compare import write_comparison

    a, _ = two_runs
    with pytest.raises(InputFileError, match="not a connectivity output folder"):
        write_comparison(a, tmp_path, tmp_path / "x")
    damaged = tmp_path / "damaged"
    shutil.copytree(a, damaged)
    (damaged / "run.json").write_text('{"scenario": ', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"run\.json: cannot read this run output"):
        write_comparison(damaged, a, tmp_path / "y")
    assert not (tmp_path / "y").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="holds files that no connectivity run wrote there"):
        write_comparison(a, a, mine)
    assert (mine / "notes.txt").read_text() == "keep"
