"""``sim run ITINERARY``: the command line of itineraries.

:func:`run_command` is called by ``sim run`` when its file is an itinerary (a top-level
``visits`` key, :func:`~sim.itinerary.spec.is_itinerary`).  :func:`register` adds
``--given VISIT=OUTCOME`` (repeatable) and ``--precedent-weights FILE`` to ``sim run``
when this module is listed in ``sim.cli.COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from ..errors import UsageError

#: Options of ``sim run`` that itineraries do not take yet, with why.
_REFUSED = {"resume": "run it again with the same --seed: the result is the same",
            "keep_draws": "the draws of each visit are those of its standalone run",
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
    """Run an itinerary from ``sim run``'s arguments; print its tables; write its folder."""
    from ..cli import DEFAULT_PRECISION
    from ..engine import DEFAULT_CHUNK, new_seed
    from .precedent import load_precedent_weights
    from .simulate import run_itinerary
    from .spec import load_itinerary

    for name, hint in _REFUSED.items():
        if getattr(args, name, None) not in (None, False):
            raise UsageError(f"--{name.replace('_', '-')} is not supported for itineraries "
                             f"({args.scenario})", hint=hint)
    itinerary = load_itinerary(args.scenario, weights=getattr(args, "weights", None))
    precedent = load_precedent_weights(getattr(args, "precedent_weights", None))
    conditions = dict(getattr(args, "given", None) or [])
    for visit_id in conditions:  # checked before anything runs
        itinerary.index(visit_id)
    seed = new_seed() if args.seed is None else args.seed
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("results") / itinerary.id / f"{stamp}-seed{seed}"
    precision = args.precision
    if args.runs is None and precision is None:
        precision = DEFAULT_PRECISION  # as sim run: blocks until every interval is narrow
    result = run_itinerary(itinerary, runs=args.runs, seed=seed, precision=precision,
                           precedent=precedent,
                           chunk_size=args.chunk_size or DEFAULT_CHUNK, out=out,
                           executor=args.executor, workers=args.workers,
                           scheduler=args.scheduler, given=conditions or None,
                           progress=False if args.quiet else None)
    print(result.table())
    if precision is not None:
        met = "met" if result.half_width <= precision else "NOT met (stopped at the cap)"
        print(f"(ran blocks of 10,000 until every visit's 95% intervals had half-widths <= "
              f"{precision}: {result.runs:,} worlds; widest half-width "
              f"{result.half_width:.4f}, target {met})")
    if conditions:
        print()
        print(result.given(**conditions).table())
    extra = ", paths_given.png" if conditions else ""
    print(f"\nwrote {out}/ (summary.json, provenance.json, visits.csv, paths.csv, "
          f"paths.png{extra})")
    return 0
