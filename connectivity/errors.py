"""Errors raised by connectivity.

Every error the toolkit raises on bad input derives from :class:`ConnectivityError`, and also
from the matching built-in exception so that callers can catch either (as rasterio does).
The command line prints the message of these errors without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_PROBLEMS_SHOWN = 25
"""A scenario error lists at most this many problems (and says how many more there are)."""


class ConnectivityError(Exception):
    """Root of every error raised by connectivity on bad input or failed runs."""


class ScenarioError(ConnectivityError, ValueError):
    """A scenario file is invalid.

    Parameters
    ----------
    problems
        Every problem found, each naming the key (and the file where one is involved).
    source
        The scenario file the problems were found in.
    """

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines = "\n".join(f"  - {_cut(p)}" for p in shown)
        n = len(self.problems)
        if n > len(shown):
            lines += f"\n  ... and {n - len(shown)} more (fix these first)"
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the scenario{where}:\n{lines}")


def _cut(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LayerError(ConnectivityError, ValueError):
    """An input layer cannot be used as it is (missing column, no CRS, empty, bad values)."""


class MissingColumnError(LayerError, KeyError):
    """A column named in the scenario does not exist in the layer."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly instead
        return str(self.args[0]) if self.args else ""


class NoCRSError(LayerError):
    """A layer has no coordinate reference system and the scenario does not declare one."""


class InputFileError(ConnectivityError, OSError):
    """An input file is missing or cannot be read."""


class OutputError(ConnectivityError, OSError):
    """Outputs cannot be written where they were asked for."""


class WorkloadError(ConnectivityError, MemoryError):
    """A run would need more memory than the limit allows; nothing was allocated."""


class OptimisationError(ConnectivityError, RuntimeError):
    """A location model cannot be solved as asked (for example, nothing can be selected)."""


class StudyError(ConnectivityError, RuntimeError):
    """A study could not run: no scheduler at the address, a version mismatch, a lost plan."""
