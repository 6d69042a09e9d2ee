"""Real services the tests start themselves: a PostgreSQL + PostGIS server and Chromium.

Locally, a test that needs a service that is not installed is skipped. ``.ci/run`` installs
Debian's ``postgresql``, ``postgis`` and ``chromium`` and sets ``CONNECTIVITY_REQUIRE_SERVICES=1``,
which turns every such skip into a failure, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def require(condition: bool, reason: str) -> None:
    """Skip the test if ``condition`` is false, or fail under ``CONNECTIVITY_REQUIRE_SERVICES``."""
    if condition:
        return
    if os.environ.get("CONNECTIVITY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CONNECTIVITY_REQUIRE_SERVICES=1: .ci/run must install it)")
    pytest.skip(reason)


def postgres_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` of the newest installed PostgreSQL."""
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    return roots[-1].parent if roots else None


def postgis_installed(bindir: Path) -> bool:
    version = bindir.parent.name
    return any(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgis_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server with PostGIS on loopback; yield its URL.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
    that Debian's package creates.
    """
    bindir = postgres_bindir()
    require(bindir is not None, "PostgreSQL is not installed (Debian package postgresql)")
    assert bindir is not None
    require(postgis_installed(bindir), "PostGIS is not installed (Debian package postgis)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "runuser is needed to start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="connectivity-pg-"))
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    log = data / "server.log"

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _psql(as_user, bindir, port, "CREATE EXTENSION postgis")
        yield url
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"],
            capture_output=True,
            timeout=60,
        )
        time.sleep(0.1)
        shutil.rmtree(data, ignore_errors=True)


def _psql(as_user: list[str], bindir: Path, port: int, sql: str) -> None:
    subprocess.run(
        [
            *as_user,
            str(bindir / "psql"),
            *("-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres"),
            *("-v", "ON_ERROR_STOP=1", "-c", sql),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def chromium_path() -> str | None:
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)


QGIS_PYTHON = "/usr/bin/python3"
"""Debian's Python, which has QGIS's bindings (``python3-qgis``); the venv cannot import them."""


def qgis_env(runtime_dir: Path) -> dict[str, str]:
    """A clean environment for headless QGIS.

    Not the test process's own: the wheels of pyogrio and pyproj point ``GDAL_DATA`` and
    ``PROJ_DATA`` at their own copies, which crash Debian's GDAL and PROJ under QGIS.
    """
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime_dir)}


def qgis_python() -> str | None:
    """Debian's Python if it can import QGIS (headless), else None."""
    if not Path(QGIS_PYTHON).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(
            [QGIS_PYTHON, "-c", "import qgis.core"],
            capture_output=True,
            env=qgis_env(Path(tmp) / "runtime"),
            check=False,
        )
    return QGIS_PYTHON if probe.returncode == 0 else None
