"""``sim run ITINERARY``: the command line of itineraries.

:func:`run_command` is called by ``sim run`` when its file is an itinerary (a top-level
``visits`` key, :func:`~sim.itinerary.spec.is_itinerary`).  :func:`register` adds
``--given VISIT=OUTCOME`` (repeatable) and ``--precedent-weights FILE`` to ``sim run``
when this module is listed in ``sim.cli.COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ..errors import UsageError

#: Options of ``sim run`` that itineraries do not take yet, with why.
_REFUSED = {"keep_draws": "the draws of each visit are those of its standalone run",
            "as_of": "give --weights FILE (an as-of fit) instead"}


def _condition(text: str) -> tuple[str, str]:
    visit, sep, outcome = text.partition("=")
    if not sep or not visit or not outcome:
        raise argparse.ArgumentTypeError(f"expected VISIT=OUTCOME, got {text!r}")
    return visit.strip(), outcome.strip()


def register(sub) -> None:
    """Add the itinerary options to the ``run`` subcommand of ``sub``."""
    run = sub.choices["run"]
    run.add_argument("--given", type=_condition, action="append", default=None,
                     metavar="VISIT=OUTCOME",
                     help="itineraries: also report the numbers in the worlds where VISIT had "
                          "OUTCOME (repeat to combine)")
    run.add_argument("--precedent-weights", type=Path, default=None, metavar="FILE",
                     help="itineraries: precedent weights file (default: the prior, "
                          "sim/data/precedent_prior.yaml)")


def is_itinerary_run(args) -> bool:
    """Whether ``sim run``'s file is an itinerary; for a single scenario, the itinerary
    options are refused (one line) rather than ignored."""
    from .spec import is_itinerary

    if is_itinerary(args.scenario):
        return True
    for name in ("given", "precedent_weights"):
        if getattr(args, name, None):
            raise UsageError(f"--{name.replace('_', '-')} is for itineraries (a file with a "
                             f"top-level visits: list), and {args.scenario} is not one")
    return False


def run_command(args) -> int:
    """Run an itinerary from ``sim run``'s arguments (or finish an interrupted one, with
    ``--resume DIR``); print its tables; write its folder."""
    from ..cli import DEFAULT_PRECISION, EXIT_INTERRUPTED, check_resume_options
    from ..engine import DEFAULT_CHUNK, new_seed
    from .precedent import load_precedent_weights
    from .simulate import run_itinerary
    from .spec import load_itinerary

    for name, hint in _REFUSED.items():
        if getattr(args, name, None) not in (None, False):
            raise UsageError(f"--{name.replace('_', '-')} is not supported for itineraries "
                             f"({args.scenario})", hint=hint)
    if args.resume:
        check_resume_options(args)
    itinerary = load_itinerary(args.scenario, weights=getattr(args, "weights", None))
    precedent = load_precedent_weights(getattr(args, "precedent_weights", None))
    conditions = dict(getattr(args, "given", None) or [])
    for visit_id in conditions:  # checked before anything runs
        itinerary.index(visit_id)
    seed = args.seed
    precision = args.precision
    if args.resume:
        out = args.resume  # its seed, runs, chunking and precision are the run's own
    else:
        seed = new_seed() if seed is None else seed
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = args.out or Path("results") / itinerary.id / f"{stamp}-seed{seed}"
        if args.runs is None and precision is None:
            precision = DEFAULT_PRECISION  # as sim run: blocks until every interval is narrow
    try:
        result = run_itinerary(itinerary, runs=args.runs, seed=seed, precision=precision,
                               precedent=precedent,
                               chunk_size=args.chunk_size or DEFAULT_CHUNK,
                               out=None if args.resume else out, resume=args.resume,
                               executor=args.executor, workers=args.workers,
                               scheduler=args.scheduler, given=conditions or None,
                               progress=False if args.quiet else None)
    except KeyboardInterrupt:
        print(f"\n{_interrupted(Path(out), args.scenario)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(result.table())
    _print_precision(Path(out), result)
    if conditions:
        print()
        print(result.given(**conditions).table())
    extra = ", paths_given.png" if conditions else ""
    print(f"\nwrote {out}/ (summary.json, provenance.json, visits.csv, paths.csv, "
          f"paths.png{extra})")
    return 0


def _interrupted(out: Path, scenario: Path) -> str:
    """What an interrupted run left, and how to finish it."""
    if (out / "run.json").is_file() and not (out / "summary.json").exists():
        return (f"interrupted: no summary was written; the finished chunks are kept in {out}: "
                f"continue with 'python -m sim run {scenario} --resume {out}'")
    return ("interrupted: the itinerary run wrote no results (run it again with the same "
            "--seed for the same result)")


def _print_precision(out: Path, result) -> None:
    """Say how a run to a precision target ended (from its summary: a resumed run's
    target is the one it started with)."""
    target = json.loads((out / "summary.json").read_text()).get("precision")
    if target is None:
        return
    met = "met" if target["met"] else "NOT met (stopped at the cap)"
    print(f"(ran blocks of 10,000 until every visit's 95% intervals had half-widths <= "
          f"{target['target']}: {result.runs:,} worlds; widest half-width "
          f"{target['half_width']:.4f}, target {met})")
