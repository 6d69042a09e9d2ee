"""PostGIS export against a real PostgreSQL + PostGIS server that the test starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest

from connectivity.cli import main
from connectivity.errors import InputFileError, OutputError
from connectivity.outputs.postgis import default_schema, export_to_postgis
from connectivity.run_files import read_run_folder
from tests.conftest import GIS_LAYERS
from tests.servers import postgis_server

sqlalchemy = pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def postgis_url() -> Iterator[str]:
    with postgis_server() as url:
        yield url


def _query(url: str, sql: str, **params: object) -> list[tuple]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql, params or None)]
    finally:
        engine.dispose()


def test_default_schema_is_a_plain_name() -> None:
    assert default_schema(Path("maps/Bogotá público-1")) == "bogota_publico_1"
    assert default_schema(Path("maps/2024")) == "run_2024"


def test_cli_export_writes_every_layer_with_indexes_crs_and_styles(
    subset_outputs: Path, postgis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", str(subset_outputs), "--postgis", postgis_url, "--schema", "pruebas"])
    assert code == 0
    assert "pruebas" in capsys.readouterr().out
    _, layers = read_run_folder(subset_outputs, layer_names=GIS_LAYERS)
    engine = sqlalchemy.create_engine(postgis_url)
    try:
        for name in GIS_LAYERS:
            local = layers[name]
            remote = gpd.read_postgis(
                f'SELECT * FROM pruebas."{name}"', engine, geom_col="geometry"
            )
            assert len(remote) == len(local), name
            assert remote.crs == local.crs, name
            assert set(local.columns) <= set(remote.columns), name
            assert remote.geometry.geom_equals_exact(local.geometry, tolerance=1e-6).all(), name
    finally:
        engine.dispose()
    srids = dict(
        _query(
            postgis_url,
            "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = 'pruebas'",
        )
    )
    assert set(srids.values()) == {9377}
    # PostGIS 3.3 lacks Colombia's EPSG:9377; the export registers it so clients know the CRS
    (srtext,) = _query(postgis_url, "SELECT srtext FROM spatial_ref_sys WHERE srid = 9377")
    assert "Origen-Nacional" in srtext[0]
    indexed = [
        table
        for table, definition in _query(
            postgis_url,
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'pruebas'",
        )
        if "USING gist" in definition
    ]
    assert sorted(indexed) == sorted(srids)  # one spatial index per table
    styles = _query(
        postgis_url,
        "SELECT f_table_name, useasdefault, styleqml::text FROM public.layer_styles "
        "WHERE f_table_schema = 'pruebas' AND f_table_catalog = 'postgres' "
        "AND f_geometry_column = 'geometry'",
    )
    assert {s[0] for s in styles} == set(srids)
    assert all(s[1] and "<qgis" in s[2] for s in styles)
    (comment,) = _query(postgis_url, "SELECT obj_description('pruebas.selected_sites'::regclass)")
    assert "bogota_subset" in comment[0]


def test_existing_tables_are_kept_unless_replace(subset_outputs: Path, postgis_url: str) -> None:
    export_to_postgis(subset_outputs, postgis_url, schema="dos")
    _query_exec(postgis_url, "DELETE FROM dos.selected_sites WHERE rank > 3")
    with pytest.raises(OutputError, match=r"already has the tables.*--replace"):
        export_to_postgis(subset_outputs, postgis_url, schema="dos")
    # the failed export changed nothing
    assert _query(postgis_url, "SELECT count(*) FROM dos.selected_sites") == [(3,)]
    report = export_to_postgis(subset_outputs, postgis_url, schema="dos", replace=True)
    n_sites = report.rows["selected_sites"]
    assert n_sites > 3
    assert _query(postgis_url, "SELECT count(*) FROM dos.selected_sites") == [(n_sites,)]


def test_a_failed_export_leaves_the_database_as_it_was(
    subset_outputs: Path, postgis_url: str
) -> None:
    # the database refuses the last layer: a type named like it already exists in the schema
    _query_exec(postgis_url, "CREATE SCHEMA tres; CREATE TYPE tres.gaps AS (x int)")
    with pytest.raises(OutputError, match=r"nothing was written.*gaps"):
        export_to_postgis(subset_outputs, postgis_url, schema="tres")
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tres'"
    assert _query(postgis_url, tables) == [(0,)]
    assert _query(
        postgis_url, "SELECT count(*) FROM public.layer_styles WHERE f_table_schema = 'tres'"
    ) == [(0,)]


def test_errors_name_the_problem(subset_outputs: Path, postgis_url: str, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"run\.json: not found"):
        export_to_postgis(tmp_path, postgis_url)
    with pytest.raises(OutputError, match="expected a PostgreSQL URL"):
        export_to_postgis(subset_outputs, "sqlite:///x.db")
    secret = postgis_url.replace("postgres@", "postgres:s3cret@").rsplit(":", 1)[0] + ":1/x"
    with pytest.raises(OutputError) as info:
        export_to_postgis(subset_outputs, secret)
    assert "s3cret" not in str(info.value)
    _query_exec(postgis_url, "CREATE DATABASE sin_postgis")
    with pytest.raises(OutputError, match="PostGIS extension is not enabled"):
        export_to_postgis(subset_outputs, postgis_url.rsplit("/", 1)[0] + "/sin_postgis")
    manifest = json.loads((subset_outputs / "run.json").read_text())
    assert manifest["scenario"]["name"] == "bogota_subset"


def _query_exec(url: str, sql: str) -> None:
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def test_reading_a_run_leaves_its_folder_unchanged(subset_outputs: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(subset_outputs, copy)
    before = sorted(p.name for p in copy.iterdir())
    read_run_folder(copy, layer_names=GIS_LAYERS)
    assert sorted(p.name for p in copy.iterdir()) == before  # no GDAL .aux.xml sidecar


def test_export_writes_only_the_documented_layers(
    subset_outputs: Path, postgis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A table slipped into the GeoPackage is never exported, so --replace cannot drop yours."""
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(subset_outputs, copy)
    foreign = gpd.GeoDataFrame({"who": ["x"]}, geometry=gpd.points_from_xy([0], [0]), crs=4326)
    foreign.to_file(copy / "connectivity.gpkg", layer="usuarios", driver="GPKG")
    _query_exec(postgis_url, "CREATE SCHEMA IF NOT EXISTS atacada")
    _query_exec(
        postgis_url,
        "CREATE TABLE atacada.usuarios (id int); INSERT INTO atacada.usuarios VALUES (1)",
    )
    with caplog.at_level("WARNING"):
        report = export_to_postgis(copy, postgis_url, schema="atacada", replace=True)
    assert set(report.rows) == set(GIS_LAYERS)
    assert "layers that a run does not write are left out: 'usuarios'" in caplog.text
    assert _query(postgis_url, "SELECT id FROM atacada.usuarios") == [(1,)]
