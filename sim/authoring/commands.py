"""The authoring commands: ``sim new`` (a skeleton) and ``sim explain`` (a scenario in prose)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import UsageError

#: Worlds and seed of the explain command's screen (a fixed seed: the same account each time).
SCREEN_RUNS = 20_000
SCREEN_SEED = 1


def register(sub) -> None:
    """Add ``new`` and ``explain`` to the command line's subparsers."""
    from ..cli import _positive_int, _seed

    p = sub.add_parser("new", help="write a commented skeleton for a new scenario (values TODO)")
    p.add_argument("id", metavar="ID", help="the new scenario's id, e.g. brazil_2026_summit")
    p.add_argument("--host", metavar="NAME", default=None,
                   help="the host state's name (its actor id is made from it)")
    p.add_argument("--visitor", metavar="NAME", default=None,
                   help="the visiting state's (or person's) name")
    p.add_argument("--from", dest="base", type=Path, default=None, metavar="SCENARIO",
                   help="copy this scenario's structure (actors, roles, timeline keys) instead "
                        "of one actor of each role; its values are quoted in comments, not copied")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="the file to write (default scenarios/ID.yaml); never over an existing "
                        "file unless --replace")
    p.add_argument("--replace", action="store_true", help="overwrite the --out file if it exists")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR",
                   help="the case library quoted in the comments (default scenarios/cases)")
    p.set_defaults(handler=_new)

    p = sub.add_parser("explain", help="read a scenario back as prose, with flags and the "
                                       "inputs that move the forecast most")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--runs", type=_positive_int, default=SCREEN_RUNS,
                   help=f"worlds per screened value (default {SCREEN_RUNS:,})")
    p.add_argument("--seed", type=_seed, default=SCREEN_SEED,
                   help=f"the screen's common random numbers (default {SCREEN_SEED})")
    p.add_argument("--top", type=_positive_int, default=5,
                   help="inputs listed by the screen (default 5)")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR",
                   help="the case library the values are checked against (default "
                        "scenarios/cases)")
    p.set_defaults(handler=_explain)


def _library(folder: Path | None, exclude: str | None = None):
    from .library import DEFAULT_CASES, CaseLibrary

    return CaseLibrary.load(folder or DEFAULT_CASES, exclude=exclude)


def _new(args) -> int:
    from ..scenario import load_scenario
    from .skeleton import check_request, skeleton, slots_to_fill

    out = args.out or Path("scenarios") / f"{args.id}.yaml"
    check_request(args.id, args.host, args.visitor, args.base)  # before reading the cases
    if (out.exists() or out.is_symlink()) and not args.replace:
        raise UsageError(f"{out} already exists", hint="choose another --out, or add "
                         "--replace to overwrite it")
    base = load_scenario(args.base) if args.base else None
    text = skeleton(args.id, args.host, args.visitor, _library(args.cases), base)
    write_new(out, text, replace=args.replace, make_parent=args.out is None)
    print(f"wrote {out}: {slots_to_fill(text)} values to fill, each with its source "
          "(every TODO)")
    print(f"next: fill it in, then 'python -m sim validate {out}' and "
          f"'python -m sim explain {out}'")
    return 0


def write_new(path: Path, text: str, replace: bool = False, make_parent: bool = False) -> None:
    """Write ``text`` to ``path``: a new file, or a regular file replaced when asked.

    Raises
    ------
    UsageError
        If the file exists (without ``replace``), is not a regular file, or its folder
        does not exist.
    """
    if path.exists() or path.is_symlink():
        if not replace:
            raise UsageError(f"{path} already exists", hint="choose another --out, or add "
                             "--replace to overwrite it")
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"{path} is not a regular file: refused",
                             hint="write the skeleton to a new file with --out")
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.is_dir():
        raise UsageError(f"the folder {path.parent} does not exist",
                         hint="create it first, or choose another --out")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        if replace:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if the file appeared meanwhile: never overwritten
    except FileExistsError:
        raise UsageError(f"{path} already exists", hint="choose another --out, or add "
                         "--replace to overwrite it") from None
    finally:
        temp.unlink(missing_ok=True)


def _explain(args) -> int:
    from ..scenario import load_scenario
    from .explain import explain

    scenario = load_scenario(args.scenario)
    library = _library(args.cases, exclude=scenario.id)
    sys.stdout.write(explain(scenario, library, runs=args.runs, seed=args.seed, top=args.top))
    return 0
