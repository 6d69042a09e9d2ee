"""Export a finished run to PostGIS: every layer, with spatial indexes and QGIS styles.

``connectivity export maps/<scenario> --postgis URL [--schema S]`` reads the run's GeoPackage
and writes each layer as a table of one schema (by default named after the output folder, so
two scenarios do not overwrite each other). Everything happens in one transaction: a failed
export leaves the database as it was. Each table gets a GiST index on its geometry, a comment
with the scenario and run date, and its QGIS style in ``layer_styles`` (the table QGIS reads
when a PostGIS layer is added), so layers open styled in QGIS as they do from the GeoPackage.

Needs the optional dependencies ``sqlalchemy``, ``geoalchemy2`` and ``psycopg2``
(``pip install connectivity[postgis]``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from connectivity.errors import OutputError
from connectivity.outputs.styles import LAYER_NAMES, STUDY_LAYER
from connectivity.run_files import read_run_folder

logger = logging.getLogger(__name__)

_STYLES = "layer_styles"
# the table QGIS creates when a style is saved to PostGIS (QgsPostgresProviderMetadata)
_CREATE_STYLES = (
    "CREATE TABLE IF NOT EXISTS public.layer_styles ("
    "id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar, "
    "f_table_name varchar, f_geometry_column varchar, stylename text, styleqml xml, "
    "stylesld xml, useasdefault boolean, description text, "
    "owner varchar(63) DEFAULT CURRENT_USER, ui xml, "
    "update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"
)


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: the schema, the tables and their row counts, the styles."""

    schema: str
    rows: dict[str, int]
    styles: int


def default_schema(folder: Path) -> str:
    """Return a schema name made from an output folder's name (``maps/Bogotá 1`` → ``bogota_1``)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", folder.resolve().name)
    plain = plain.encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9_]+", "_", plain).strip("_") or "connectivity"
    return name if not name[0].isdigit() else f"run_{name}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _engine(url: str) -> Any:
    try:
        import geoalchemy2  # noqa: F401  (geopandas.to_postgis needs it)
        import sqlalchemy
    except ImportError as exc:
        raise OutputError(
            f"PostGIS export needs {exc.name}: pip install 'connectivity[postgis]'"
        ) from None
    try:
        engine = sqlalchemy.create_engine(url)
    except (sqlalchemy.exc.ArgumentError, ImportError, ValueError) as exc:
        raise OutputError(f"--postgis: not a database URL that can be used ({exc})") from None
    if engine.dialect.name != "postgresql":
        raise OutputError(
            f"--postgis: expected a PostgreSQL URL (postgresql://user@host/db), "
            f"got a {engine.dialect.name} URL"
        )
    return engine


def export_to_postgis(
    folder: Path, url: str, *, schema: str | None = None, replace: bool = False
) -> ExportReport:
    """Write every layer of a finished run to a PostGIS database.

    Parameters
    ----------
    folder
        The run's output folder (holding ``run.json`` and ``connectivity.gpkg``).
    url
        SQLAlchemy database URL, for example ``postgresql://user:password@host:5432/db``.
        The password never appears in logs or errors.
    schema
        Schema for the tables; created if missing. Default: named after ``folder``.
    replace
        Replace tables of the same names. Without it, existing tables are an error.

    Returns
    -------
    ExportReport

    Raises
    ------
    InputFileError
        If ``folder`` is not a finished run.
    OutputError
        If the database cannot be reached, lacks PostGIS, or already has the tables (without
        ``replace``). Nothing is written then.
    """
    manifest, layers = read_run_folder(folder, layer_names=(*LAYER_NAMES, STUDY_LAYER, _STYLES))
    schema = schema or default_schema(folder)
    styles = layers.pop(_STYLES, None)
    engine = _engine(url)
    import sqlalchemy

    where = engine.url.render_as_string(hide_password=True)
    rows: dict[str, int] = {}
    n_styles = 0
    try:
        with engine.begin() as conn:
            _check_postgis(conn, where)
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
            existing = _existing_tables(conn, schema, list(layers))
            if existing and not replace:
                raise OutputError(
                    f"{where}: schema '{schema}' already has the tables "
                    f"{', '.join(existing)}; pass --replace to overwrite them or --schema to "
                    "write elsewhere"
                )
            scenario = manifest.get("scenario") or {}
            comment = (
                f"connectivity {manifest.get('connectivity_version', '')}: scenario "
                f"'{scenario.get('name', '')}', run {manifest.get('created_utc', '')}"
            )
            _register_crs(conn, layers)
            for name, frame in layers.items():
                logger.info("PostGIS: writing %s.%s (%d rows)", schema, name, len(frame))
                _write_table(conn, frame, name, schema, replace=replace, comment=comment)
                rows[name] = len(frame)
            if styles is not None:
                n_styles = _write_styles(conn, styles, schema, layers)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OutputError(f"{where}: export failed, nothing was written ({message})") from None
    finally:
        engine.dispose()
    logger.info(
        "PostGIS: %d tables and %d styles written to schema '%s' of %s",
        len(rows),
        n_styles,
        schema,
        where,
    )
    return ExportReport(schema=schema, rows=rows, styles=n_styles)


def _check_postgis(conn: Any, where: str) -> None:
    have = conn.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
    ).scalar_one_or_none()
    if have is None:
        raise OutputError(
            f"{where}: the PostGIS extension is not enabled in this database; run "
            "'CREATE EXTENSION postgis;' as its owner first"
        )


def _register_crs(conn: Any, layers: dict[str, pd.DataFrame]) -> None:
    """Add the layers' CRS to ``spatial_ref_sys`` when PostGIS lacks it.

    PostGIS 3.3 (Debian 12) has no EPSG:9377 (MAGNA-SIRGAS / Origen-Nacional, Colombia's
    official CRS since 2020); without a row there QGIS shows the layers with an unknown CRS.
    """
    srids = {
        (frame.crs.to_epsg(), frame.crs)
        for frame in layers.values()
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and frame.crs.to_epsg()
    }
    for srid, crs in srids:
        have = conn.exec_driver_sql(
            "SELECT 1 FROM spatial_ref_sys WHERE srid = %(s)s", {"s": srid}
        ).scalar_one_or_none()
        if have is not None:
            continue
        import warnings

        from pyproj.enums import WktVersion

        with warnings.catch_warnings():  # PROJ strings are lossy; PostGIS still wants one
            warnings.simplefilter("ignore", UserWarning)
            proj4 = crs.to_proj4()
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(
                    "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                    "VALUES (%(s)s, 'EPSG', %(s)s, %(wkt)s, %(proj)s)",
                    {"s": srid, "wkt": crs.to_wkt(WktVersion.WKT1_GDAL), "proj": proj4},
                )
            logger.info("PostGIS: added EPSG:%d (%s) to spatial_ref_sys", srid, crs.name)
        except Exception as exc:  # no INSERT right on spatial_ref_sys
            logger.warning(
                "PostGIS: EPSG:%d is missing from spatial_ref_sys and could not be added (%s); "
                "GIS clients may not recognise the layers' CRS",
                srid,
                str(getattr(exc, "orig", exc)).strip().splitlines()[0],
            )


def _existing_tables(conn: Any, schema: str, names: list[str]) -> list[str]:
    found = conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %(s)s",
        {"s": schema},
    ).scalars()
    return sorted(set(found) & set(names))


def _write_table(
    conn: Any, frame: pd.DataFrame, name: str, schema: str, *, replace: bool, comment: str
) -> None:
    table = f"{_quote(schema)}.{_quote(name)}"
    if replace:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    if isinstance(frame, gpd.GeoDataFrame):
        # GeoAlchemy2 (which to_postgis uses) creates the GiST index on the geometry column
        frame.to_postgis(name, conn, schema=schema, if_exists="fail", index=False)
    else:
        frame.to_sql(name, conn, schema=schema, if_exists="fail", index=False)
    literal = "'" + comment.replace("'", "''") + "'"  # COMMENT takes no bound parameters
    conn.exec_driver_sql(f"COMMENT ON TABLE {table} IS {literal}")
    conn.exec_driver_sql(f"ANALYZE {table}")


def _write_styles(
    conn: Any, styles: pd.DataFrame, schema: str, layers: dict[str, pd.DataFrame]
) -> int:
    """Put each layer's QGIS style into ``public.layer_styles``, where QGIS looks for it."""
    catalog = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(_CREATE_STYLES)
    except Exception as exc:  # e.g. no CREATE right on public (the default since PostgreSQL 15)
        logger.warning(
            "PostGIS: QGIS styles not written: cannot create public.layer_styles (%s)",
            str(getattr(exc, "orig", exc)).strip().splitlines()[0],
        )
        return 0
    cols = {c.lower(): c for c in styles.columns}
    n = 0
    for _, row in styles.iterrows():
        table = str(row[cols["f_table_name"]])
        frame = layers.get(table)
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        key = {"cat": catalog, "sch": schema, "tab": table, "geo": frame.geometry.name}
        conn.exec_driver_sql(
            "DELETE FROM public.layer_styles WHERE f_table_catalog = %(cat)s AND "
            "f_table_schema = %(sch)s AND f_table_name = %(tab)s AND "
            "f_geometry_column = %(geo)s",
            key,
        )
        conn.exec_driver_sql(
            "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, stylename, styleqml, stylesld, useasdefault, description, type) "
            "VALUES (%(cat)s, %(sch)s, %(tab)s, %(geo)s, %(name)s, "
            "XMLPARSE(DOCUMENT %(qml)s), NULL, true, %(desc)s, %(type)s)",
            {
                **key,
                "name": str(row[cols["stylename"]]),
                "qml": str(row[cols["styleqml"]]),
                "desc": str(row[cols["description"]] or ""),
                "type": _qgis_geometry_type(frame),
            },
        )
        n += 1
    return n


def _qgis_geometry_type(frame: gpd.GeoDataFrame) -> str:
    kinds = set(frame.geom_type.dropna().unique())
    if kinds <= {"Point", "MultiPoint"}:
        return "Point"
    if kinds <= {"LineString", "MultiLineString"}:
        return "Line"
    return "Polygon"


__all__ = ["ExportReport", "default_schema", "export_to_postgis"]
