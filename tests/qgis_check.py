"""Open a run's GeoPackage in QGIS itself, headless, and report what QGIS sees as JSON.

Run by Debian's Python, which has QGIS's bindings (``python3-qgis``); the project's own
virtual environment cannot import them. ``tests/test_qgis.py`` starts it and checks the
report::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py RUN/connectivity.gpkg OUT.png

For every layer (except ``layer_styles``): whether it is valid, its CRS as QGIS recognises it,
its feature count, whether a default style was found in the GeoPackage and applied, the
renderer (type, attribute, classes with their labels and colours) and the labelling. Then all
layers are rendered together to ``OUT.png`` and the share of pixels that are not background
is reported.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsDataProvider,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def _renderer(layer: QgsVectorLayer) -> dict[str, object]:
    r = layer.renderer()
    out: dict[str, object] = {"type": r.type()}
    if r.type() == "graduatedSymbol":
        out["attribute"] = r.classAttribute()
        out["classes"] = [
            {
                "lower": c.lowerValue(),
                "upper": c.upperValue(),
                "label": c.label(),
                "colour": c.symbol().color().name(),
            }
            for c in r.ranges()
        ]
    elif r.type() == "singleSymbol":
        out["colour"] = r.symbol().color().name()
    return out


def main(gpkg: str, png: str) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    whole = QgsVectorLayer(gpkg, "all", "ogr")
    names = [
        s.split(QgsDataProvider.SUBLAYER_SEPARATOR)[1] for s in whole.dataProvider().subLayers()
    ]
    report: dict[str, object] = {"qgis": Qgis.QGIS_VERSION}
    layers = {}
    loaded = []
    for name in names:
        if name == "layer_styles":
            continue
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        message, styled = layer.loadDefaultStyle()  # QGIS does this when a layer is added
        layers[name] = {
            "valid": layer.isValid(),
            "crs": layer.crs().authid(),
            "crs_valid": layer.crs().isValid(),
            "features": layer.featureCount(),
            "styled": bool(styled),
            "style_message": message,
            "renderer": _renderer(layer),
            "labels": bool(layer.labelsEnabled()),
            "label_field": layer.labeling().settings().fieldName if layer.labeling() else None,
        }
        loaded.append(layer)
    report["layers"] = layers
    # render every layer together, points on top
    settings = QgsMapSettings()
    order = sorted(loaded, key=lambda lyr: lyr.geometryType())  # points 0, lines 1, polygons 2
    settings.setLayers(order)
    extent = QgsRectangle()
    for lyr in loaded:
        extent.combineExtentWith(lyr.extent())
    settings.setExtent(extent)
    settings.setDestinationCrs(loaded[0].crs())
    settings.setOutputSize(QSize(800, 800))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png, "PNG")
    white = QColor(255, 255, 255).rgb()
    drawn = 0
    colours = set()
    step = 4
    for x in range(0, image.width(), step):
        for y in range(0, image.height(), step):
            pixel = image.pixel(x, y)
            colours.add(pixel)
            drawn += pixel != white
    samples = (image.width() // step + (image.width() % step > 0)) * (
        image.height() // step + (image.height() % step > 0)
    )
    report["render"] = {"drawn_share": drawn / samples, "colours": len(colours)}
    print(json.dumps(report), flush=True)
    # QGIS 3.22 can crash while Python tears its objects down after exitQgis(): the report
    # is out, so leave at once
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
