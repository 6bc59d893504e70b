"""Reading one YAML file safely: data only, bounded in size, aliases and depth.

Nothing in a file is executed (``yaml.SafeLoader`` underneath), a key given twice
is an error instead of a silent overwrite, and a document is sized before it is
walked, so an alias bomb costs time in proportion to its text, not its expansion.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import Problem

MAX_FILE_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_DEPTH = 40
MAX_NODES = 100_000


class _SafeLoader(yaml.SafeLoader):
    """Safe YAML that refuses alias bombs (too many aliases) and duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} YAML aliases (*refs): refused")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        # a key given twice would silently drop one value (and its source)
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice in one mapping",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, label: str | None = None) -> tuple[dict | None, list[Problem]]:
    """Read one YAML document safely; problems instead of exceptions.

    Parameters
    ----------
    path : Path
        The file to read.
    label : str, optional
        The name problems give for the file (default: ``str(path)``).

    Returns
    -------
    (document, problems)
        The top-level mapping and an empty list, or ``None`` and the one problem
        that stopped the reading (missing, too large, not UTF-8, invalid YAML, an
        alias bomb, too deep, not a mapping).
    """
    name = label or str(path)
    if not path.exists():
        return None, [Problem(name, "", str(path), "an existing file")]
    if not path.is_file():
        return None, [Problem(name, "", str(path), "a file, not a directory or device")]
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(name, "", f"{size} bytes",
                                  f"a scenario file under {MAX_FILE_BYTES} bytes")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, "", exc.strerror or str(exc), "a readable file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(name, "", "binary content", "a UTF-8 text file holding YAML")]
    try:
        doc = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - _SafeLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        return None, [Problem(name, "", f"invalid YAML at {where}: {exc.problem}",
                              "valid YAML")]
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        return None, [Problem(name, "", f"unreadable YAML ({exc})", "valid YAML")]
    size, depth = _extent(doc, {})
    if depth > MAX_DEPTH or size > MAX_NODES:
        return None, [Problem(name, "", f"a document of {size:,} nodes nested {depth} deep "
                              "(after expanding aliases)",
                              f"a scenario document of at most {MAX_NODES:,} nodes nested at "
                              f"most {MAX_DEPTH} deep")]
    if not isinstance(doc, dict):
        return None, [Problem(name, "", type(doc).__name__ if doc is not None else "an empty file",
                              "a YAML mapping (key: value pairs) at the top level")]
    return doc, []


def _extent(node: object, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, depth) of the document as it would be walked, aliases expanded.

    Shared (aliased) subtrees are measured once, so an alias bomb is sized in
    time proportional to its text, not to its expansion.
    """
    if not isinstance(node, dict | list):
        return 1, 0
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = (MAX_NODES + 1, MAX_DEPTH + 1)  # a cycle counts as too large
    children = node.values() if isinstance(node, dict) else node
    size, depth = 1, 0
    for child in children:
        child_size, child_depth = _extent(child, memo)
        size, depth = size + child_size, max(depth, child_depth)
        if size > MAX_NODES or depth > MAX_DEPTH:
            break
    memo[id(node)] = (size, depth + 1)
    return size, depth + 1
