"""Building dataclasses from parsed YAML, collecting every problem instead of stopping at one.

Generic over the dataclasses it builds: each field's type hint says what the YAML value must be
(a number, a path resolved against a folder, a literal, a list, a nested dataclass ...). A
problem names the dotted key; an unknown key gets the closest valid one.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from connectivity._yaml import shorten


class Builder:
    """Builds a dataclass from a mapping, recording every problem (see the module's text)."""

    def __init__(self, base_dir: Path, *, strings_as: dict[type, str] | None = None) -> None:
        self.base_dir = base_dir
        self.strings_as = strings_as or {}  # a type given as a bare string: the field it fills
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def build(self, cls: type, data: Any, key: str) -> Any:
        if not isinstance(data, dict):
            self.problem(key or "(top level)", f"expected a mapping, got {type(data).__name__}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != "source"}
        for unknown in sorted(set(data) - set(fields)):
            close = difflib.get_close_matches(str(unknown)[:80], list(fields), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid = ", ".join(sorted(fields))
            name = str(unknown) if len(str(unknown)) <= 60 else shorten(unknown)
            self.problem(_join(key, name), f"unknown key{hint} (valid keys: {valid})")
        kwargs: dict[str, Any] = {}
        ok = True
        for name, f in fields.items():
            sub = _join(key, name)
            if name not in data:
                required = (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                )
                if required:
                    self.problem(sub, "required key is missing")
                    ok = False
                continue
            value = self.convert(hints[name], data[name], sub)
            if value is INVALID:
                # already reported; fall back to the default (if any) so that the checks of
                # the other values still run and every problem is listed at once
                has_default = (
                    f.default is not dataclasses.MISSING
                    or f.default_factory is not dataclasses.MISSING
                )
                ok = ok and has_default
                continue
            kwargs[name] = value
        if not ok:
            return INVALID
        return cls(**kwargs)

    def convert(self, tp: Any, value: Any, key: str) -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            return self.convert(inner[0], value, key)
        if origin is Literal:
            if value not in args:
                allowed = ", ".join(repr(a) for a in args)
                self.problem(key, f"{shorten(value)} is not one of {allowed}")
                return INVALID
            return value
        if origin is list:
            if not isinstance(value, list):
                value = [value] if isinstance(value, str | int | float) else value
            if not isinstance(value, list):
                self.problem(key, f"expected a list, got {type(value).__name__}")
                return INVALID
            items = [self.convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
            return INVALID if any(i is INVALID for i in items) else items
        if origin is dict:
            if not isinstance(value, dict):
                self.problem(key, f"expected a mapping, got {type(value).__name__}")
                return INVALID
            out = {str(k): self.convert(args[1], v, _join(key, str(k))) for k, v in value.items()}
            return INVALID if any(v is INVALID for v in out.values()) else out
        if dataclasses.is_dataclass(tp):
            if isinstance(value, str) and tp in self.strings_as:
                value = {self.strings_as[tp]: value}
            return self.build(typing.cast(type, tp), value, key)
        if tp is Path:
            if not isinstance(value, str) or not value.strip():
                self.problem(key, "expected a file or folder path")
                return INVALID
            path = Path(value).expanduser()
            return (path if path.is_absolute() else self.base_dir / path).resolve()
        if tp is Any:
            return value
        if tp is bool:
            if not isinstance(value, bool):
                self.problem(key, f"expected true or false, got {shorten(value)}")
                return INVALID
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(key, f"expected a whole number, got {shorten(value)}")
                return INVALID
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.problem(key, f"expected a number, got {shorten(value)}")
                return INVALID
            return float(value)
        if tp is str:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                self.problem(key, f"expected text, got {type(value).__name__}")
                return INVALID
            return str(value)
        raise TypeError(f"unsupported scenario type {tp!r} at {key}")  # pragma: no cover


class _Invalid:
    pass


INVALID: Any = _Invalid()


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
