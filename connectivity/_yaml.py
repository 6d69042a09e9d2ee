"""Reading scenario YAML safely: bounded size, bounded alias expansion, no duplicate keys.

``yaml.safe_load`` never runs code, but it accepts three things a planning tool must not:

- a *billion laughs* file, whose aliases expand into a graph far larger than the text (the
  objects are shared, so loading is quick, but every later walk over the scenario expands it);
- a mapping that gives the same key twice (the last one silently wins);
- a file of any size.

:func:`load_yaml` composes the document first, counts its nodes as they would be once every
alias is expanded, and refuses the file before building any Python object when that count is
above :data:`MAX_NODES`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_BYTES = 1 << 20
"""Largest scenario file read (1 MiB; a scenario is a few kilobytes)."""

MAX_NODES = 100_000
"""Largest number of YAML nodes once aliases are expanded (a scenario has a few hundred)."""


class YamlLimitError(ValueError):
    """The text is valid YAML but breaks one of the limits of a scenario file."""


class _ScenarioLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys in a mapping."""


def _construct_mapping(loader: _ScenarioLoader, node: MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:  # the mapping's own keys; a merge (<<) may override
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"the key {shorten(key)} is given twice (lines {seen[key]} and {line}); "
                    "keep one",
                    key_node.start_mark,
                )
            seen[key] = line
        except TypeError:  # an unhashable key: the constructor below says so
            continue
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=True)


_ScenarioLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def expanded_size(root: Node, limit: int = MAX_NODES) -> int:
    """Return how many nodes the document holds once every alias is expanded.

    Counts bottom-up with one entry per distinct node, so a file of nested aliases is measured
    in time proportional to its text, not to its expansion. Stops counting above ``limit``.
    """
    size: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            size[id(node)] = 1
            continue
        if children_done:
            size[id(node)] = min(limit + 1, 1 + sum(size[id(c)] for c in children))
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def shorten(value: Any, limit: int = 60) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters (for values quoted in messages)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_yaml(text: str) -> Any:
    """Parse one YAML document within the limits of a scenario file.

    Raises
    ------
    YamlLimitError
        The text is longer than :data:`MAX_BYTES`, nests too deeply, or expands to more than
        :data:`MAX_NODES` nodes through aliases.
    yaml.YAMLError
        The text is not valid YAML, or a mapping repeats a key.
    """
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise YamlLimitError(
            f"the file is larger than {MAX_BYTES // 1024} KiB; a scenario is a few kilobytes"
        )
    loader = _ScenarioLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError("the YAML nests too deeply") from None
        if node is None:
            return None
        nodes = expanded_size(node)
        if nodes > MAX_NODES:
            raise YamlLimitError(
                f"the YAML expands to more than {MAX_NODES:,} values through aliases "
                "(& and *); a scenario has a few hundred"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
