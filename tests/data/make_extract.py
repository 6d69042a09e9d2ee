"""Make the small real Bogotá extract in tests/data/bogota_subset/ from data/bogota/.

Run from the repository root: ``python tests/data/make_extract.py``. The extract keeps four
localities' data (03 Santa Fe, 14 Los Mártires, 17 La Candelaria and 20 Sumapaz, the rural one), the
census sectors, Wi-Fi zones and candidate sites that fall in them, and keeps the quirks the
loaders must handle (the Wi-Fi CSV's trailing-space header, the SITP CSV's byte-order mark,
a school with a sentinel coordinate, parks geocoded outside Bogotá).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

SRC = Path("data/bogota")
DST = Path("tests/data/bogota_subset")
CODES = ["03", "14", "17", "20"]


def main() -> None:
    DST.mkdir(parents=True, exist_ok=True)
    loca = gpd.read_file(SRC / "boundaries/localidades/Loca.shp")
    loca.to_file(DST / "localidades.gpkg", driver="GPKG")  # all 20: the scenario picks 4
    loca = loca[loca["LocCodigo"].isin(CODES)]
    area = loca.to_crs(4326).union_all().buffer(0.002)

    upla = gpd.read_file(SRC / "boundaries/upz_upr/UPla.shp")
    upla[upla.intersects(loca.union_all())].to_file(DST / "upz_upr.gpkg", driver="GPKG")

    sectors = gpd.read_file(SRC / "census/BOGOTA_SECTOR_CENSAL.shp")
    sectors = sectors[sectors.intersects(area)]
    sectors.to_file(DST / "sectores.gpkg", driver="GPKG")
    table = pd.read_csv(SRC / "census/sociodemograficas_sector_censal.csv", dtype=str)
    table[table["SETU_CCNCT"].isin(sectors["SETU_CCNCT"])].to_csv(
        DST / "sociodemograficas.csv", index=False
    )

    def points_csv(name: str, x: str, y: str, encoding: str, out: str, keep_bad: int = 0) -> None:
        frame = pd.read_csv(SRC / name, dtype=str, encoding=encoding)
        lon = pd.to_numeric(frame[x].str.replace(" ", ""), errors="coerce")
        lat = pd.to_numeric(frame[y], errors="coerce")
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
        inside = pts.within(area).to_numpy()
        bad = frame.index[~inside & lon.notna().to_numpy()][:keep_bad]
        frame.loc[inside | frame.index.isin(bad)].to_csv(DST / out, index=False, encoding=encoding)

    points_csv(
        "wifi/Zonas_WiFi_Gratis_Para_la_Gente_-_DPTIC_-_Nacional.csv",
        "LONGITUD ",
        "LATITUD",
        "utf-8",
        "wifi.csv",
    )
    points_csv(
        "sites/directorio-parques-y-escenarios-2023-datos-abiertos-v1.0.csv",
        "LONGITUD",
        "LATITUD",
        "utf-8",
        "parques.csv",
        keep_bad=2,
    )
    points_csv(
        "sites/Paraderos_Zonales_del_SITP.csv",
        "longitud",
        "latitud",
        "utf-8-sig",
        "paraderos_sitp.csv",
    )

    schools = gpd.read_file(SRC / "sites/colegios.geojson")
    sentinel = schools[schools.geometry.x < -1e300]
    schools = pd.concat([schools[schools.within(area)], sentinel])
    schools.to_file(DST / "colegios.geojson", driver="GeoJSON")
    for name in ("biblored", "bibliotecas_comunitarias", "cdc", "estaciones-de-transmilenio"):
        layer = gpd.read_file(SRC / f"sites/{name}.geojson")
        layer[layer.within(area)].to_file(DST / f"{name}.geojson", driver="GeoJSON")


if __name__ == "__main__":
    main()
