"""Reading one YAML file safely: data only, bounded in size, aliases and depth.

Nothing in a file is executed (``yaml.SafeLoader`` underneath), a key given twice
is an error instead of a silent overwrite, and a document is sized before it is
walked, so an alias bomb costs time in proportion to its text, not its expansion.
"""

from __future__ import annotations

import os
import stat
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

    def construct_yaml_timestamp(self, node):
        # a date that looks right but does not exist (2024-02-30) stays text, so that
        # validation refuses it at its key instead of failing the whole file
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def construct_yaml_int(self, node):
        # an integer of more digits than Python converts (4,300) stays text, refused at
        # its key; one merely too large for a float is refused at its key by validation
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)


_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLoader.construct_yaml_timestamp)
_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)


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
        raw = _read_regular(path)
    except _NotRegular:
        return None, [Problem(name, "", str(path), "a file, not a directory or device")]
    except _TooLarge as exc:
        return None, [Problem(name, "", str(exc), f"a scenario file under {MAX_FILE_BYTES} bytes")]
    except (OSError, ValueError) as exc:
        return None, [Problem(name, "", getattr(exc, "strerror", None) or str(exc),
                              "a readable file")]
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


class _NotRegular(Exception):
    pass


class _TooLarge(Exception):
    pass


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, at most :data:`MAX_FILE_BYTES` of them.

    Opened without blocking and checked on the open file itself: a FIFO, a device or
    a socket put in the file's place after it was looked at is refused, not waited on,
    and a file that reports a size of 0 but never ends (``/proc``, ``/dev/zero``) is read
    no further than the limit.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular
        if info.st_size > MAX_FILE_BYTES:
            raise _TooLarge(f"{info.st_size} bytes")
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise _TooLarge(f"more than {MAX_FILE_BYTES} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


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
