"""Files on disk: checks before anything opens them, checksums, a layer's files.

A FIFO, a socket or a device named as a layer would make a reader wait forever; every reader
calls :func:`check_input_file` first. GDAL is kept from writing sidecar files beside the files
it reads (:func:`no_sidecar_files`): reading never changes the user's folders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyogrio

from connectivity.errors import InputFileError, ScenarioError
from connectivity.scenario import LayerSpec

MAX_SCENARIO_BYTES = 1 << 20
"""Largest scenario file read (1 MiB; a scenario is a few kilobytes)."""


@contextmanager
def no_sidecar_files() -> Iterator[None]:
    """Stop GDAL from writing ``.aux.xml`` files beside the files it reads.

    GDAL's GeoPackage driver writes dataset metadata to a sidecar ``.aux.xml`` when it closes
    a file opened only for reading; reading must never change the user's folders.
    """
    pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": None})


def check_input_file(path: Path, role: str = "", *, allow_folder: bool = False) -> None:
    """Refuse a path that is missing or that is not a regular file, before anything opens it.

    A FIFO, a socket or a device named as a layer would make a reader wait forever (or read
    without end); a folder is accepted only where a format is one (``allow_folder``, e.g. an
    ESRI File Geodatabase). For a Shapefile, every sidecar file (``.dbf``, ``.shx`` ...) is
    checked too.

    Raises
    ------
    InputFileError
        Naming the path, the role and what it is.
    """
    where = f" ({role})" if role else ""
    if not path.exists():
        raise InputFileError(f"{path}{where}: file not found")
    paths = [path]
    if path.suffix.lower() == ".shp":
        paths += [p for p in path.parent.glob(glob_escape(path.stem) + ".*") if p != path]
    for p in paths:
        if p.is_file() or (allow_folder and p == path and p.is_dir()):
            continue
        kind = "a folder" if p.is_dir() else "not a regular file (a FIFO, socket or device)"
        raise InputFileError(f"{p}{where}: {kind}; name a data file")


def glob_escape(text: str) -> str:
    """Escape the characters ``glob`` treats as patterns (``*?[``) in a file name."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file (for ``run.json``)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def layer_files(spec: LayerSpec) -> list[Path]:
    """Return every file on disk that makes up a layer (a Shapefile has several)."""
    path = spec.path
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(glob_escape(path.stem) + ".*") if p.is_file())
    return [path]


def read_scenario_text(path: Path) -> str:
    """Return a scenario file's text, refusing what is not a small regular UTF-8 file.

    Raises
    ------
    ScenarioError
        The file does not exist, is not a regular file (a folder, FIFO or device), is larger
        than :data:`MAX_SCENARIO_BYTES`, or cannot be read as UTF-8.
    """
    if not path.exists():
        raise ScenarioError(["the scenario file does not exist"], str(path))
    if not path.is_file():  # a folder, a FIFO or a device: reading could hang or fail
        raise ScenarioError(["not a regular file; name a YAML scenario file"], str(path))
    try:
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(
                [
                    f"the file is larger than {MAX_SCENARIO_BYTES // 1024} KiB; a scenario is a "
                    "few kilobytes"
                ],
                str(path),
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"cannot read the file: {exc}"], str(path)) from None
