"""Outputs: the only place where connectivity writes files.

Everything for one run is written into a temporary folder beside the destination and moved
into place only when every file was written; a failed run leaves the previous outputs as they
were (:mod:`~connectivity.outputs.folder`). The parts: :mod:`~connectivity.outputs.writer` (the
run's files and ``run.json``), :mod:`~connectivity.outputs.published` and
:mod:`~connectivity.outputs.privacy` (what may be published), :mod:`~connectivity.outputs.
tables`, :mod:`~connectivity.outputs.webmap`, :mod:`~connectivity.outputs.figures`,
:mod:`~connectivity.outputs.report`, :mod:`~connectivity.outputs.styles`,
:mod:`~connectivity.outputs.raster` and :mod:`~connectivity.outputs.postgis`.
"""

from connectivity.outputs.folder import output_folder
from connectivity.outputs.published import Published, published
from connectivity.outputs.writer import (
    OUTPUT_FILES,
    output_files,
    write_geopackage,
    write_geoparquet,
    write_manifest,
    write_outputs,
    write_site_file,
)

__all__ = [
    "OUTPUT_FILES",
    "Published",
    "output_files",
    "output_folder",
    "published",
    "write_geopackage",
    "write_geoparquet",
    "write_manifest",
    "write_outputs",
    "write_site_file",
]
