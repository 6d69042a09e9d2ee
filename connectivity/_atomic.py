"""Replacing files and folders atomically: the one helper for every file or folder written.

A reader (or a crash) sees either the old content or the new, never half of it: the new one is
written beside its destination under a hidden name and moved onto it in one ``rename``. Used
for run folders and comparisons (:mod:`connectivity.outputs.folder`, which adds the rules for
what may be replaced), chosen-site files and the street-graph cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_file(path: Path) -> Iterator[Path]:
    """Yield a new hidden path beside ``path`` (not created); move it onto ``path`` at the end.

    The path keeps ``path``'s suffix, so writers that choose a format by it (GDAL, pandas) work.
    If the block raises, whatever was written there is removed and ``path`` is untouched.
    """
    tmp = path.parent / f".{path.stem}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}"
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def new_partial_folder(path: Path) -> Path:
    """Create the hidden folder a new version of the folder ``path`` is written into."""
    return Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-{os.getpid()}-", dir=path.parent))


def swap_folder(tmp: Path, path: Path) -> None:
    """Move the folder ``tmp`` to ``path``, replacing what is there and keeping its permissions.

    The earlier folder is first moved aside (``.<name>.old-*``) and removed only once the new one
    is in place; if the second move fails, it is moved back.
    """
    mode = path.stat().st_mode & 0o7777 if path.is_dir() else 0o777 & ~_umask()
    tmp.chmod(mode)
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        old.rmdir()
        path.replace(old)
    try:
        tmp.replace(path)
    except OSError:
        if old is not None:
            old.replace(path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
