"""Counterfactual files: a ``base`` scenario plus ``overrides``, resolved to one document.

A counterfactual names its base by a path relative to itself and may itself be
the base of another; :func:`resolve_chain` reads the whole chain (refusing
loops, missing bases and over-long chains) and :func:`merge_chain` applies the
overrides from the base outwards, recording which file set each key path so
that a problem can name the file the user has to edit.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ABSENT, Problem
from .reader import read_yaml

#: Most files in a chain: the file given, its base, the base's base, ...
MAX_BASE_CHAIN = 20
#: Longest rationale (and description, source, assumption) in characters; see the checker.
MAX_TEXT = 10_000
COUNTERFACTUAL_KEYS = {"base", "id", "title", "description", "rationale", "overrides"}

#: Keys a counterfactual sets directly (not under ``overrides``).
_OWN_KEYS = ("id", "title", "description")


def scenario_root(path: Path) -> Path:
    """The folder tree that ``path``'s chain of bases must stay in.

    It is the folder above the one holding ``path`` (the file given): a counterfactual in
    ``scenarios/counterfactuals/`` may name ``base: ../mongolia_2024.yaml``, a scenario in
    ``scenarios/`` anything under ``scenarios/``'s parent folder, but never an absolute
    path or ``../../..`` leading elsewhere (symbolic links are followed before checking).
    """
    return Path(os.path.abspath(path)).parent.parent.resolve()


def chain_files(path: str | Path) -> list[Path]:
    """The file and each file it inherits from (``base:``), most derived first (as far as
    they can be read: a broken chain is reported by :func:`resolve_chain`)."""
    chain, _ = resolve_chain(Path(path))
    return [Path(name) for name, _doc in chain]


def resolve_chain(path: Path) -> tuple[list[tuple[str, dict]], list[Problem]]:
    """Read a file and its bases.

    Every base must resolve inside :func:`scenario_root` of ``path``; one that does not
    is refused before it is opened, so nothing read from outside that tree is ever shown.

    Returns
    -------
    (chain, problems)
        ``(file name, document)`` pairs, most derived first (the last has no
        ``base``), and the problems that stopped the walk (then the chain is
        incomplete).
    """
    chain: list[tuple[str, dict]] = []
    seen: list[Path] = []
    root: Path | None = None
    current = path
    while True:
        try:
            resolved = current.resolve()
        except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symbolic link loop
            problem = Problem(str(current), "", str(current), f"a path that can be resolved "
                              f"({exc.__class__.__name__})")
            if chain:
                problem = Problem(chain[-1][0], "base", chain[-1][1].get("base"),
                                  problem.expected)
            return chain, [problem]
        if chain:  # ``current`` is a base named by the last file read
            name, base = chain[-1][0], chain[-1][1].get("base")
            assert root is not None  # set when the file given was resolved
            if not resolved.is_relative_to(root):
                return chain, [Problem(name, "base", base, f"a base scenario file inside {root} "
                                       "(the folder tree of the scenario given: its folder and "
                                       "the folder above it)")]
            if resolved in seen:
                loop = " -> ".join(str(p) for p in [*seen, resolved])
                return chain, [Problem(name, "base", str(current), "a base that does not lead "
                                       f"back to itself (loop: {loop})")]
            if len(seen) >= MAX_BASE_CHAIN:
                return chain, [Problem(name, "base", base, f"a chain of at most "
                                       f"{MAX_BASE_CHAIN} scenario files, counting the file "
                                       "given and each base in turn (this base would be file "
                                       f"{MAX_BASE_CHAIN + 1})")]
        else:
            root = scenario_root(path)
        seen.append(resolved)
        doc, problems = read_yaml(current)
        if problems:
            if chain:  # a missing base is the referring file's problem
                p = problems[0]
                return chain, [Problem(chain[-1][0], "base", chain[-1][1].get("base"),
                                       f"a base scenario file that can be read ({p.expected}; "
                                       f"{p.value})")]
            return chain, problems
        assert doc is not None  # read_yaml gives a mapping whenever it reports no problem
        chain.append((str(current), doc))
        if "base" not in doc:
            return chain, []
        found = counterfactual_problems(str(current), doc)
        if found:
            return chain, found
        current = current.parent / doc["base"]


def counterfactual_problems(name: str, doc: dict) -> list[Problem]:
    """What is wrong with the top level of a counterfactual file (not its overrides)."""
    found = []
    for key in doc:
        if key not in COUNTERFACTUAL_KEYS:
            found.append(Problem(name, str(key), doc[key],
                                 "only base, id, title, description, rationale and overrides "
                                 "in a counterfactual (everything else comes from the base)"))
    if not isinstance(doc.get("base"), str) or not doc["base"]:
        found.append(Problem(name, "base", doc.get("base"), "a path to the base scenario file"))
    if not isinstance(doc.get("overrides", {}), dict):
        found.append(Problem(name, "overrides", doc["overrides"],
                             "a mapping of the base's keys to new values"))
    rationale = doc.get("rationale", ABSENT)
    if not isinstance(rationale, str) or not rationale.strip() or len(rationale) > MAX_TEXT:
        found.append(Problem(name, "rationale", rationale, "text saying why this "
                             f"counterfactual is plausible (at most {MAX_TEXT:,} characters)"))
    return found


def _is_param_spec(node: object) -> bool:
    return isinstance(node, dict) and ("value" in node or "dist" in node)


def merge(base: dict, over: dict, prefix: str, origin: dict[str, str], name: str) -> dict:
    """``base`` with ``over`` applied, recursively.

    A parameter (a mapping with ``value`` or ``dist``) is replaced whole, other
    mappings are merged key by key, and ``null`` removes a key.  Every key path
    set here is recorded in ``origin`` as coming from file ``name``.
    """
    out = dict(base)
    for key, value in over.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if value is None:
            out.pop(key, None)
            origin[path] = name
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and not _is_param_spec(
                value):
            out[key] = merge(out[key], value, path, origin, name)
        else:
            out[key] = value
            origin[path] = name
    return out


def merge_chain(chain: list[tuple[str, dict]]) -> tuple[dict, dict[str, str]]:
    """Apply overrides from the base outwards.

    Returns
    -------
    (document, origin)
        The resolved document, and the file that set each overridden key path
        (``origin[""]`` is the base file, which set everything else).
    """
    base_name, doc = chain[-1]
    origin: dict[str, str] = {"": base_name}
    for name, cf in reversed(chain[:-1]):
        doc = merge(doc, cf.get("overrides") or {}, "", origin, name)
        for key in _OWN_KEYS:
            if key in cf:
                doc[key] = cf[key]
                origin[key] = name
    return doc, origin


def file_for(path: str, origin: dict[str, str]) -> str:
    """The file that set ``path`` (the longest overridden prefix wins)."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in origin:
            return origin[prefix]
    return origin[""]
