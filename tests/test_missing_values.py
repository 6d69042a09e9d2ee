"""Blank values in the demographic data are counted, named, recorded and never zeros."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from connectivity import LayerError, load_scenario, run_to_folder
from connectivity.demand import units_from_layers
from connectivity.scenario import DemandSpec, GroupSpec, JoinSpec, LayerSpec

from .conftest import DATA, subset_dict, write_scenario

CRS = "EPSG:9377"


def _spec(**kwargs: object) -> DemandSpec:
    return DemandSpec(
        layer=LayerSpec(path=Path("sectores.gpkg")),
        id_column="id",
        population_column="pop",
        internet_share_column="net",
        join=JoinSpec(table=LayerSpec(path=Path("tabla.csv")), key="id"),
        groups={
            "older": GroupSpec(columns=["old"], kind="count", multiplier=0.5),
            "low": GroupSpec(columns=["low"], kind="share", multiplier=1.0),
        },
        **kwargs,  # type: ignore[arg-type]
    )


def _layer(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [str(i) for i in range(n)]},
        geometry=[shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(n)],
        crs=CRS,
    )


def _table(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pop", "net", "old", "low"])
    frame.insert(0, "id", [str(i) for i in range(len(rows))])
    return frame.replace("", np.nan)


def test_blank_population_leaves_the_unit_out_and_says_where() -> None:
    table = _table(
        [("100", "0.5", "10", "0.2"), ("", "0.5", "10", "0.2"), ("50", "0.4", "5", "0.1")]
    )
    units, missing = units_from_layers(_layer(3), table, _spec())
    assert units["population"].tolist() == [100.0, 0.0, 50.0]
    (record,) = missing
    assert (record.column, record.rows, record.units) == ("pop", (2,), 1)
    assert "tabla.csv" in record.path and "unit left out" in record.rule


def test_blank_share_is_the_mean_of_the_others_never_zero() -> None:
    table = _table([("100", "0.8", "10", "0.2"), ("300", "", "30", ""), ("100", "0.4", "", "0.6")])
    units, missing = units_from_layers(_layer(3), table, _spec())
    # the population-weighted mean of the known shares: (100 0.8 + 100 0.4) / 200
    assert units.loc[1, "internet_share"] == pytest.approx(0.6)
    assert units.loc[1, "low"] == pytest.approx(0.4)
    # a blank count: the unit's population times the share of the group elsewhere (40 / 400)
    assert units.loc[2, "older"] == pytest.approx(100 * 40 / 400)
    assert {m.column: m.rows for m in missing} == {"net": (2,), "low": (2,), "old": (3,)}
    assert all(m.people > 0 for m in missing)


def test_blanks_where_nobody_lives_change_nothing() -> None:
    table = _table([("100", "0.5", "10", "0.2"), ("0", "", "", "")])
    units, missing = units_from_layers(_layer(2), table, _spec())
    assert missing == []
    assert units.loc[1, ["population", "internet_share", "older", "low"]].tolist() == [0, 0, 0, 0]


def test_strict_refuses_blanks_naming_file_column_and_rows() -> None:
    table = _table([("100", "0.5", "10", "0.2"), ("80", "", "10", "0.2")])
    with pytest.raises(
        LayerError, match=r"tabla.csv: column 'net' is blank in 1 units .*rows 2,.*--strict"
    ):
        units_from_layers(_layer(2), table, _spec(), strict=True)


def test_a_column_blank_everywhere_is_an_error() -> None:
    table = _table([("100", "", "10", "0.2"), ("80", "", "10", "0.2")])
    with pytest.raises(LayerError, match="column 'net' is blank in every unit where people live"):
        units_from_layers(_layer(2), table, _spec())


def test_percentages_are_recognised() -> None:
    table = _table([("100", "67", "10", "0.2"), ("80", "45.5", "10", "0.2")])
    with pytest.raises(LayerError, match=r"look like percentages: divide the column by 100"):
        units_from_layers(_layer(2), table, _spec())


def test_blanks_are_recorded_in_run_json_and_warned(tmp_path: Path, caplog) -> None:
    data = subset_dict()
    data["demand"]["join"]["table"] = str(DATA / "broken" / "blank_population" / "tabla.csv")
    scenario = load_scenario(write_scenario(tmp_path, data))
    out = tmp_path / "out"
    with caplog.at_level("WARNING"):
        run_to_folder(scenario, out)
    assert "column 'STP27_PERS' is blank in 3 units where people live (rows 3, 5, 8" in caplog.text
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    (record,) = run["missing_values"]
    assert record["column"] == "STP27_PERS" and record["rows"] == [3, 5, 8]
    assert record["rule"] == "unit left out"
