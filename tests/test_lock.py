"""``requirements.lock`` agrees with ``pyproject.toml``; the tests run on the locked versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>[^\s;]+)")


def lock_pins(text: str) -> dict[str, str]:
    """Return ``{canonical name: version}`` of every ``name==version`` line of a lock."""
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def project_requirements() -> list[Requirement]:
    """Every requirement in pyproject.toml: the dependencies and each extra's (self excluded)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != "connectivity"]


def disagreements(requirements: list[Requirement], pins: dict[str, str]) -> list[str]:
    """Return each requirement the lock leaves out or pins outside its version range."""
    problems = []
    for req in requirements:
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name}: not in requirements.lock")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}: lock pins {pinned}, pyproject.toml asks {req.specifier}")
    return problems


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    problems = disagreements(project_requirements(), lock_pins(LOCK.read_text()))
    assert not problems, "run `make lock` (README, Installs that reproduce): " + "; ".join(problems)


def test_a_lock_that_disagrees_is_caught() -> None:
    reqs = [Requirement("numpy>=2.0"), Requirement("highspy>=1.7")]
    assert disagreements(reqs, {"numpy": "2.4.6", "highspy": "1.16.0"}) == []
    assert disagreements(reqs, {"numpy": "1.26.4", "highspy": "1.16.0"}) == [
        "numpy: lock pins 1.26.4, pyproject.toml asks >=2.0"
    ]
    assert disagreements(reqs, {"numpy": "2.4.6"}) == ["highspy: not in requirements.lock"]


def test_the_tests_run_on_the_locked_versions() -> None:
    """``make`` installs from the lock; an environment that drifted from it fails here."""
    pins = lock_pins(LOCK.read_text())
    drifted = []
    for req in project_requirements():
        name = canonicalize_name(req.name)
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            drifted.append(f"{req.name}: not installed")
            continue
        if pins.get(name) != installed:
            drifted.append(f"{req.name}: installed {installed}, locked {pins.get(name)}")
    assert not drifted, "reinstall with `make` (rm .venv/.installed): " + "; ".join(drifted)


def test_run_json_records_the_installed_versions(subset_outputs: Path) -> None:
    import json

    packages = json.loads((subset_outputs / "run.json").read_text())["environment"]["packages"]
    pins = lock_pins(LOCK.read_text())
    for name in ("numpy", "geopandas", "highspy", "shapely", "folium", "xlsxwriter"):
        assert packages[name] == pins[name], name
