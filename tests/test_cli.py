from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connectivity.cli import main

from .conftest import SUBSET_SCENARIO, subset_dict, write_scenario


def test_validate_ok(capsys) -> None:
    assert main(["validate", str(SUBSET_SCENARIO)]) == 0
    assert "OK" in capsys.readouterr().out


def test_validate_reports_problems_without_traceback(tmp_path: Path, capsys) -> None:
    data = subset_dict()
    data["demand"]["population_column"] = "PERSONAS"
    code = main(["validate", str(write_scenario(tmp_path, data))])
    err = capsys.readouterr().err
    assert code == 2
    assert "column 'PERSONAS' not in sociodemograficas.csv" in err
    assert "Traceback" not in err


def test_run_writes_outputs_to_out(tmp_path: Path, capsys) -> None:
    out = tmp_path / "result"
    assert main(["run", str(SUBSET_SCENARIO), "--out", str(out), "-q"]) == 0
    assert (out / "map.html").exists() and (out / "run.json").exists()
    assert "15 sites chosen" in capsys.readouterr().out


def test_console_script_exit_code_and_short_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "connectivity.cli", "run", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "the scenario file does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("flag", ["-v"])
def test_verbose_shows_traceback(tmp_path: Path, flag: str, capsys) -> None:
    data = subset_dict()
    data["demand"]["population_column"] = "PERSONAS"
    path = write_scenario(tmp_path, data)
    assert main(["run", str(path), flag]) == 2
    assert "Traceback" in capsys.readouterr().err


HEAVY = ("geopandas", "pandas", "scipy", "shapely", "pyogrio", "networkx", "folium", "matplotlib")


@pytest.mark.parametrize("args", [["--help"], ["optimise", "--help"], ["run", "--help"]])
def test_help_imports_none_of_the_heavy_libraries(args: list[str]) -> None:
    """`connectivity --help` answers at once: the libraries load only where a command needs them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from connectivity.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: connectivity" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "loaded:", done.stdout.splitlines()[-1]
