"""One parametrised test over the folder of small broken inputs (tests/data/broken/*).

Each case folder holds ``case.yaml``: a ``patch`` merged into the subset scenario (relative
paths in it resolve against the case folder; ``{index: {...}}`` edits one list item) and what
is expected: the ``stage`` that fails (``validate`` or ``run``, optionally with ``strict``), the
error class and a regex; or ``run_ok`` with the cleaning counts expected in one layer's report
and the blank values expected in the demographic data (units and file rows per column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import connectivity
from connectivity import ConnectivityError, load_scenario, run_scenario

from .conftest import DATA, subset_dict, write_scenario

CASES = sorted(p.parent for p in (DATA / "broken").glob("*/case.yaml"))
PATH_KEYS = {"path", "table", "boundaries", "layer"}


def _merge(base: Any, patch: Any, folder: Path, key: str = "") -> Any:
    if isinstance(patch, dict) and isinstance(base, list):
        out = list(base)
        for index, value in patch.items():
            out[int(index)] = _merge(base[int(index)], value, folder)
        return out
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base.get(k), v, folder, k)
        return out
    if key in PATH_KEYS and isinstance(patch, str) and "." in patch:
        return str((folder / patch).resolve())
    if isinstance(base, dict) and isinstance(patch, str) and key in PATH_KEYS - {"path"}:
        return str((folder / patch).resolve())
    return patch


def test_every_case_is_listed() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_input_gives_a_clear_error(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    expect = spec["expect"]
    data = _merge(subset_dict(), spec["patch"], case)
    path = write_scenario(tmp_path, data)
    strict = bool(expect.get("strict", False))
    if expect["stage"] == "run_ok":  # repaired or dropped with a count, and the run goes on
        results = run_scenario(load_scenario(path), strict=strict)
        reports = {r.role: r.cleaned for r in results.load_reports}
        for what, count in expect.get("cleaned", {}).items():
            assert reports[expect["layer"]].get(what) == count, reports[expect["layer"]]
        missing = {m.column: m for m in results.missing_values}
        for column, want in expect.get("missing", {}).items():
            assert missing[column].units == want["units"], missing[column]
            assert list(missing[column].rows) == want["rows"], missing[column]
        assert set(missing) == set(expect.get("missing", {})), missing
        return
    error = getattr(connectivity, expect["error"])
    assert issubclass(error, ConnectivityError)
    if expect["stage"] == "validate":
        with pytest.raises(error, match=expect["match"]):
            load_scenario(path)
    else:
        scenario = load_scenario(path)
        limit = int(expect["max_memory_gb"] * 2**30) if "max_memory_gb" in expect else None
        with pytest.raises(error, match=expect["match"]):
            run_scenario(scenario, strict=strict, max_memory_bytes=limit)
