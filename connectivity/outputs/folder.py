"""The output folder: replaced only when it holds a run of this program, locked, all or nothing.

Rules, in the order a run meets them:

1. **Checked before computing.** The destination must be new, empty, or a folder this program
   wrote: a ``run.json`` of format :data:`RUN_FORMAT` that lists every file in the folder, each
   with a name this program writes. Anything else (a user's file beside the outputs, a folder
   of other work, a forged ``run.json`` listing a user's file) is refused before any work.
2. **Locked.** A lock file beside the folder (``.<name>.lock``, :mod:`filelock`) keeps a second
   run out until the first is done; the second is refused at once with a clear message.
3. **Recovered.** What an interrupted run left beside the folder is cleaned: half-written
   ``.<name>.partial-*`` folders of dead processes, and ``.<name>.old-*`` folders (an earlier
   run moved aside; restored when the new one never arrived).
4. **All or nothing.** Outputs are written into a ``.partial`` folder and swapped in whole
   (:mod:`connectivity._atomic`); the folder keeps its permissions. A failure (a full disk
   included) or SIGTERM leaves the earlier outputs as they were.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectivity._atomic import new_partial_folder, swap_folder
from connectivity.errors import OutputError
from connectivity.files import glob_escape

logger = logging.getLogger(__name__)

RUN_FORMAT = "connectivity-run/1"
"""The ``format`` that ``run.json`` carries; a folder is replaced only under this format."""

MANIFEST = "run.json"
MIN_FREE_BYTES = 64 * 2**20
"""A run is refused before computing when the destination's disk has less free space."""

_FIXED_NAMES = {
    "connectivity.gpkg",
    "selected_sites.csv",
    "summary_by_locality.csv",
    "plan_comparison.csv",
    "reach_comparison.csv",
    "map.html",
    "map.png",
    "report.html",
    "plan.kmz",
    "tables.xlsx",
    "signal_dbm.tif",
    "study.csv",
    "study.json",
    "study_budget_curve.png",
    "study_equity_frontier.png",
    "study_phases.png",
    "study_robustness.png",
    MANIFEST,
    "atlas/atlas.pdf",
}
_PATTERNS = (
    re.compile(r"atlas/[A-Za-z0-9_-]{1,40}\.png"),
    re.compile(r"geoparquet/[a-z_]{1,40}\.parquet"),
)


def is_output_name(name: str) -> bool:
    """Whether ``name`` (relative, with ``/``) is a file this program writes in a run folder."""
    return name in _FIXED_NAMES or any(p.fullmatch(name) for p in _PATTERNS)


def folder_files(folder: Path) -> list[str]:
    """Every file and link below ``folder``, relative with ``/`` (folders themselves left out)."""
    names = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            names.append((base / name).as_posix())
    return sorted(names)


def check_destination(out_dir: Path, *, names: frozenset[str] | None = None) -> None:
    """Refuse a destination that is not new, empty or a run this program wrote.

    ``names``: for folders without a ``run.json`` (a comparison), the only files the folder
    may hold to be replaced.

    Raises
    ------
    OutputError
        ``out_dir`` is a file, holds files this program did not write, or its disk is full.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder; choose a folder")
    if out_dir.is_dir():
        present = folder_files(out_dir)
        if present:
            foreign = (
                _foreign_files(out_dir, present)
                if names is None
                else [n for n in present if n not in names or (out_dir / n).is_symlink()]
            )
            if foreign:
                more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
                shown = ", ".join(repr(n[:80]) for n in foreign[:5]) + more
                raise OutputError(
                    f"{out_dir}: the folder holds files that no connectivity run wrote there "
                    f"({shown}); it is never replaced. Move them, or choose an empty or new "
                    "folder with --out"
                )
    probe = out_dir if out_dir.exists() else _existing_parent(out_dir)
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise OutputError(
            f"{out_dir}: only {free / 2**20:.0f} MB free on its disk; a run needs at least "
            f"{MIN_FREE_BYTES / 2**20:.0f} MB. Free some space or write elsewhere with --out"
        )


def _existing_parent(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(os.sep)


def _foreign_files(out_dir: Path, present: list[str]) -> list[str]:
    """Return the files that the folder's ``run.json`` does not account for (all, without one)."""
    manifest = _read_manifest(out_dir / MANIFEST)
    if manifest is None:
        return present
    listed = manifest.get("files")
    if manifest.get("format") == RUN_FORMAT and isinstance(listed, list):
        allowed = {str(n) for n in listed if isinstance(n, str) and is_output_name(n)}
    elif "connectivity_version" in manifest and "outputs" in manifest:
        allowed = {n for n in present if is_output_name(n)}  # a run of version 0.1
    else:
        return present
    return [
        n
        for n in present
        if (n not in allowed and _sidecar_of(n) not in allowed) or (out_dir / n).is_symlink()
    ]


_SIDECARS = (".aux.xml", "-wal", "-shm", "-journal")


def _sidecar_of(name: str) -> str | None:
    """Return the file GDAL or SQLite made ``name`` beside (``x.gpkg.aux.xml`` → ``x.gpkg``)."""
    for suffix in _SIDECARS:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.is_file() or path.is_symlink():
        return None
    try:
        if path.stat().st_size > 16 * 2**20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def atomic_folder(
    out_dir: Path, *, names: frozenset[str] | None = None, doing: list[str] | None = None
) -> Iterator[Path]:
    """Give a hidden folder to write into; swap it in place of ``out_dir`` when the block ends.

    The destination is checked and locked as by :func:`output_folder`. If the block raises,
    the hidden folder is removed and ``out_dir`` stays as it was; a full disk, or any other
    failure to write, becomes an :class:`OutputError` naming ``doing[0]`` (the file being
    written, kept up to date by the caller).
    """
    with output_folder(out_dir, names=names) as out:
        try:
            tmp = new_partial_folder(out)
        except OSError as exc:
            raise OutputError(f"{out}: cannot create the output folder: {exc}") from None
        try:
            yield tmp
            swap_folder(tmp, out)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            what = f" while writing {doing[0]}" if doing else ""
            if disk_full(exc):
                raise OutputError(
                    f"{out}: no space left on the disk{what}; nothing was replaced and the "
                    "earlier outputs are unchanged. Free some space, or write elsewhere with --out"
                ) from None
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise OutputError(f"{out}: cannot write the outputs{what}: {exc}") from None
            raise


@contextmanager
def output_folder(out_dir: Path, *, names: frozenset[str] | None = None) -> Iterator[Path]:
    """Check, lock and tidy a destination for the duration of a run.

    ``names``: see :func:`check_destination`.

    Yields
    ------
    Path
        The destination, absolute (symlinks resolved).

    Raises
    ------
    OutputError
        The destination cannot be used (see :func:`check_destination`), or another run holds
        its lock.
    """
    from filelock import FileLock, Timeout

    out_dir = Path(out_dir).expanduser().resolve()
    check_destination(out_dir, names=names)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir.parent}: cannot create the folder: {exc}") from None
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    lock = FileLock(lock_path, timeout=0, is_singleton=True)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{out_dir}: another connectivity run is writing to this folder (lock "
            f"{lock_path.name}); wait for it to finish, or choose another folder with --out"
        ) from None
    except OSError as exc:
        raise OutputError(f"{lock_path}: cannot create the lock file: {exc}") from None
    try:
        recover(out_dir)
        check_destination(out_dir, names=names)  # again, now that no other run can change it
        yield out_dir
    finally:
        lock.release()


def recover(out_dir: Path) -> None:
    """Clean what interrupted runs left beside ``out_dir`` (call with the lock held)."""
    parent = out_dir.parent
    stem = f".{out_dir.name}"
    for leftover in sorted(parent.glob(f"{glob_escape(stem)}.partial-*")):
        try:
            pid = int(leftover.name.rsplit(".partial-", 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _process_alive(pid) and leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
            logger.info("outputs: removed %s left by an interrupted run", leftover.name)
    olds = sorted(
        (p for p in parent.glob(f"{glob_escape(stem)}.old-*") if p.is_dir() and not p.is_symlink()),
        key=lambda p: p.stat().st_mtime,
    )
    if olds and not out_dir.exists():  # killed between moving the old run aside and the new in
        newest = olds.pop()
        newest.replace(out_dir)
        logger.warning("outputs: restored %s, which an interrupted run had moved aside", out_dir)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
        logger.info("outputs: removed %s left by an interrupted run", old.name)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def disk_full(exc: BaseException) -> bool:
    """Whether an error means the disk (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc)
