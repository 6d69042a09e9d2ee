from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from connectivity import InputFileError, LayerError, MissingColumnError, NoCRSError
from connectivity.columns import read_columns, read_table
from connectivity.layers import read_layer
from connectivity.scenario import LayerSpec

from .conftest import SUBSET

METRIC = "EPSG:9377"


def test_wifi_csv_trailing_space_header_and_filter() -> None:
    spec = LayerSpec(
        path=SUBSET / "wifi.csv",
        x_column="LONGITUD",
        y_column="LATITUD",
        filter={"MUNICIPIO": "Bogotá D.C."},
    )
    assert "LONGITUD" in read_columns(spec)
    gdf, report = read_layer(spec, role="wifi", metric_crs=METRIC, geometry="point")
    assert gdf.crs.to_epsg() == 9377
    assert report.cleaned["column names with stray spaces trimmed"] == 1
    assert len(gdf) == report.rows_kept > 0


def test_sitp_byte_order_mark_is_removed_and_counted() -> None:
    spec = LayerSpec(path=SUBSET / "paraderos_sitp.csv", x_column="longitud", y_column="latitud")
    gdf, report = read_layer(spec, role="sitp", metric_crs=METRIC, geometry="point")
    assert report.cleaned["UTF-8 byte-order mark removed from the header"] == 1
    assert "X" in gdf.columns  # the first column, which carried the BOM


def test_school_with_sentinel_coordinate_is_dropped() -> None:
    spec = LayerSpec(path=SUBSET / "colegios.geojson")
    gdf, report = read_layer(spec, role="schools", metric_crs=METRIC, geometry="point")
    key = "rows with missing, non-finite or sentinel coordinates dropped"
    assert report.cleaned[key] == 1
    assert report.rows_read - report.rows_kept == 1
    assert shapely.is_valid(gdf.geometry.to_numpy()).all()


def test_points_outside_the_territory_are_dropped(subset_results) -> None:
    spec = LayerSpec(path=SUBSET / "parques.csv", x_column="LONGITUD", y_column="LATITUD")
    outline = subset_results.territory.outline
    gdf, report = read_layer(
        spec, role="parks", metric_crs=METRIC, geometry="point", clip_to=outline
    )
    assert report.cleaned["points outside the territory dropped"] >= 2
    assert gdf.within(outline).all()


def test_decimal_commas_and_stray_spaces_are_mended(tmp_path: Path) -> None:
    path = tmp_path / "pts.csv"
    path.write_text('name;lon;lat\na;"-74,07";"4,60"\nb;- 74.08;4.61\n', encoding="utf-8")
    gdf, report = read_layer(
        LayerSpec(path=path, x_column="lon", y_column="lat"),
        role="pts",
        metric_crs="EPSG:4326",
        geometry="point",
    )
    assert gdf.geometry.x.round(2).tolist() == [-74.07, -74.08]
    assert gdf.geometry.y.round(2).tolist() == [4.60, 4.61]
    assert sum(report.cleaned.values()) >= 2


def test_latin1_csv_is_detected_or_declared(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("nombre,lon,lat\nBelén,-75.6,6.23\n".encode("cp1252"))
    spec = LayerSpec(path=path, x_column="lon", y_column="lat")
    gdf, report = read_layer(spec, role="pts", metric_crs=METRIC, geometry="point")
    assert gdf["nombre"].tolist() == ["Belén"]
    assert report.cleaned["text is not UTF-8; decoded as cp1252 (declare 'encoding')"] == 1
    spec.encoding = "cp1252"
    gdf, report = read_layer(spec, role="pts", metric_crs=METRIC, geometry="point")
    assert gdf["nombre"].tolist() == ["Belén"]
    assert not report.cleaned
    spec.encoding = "utf-8"
    with pytest.raises(LayerError, match="text is not valid utf-8"):
        read_layer(spec, role="pts", metric_crs=METRIC, geometry="point")


def test_columns_match_ignoring_case_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "pts.csv"
    path.write_text(" Lon ,LAT,Nombre\n-74.07,4.6,a\n", encoding="utf-8")
    spec = LayerSpec(path=path, x_column="lon", y_column="lat")
    gdf, report = read_layer(
        spec, role="pts", metric_crs=METRIC, geometry="point", expected=["nombre"]
    )
    assert "nombre" in gdf.columns
    assert report.cleaned["column names matched ignoring case"] == 3


def test_swapped_latitude_and_longitude(subset_results, tmp_path: Path) -> None:
    path = tmp_path / "swapped.csv"
    # the file's "lon" column holds latitudes and "lat" longitudes
    path.write_text("lon,lat\n4.60,-74.07\n4.59,-74.08\n4.595,-74.075\n", encoding="utf-8")
    spec = LayerSpec(path=path, x_column="lon", y_column="lat")
    with pytest.raises(LayerError, match="latitude and longitude look swapped"):
        read_layer(
            spec,
            role="pts",
            metric_crs=METRIC,
            geometry="point",
            clip_to=subset_results.territory.outline,
        )


def test_metres_labelled_as_degrees(tmp_path: Path) -> None:
    path = tmp_path / "metres.csv"
    path.write_text("x,y\n4880000,2060000\n4881000,2061000\n", encoding="utf-8")
    spec = LayerSpec(path=path, x_column="x", y_column="y")
    with pytest.raises(LayerError, match="they look like metres, but the layer says degrees"):
        read_layer(spec, role="pts", metric_crs=METRIC, geometry="point")
    spec.crs = "EPSG:9377"
    gdf, _ = read_layer(spec, role="pts", metric_crs=METRIC, geometry="point")
    assert len(gdf) == 2


def test_strict_turns_dropped_rows_into_errors(subset_results) -> None:
    spec = LayerSpec(path=SUBSET / "parques.csv", x_column="LONGITUD", y_column="LATITUD")
    with pytest.raises(
        LayerError, match=r"points outside the territory dropped: \d+ \(rows .*--strict"
    ):
        read_layer(
            spec,
            role="parks",
            metric_crs=METRIC,
            geometry="point",
            clip_to=subset_results.territory.outline,
            strict=True,
        )


def test_text_in_a_coordinate_column_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("lon,lat\n-74.1,4.6\nabc,4.6\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"column 'lon' has values that are not numbers \(rows 2"):
        read_layer(
            LayerSpec(path=path, x_column="lon", y_column="lat"),
            role="pts",
            metric_crs=METRIC,
            geometry="point",
        )


def test_missing_file() -> None:
    with pytest.raises(InputFileError, match="file not found"):
        read_layer(LayerSpec(path=SUBSET / "nope.gpkg"), role="x", metric_crs=METRIC)


def test_layer_without_crs(tmp_path: Path) -> None:
    shp = tmp_path / "nocrs.shp"  # a Shapefile without .prj has no CRS
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(-74.1, 4.6)]).to_file(shp)
    with pytest.raises(NoCRSError, match=r"nocrs\.shp \(x\): the layer has no CRS; add 'crs:"):
        read_layer(LayerSpec(path=shp), role="x", metric_crs=METRIC)
    gdf, _ = read_layer(LayerSpec(path=shp, crs="EPSG:4326"), role="x", metric_crs=METRIC)
    assert gdf.crs.to_epsg() == 9377


def test_missing_coordinate_column_lists_the_columns(tmp_path: Path) -> None:
    spec = LayerSpec(path=SUBSET / "wifi.csv", x_column="LON", y_column="LATITUD")
    with pytest.raises(MissingColumnError, match=r"'LON'.*Columns there: OPERADOR"):
        read_layer(spec, role="wifi", metric_crs=METRIC, geometry="point")


def test_wrong_geometry_type() -> None:
    with pytest.raises(LayerError, match="expected point geometries, found Polygon"):
        read_layer(
            LayerSpec(path=SUBSET / "localidades.gpkg"),
            role="x",
            metric_crs=METRIC,
            geometry="point",
        )


def test_filter_that_keeps_nothing_is_an_error() -> None:
    spec = LayerSpec(path=SUBSET / "localidades.gpkg", filter={"LocCodigo": "99"})
    with pytest.raises(LayerError, match="has no rows"):
        read_layer(spec, role="x", metric_crs=METRIC)


def test_invalid_polygon_is_repaired_and_counted(tmp_path: Path) -> None:
    x, y = 4.88e6, 2.07e6  # in Bogotá, EPSG:9377
    bowtie = shapely.Polygon([(x, y), (x + 1, y + 1), (x + 1, y), (x, y + 1), (x, y)])
    path = tmp_path / "bowtie.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[bowtie], crs=METRIC).to_file(path)
    gdf, report = read_layer(LayerSpec(path=path), role="x", metric_crs=METRIC, geometry="polygon")
    assert report.cleaned["invalid polygons repaired (make_valid)"] == 1
    assert gdf.is_valid.all()
    assert gdf.area.iloc[0] == pytest.approx(0.5)


def test_read_table_keeps_codes_as_text() -> None:
    table, report = read_table(LayerSpec(path=SUBSET / "sociodemograficas.csv"), role="t")
    assert table["SETU_CCNCT"].str.len().eq(18).all()
    assert report.rows_read == len(table)


def test_lon_lat_points_are_read_once_into_the_local_utm_zone(tmp_path: Path, caplog) -> None:
    import logging

    from connectivity.layers import read_points

    path = tmp_path / "sites.csv"
    path.write_text("lon,lat\n-74.08,4.60\n-74.07,4.61\n")
    with caplog.at_level(logging.INFO, logger="connectivity"):
        gdf, report = read_points(path, role="--candidates")
    assert gdf.crs.to_epsg() == 32618  # UTM 18N, Bogotá's zone
    assert report.rows_kept == 2
    assert sum("read 2 rows" in r.getMessage() for r in caplog.records) == 1
