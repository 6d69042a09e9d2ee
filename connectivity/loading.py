"""Loading a scenario: its file, its keys and values, and the files and columns it names.

:mod:`connectivity.scenario` parses without looking at files; here the file is read
(:func:`connectivity.files.read_scenario_text`) and every layer it names is checked with the
layer readers, so that ``connectivity validate`` and the pipeline list every problem at once.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from connectivity.columns import TABLE_SUFFIXES, match_column, read_columns
from connectivity.errors import ConnectivityError, ScenarioError
from connectivity.files import check_input_file, read_scenario_text
from connectivity.scenario import LayerSpec, Scenario, parse_scenario, parse_yaml


def load_scenario(path: str | Path, *, check_files: bool = True) -> Scenario:
    """Read, check and resolve a scenario file.

    Parameters
    ----------
    path
        A YAML scenario file.
    check_files
        Also check that every input file exists and has the columns the scenario names.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the file cannot be read or parsed, or has any problem; the message lists them all.

    Examples
    --------
    >>> from connectivity import load_scenario
    >>> s = load_scenario("scenarios/bogota_public_wifi.yaml")  # doctest: +SKIP
    >>> s.demand.cell_size_m  # doctest: +SKIP
    100.0
    """
    path = Path(path).expanduser().resolve()
    data = parse_yaml(read_scenario_text(path), source=path)
    scenario, problems = parse_scenario(data, base_dir=path.parent, source=path)
    if scenario is not None and check_files:
        problems += check_scenario_files(scenario)
    if problems or scenario is None:
        raise ScenarioError(problems, str(path))
    return scenario


def check_scenario_files(s: Scenario) -> list[str]:
    """Check that every file a scenario names exists and has the columns it names.

    Returns every problem found, each naming the key, the file and (for a missing column) the
    columns there are, with the closest one; ``connectivity validate`` and :func:`load_scenario`
    report them with the scenario's other problems.
    """
    problems: list[str] = []

    def check(key: str, spec: LayerSpec | None, columns: list[str | None]) -> None:
        if spec is None:
            return
        if not spec.path.exists():
            problems.append(f"{key}.path: file not found: {spec.path}")
            return
        try:
            have = read_columns(spec)
        except ConnectivityError as exc:
            problems.append(f"{key}.path: {exc}")
            return
        wanted = [c for c in columns if c] + list(spec.filter)
        if spec.path.suffix.lower() in TABLE_SUFFIXES:
            wanted += [c for c in (spec.x_column, spec.y_column) if c]
        missing = [col for col in dict.fromkeys(wanted) if match_column(col, have) is None]
        if missing:
            hints = []
            for col in missing:
                close = difflib.get_close_matches(col, have, n=1, cutoff=0.6)
                hints.append(f"'{col}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            noun = "column" if len(missing) == 1 else "columns"
            problems.append(
                f"{key}: {noun} {', '.join(hints)} not in {spec.path.name}. "
                f"Columns there: {', '.join(have)}"
            )

    b = s.backhaul
    for key, path in (
        ("candidates.network", s.candidates.network),
        ("mobile.terrain", s.mobile.terrain if s.mobile is not None else None),
        ("backhaul.fibre.network", b.fibre.network if b and b.fibre else None),
        ("backhaul.microwave.terrain", b.microwave.terrain if b and b.microwave else None),
    ):
        if path is not None:
            try:
                check_input_file(path)
            except ConnectivityError as exc:
                problems.append(f"{key}: {exc}")
    t = s.territory
    check("territory.boundaries", t.boundaries, [t.id_column, t.name_column])
    check("territory.rural_layer", t.rural_layer, [])
    d = s.demand
    group_cols = [c for g in d.groups.values() for c in g.columns]
    layer_cols: list[str | None] = [d.id_column]
    table_cols: list[str | None] = []
    if d.join is not None:
        table_cols = [d.join.table_key or d.join.key, d.population_column, d.internet_share_column]
        table_cols += group_cols
        layer_cols.append(d.join.key)
        check("demand.join.table", d.join.table, table_cols)
        check("demand.layer", d.layer, layer_cols)
    else:
        check(
            "demand.layer",
            d.layer,
            [*layer_cols, d.population_column, d.internet_share_column, *group_cols],
        )
    e = s.existing_coverage
    check("existing_coverage.wifi", e.wifi, [e.name_column])
    for i, c in enumerate(s.candidates.layers):
        if c.osm_tags:
            if not c.path.exists():
                problems.append(f"candidates.layers[{i}].path: file not found: {c.path}")
            continue
        check(f"candidates.layers[{i}]", c, [c.name_column])
    if s.mobile is not None:
        t_spec = s.mobile.transmitters
        if t_spec is not None:
            check(
                "mobile.transmitters",
                t_spec,
                [
                    t_spec.name_column,
                    t_spec.power_column,
                    t_spec.height_column,
                    t_spec.technology_column,
                ],
            )
        if s.mobile.calibration is not None:
            check("mobile.calibration", s.mobile.calibration, [s.mobile.calibration.dbm_column])
        for i, m in enumerate(s.mobile.measured):
            columns: list[str | None] = []
            if m.kind == "speedtest":
                columns = [m.download_column, m.tests_column]
                if m.path.suffix.lower() in TABLE_SUFFIXES:
                    columns.append(m.quadkey_column)
            if m.kind == "places":
                columns = list(m.place_table_columns)
                check(f"mobile.measured[{i}].places", m.places, [m.places_code_column])
            check(f"mobile.measured[{i}]", m, columns)
    if b is not None:
        check("backhaul.hubs", b.hubs, [])
    problems += _check_territories(s)
    return problems


def _check_territories(s: Scenario) -> list[str]:
    """Each territory of a study loads as a scenario of its own (files and columns checked)."""
    t = s.study.territories if s.study is not None else None
    if t is None:
        return []
    problems = []
    for i, path in enumerate(t.scenarios):
        key = f"study.territories.scenarios[{i}]"
        if s.source is not None and path == s.source:
            problems.append(f"{key}: is this scenario, which is always the first territory")
            continue
        try:
            other = load_scenario(path)
        except ConnectivityError as exc:
            problems.append(f"{key}: {path.name}: {exc}")
            continue
        if other.study is not None and other.study.territories is not None:
            problems.append(f"{key}: {path.name} has territories of its own; list them here")
    return problems
