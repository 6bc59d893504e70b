"""Commands ``forecast``, ``resolve`` and ``ledger`` (see :func:`register`).

Only argparse and the ledger's light modules are imported here; the engine, pandas and
matplotlib are imported inside the handlers, so that ``python -m sim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

from ..outcomes import OUTCOMES

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _add_ledger_option(p) -> None:
    from .store import DEFAULT_LEDGER

    p.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, metavar="PATH",
                   help=f"the ledger file (default {DEFAULT_LEDGER} in the current folder)")


def register(sub) -> None:
    """Add the ``forecast``, ``resolve`` and ``ledger`` commands to the subparsers ``sub``."""
    from ..cli import _positive_int, _seed, add_weights_options
    from .forecast import DEFAULT_RUNS

    p = sub.add_parser("forecast", help="run a scenario and record its forecast in the ledger")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--question", required=True,
                   help="the question the forecast answers, in words")
    p.add_argument("--runs", type=_positive_int, default=DEFAULT_RUNS,
                   help=f"replications (default {DEFAULT_RUNS:,})")
    p.add_argument("--seed", type=_seed, default=None,
                   help="fixes the result (default: a fresh seed, recorded)")
    add_weights_options(p)
    p.add_argument("--supersedes", type=_positive_int, default=None, metavar="ID",
                   help="the entry this forecast replaces (entries are never edited)")
    _add_ledger_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=forecast_command)

    p = sub.add_parser("resolve", help="record the outcome of a forecast in the ledger")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("outcome", choices=OUTCOMES, metavar="OUTCOME",
                   help="what happened: " + ", ".join(OUTCOMES))
    p.add_argument("--date", type=_iso_date, required=True, metavar="D",
                   help="the date it happened, YYYY-MM-DD")
    p.add_argument("--source", required=True, metavar="URL",
                   help="where it is reported")
    _add_ledger_option(p)
    p.set_defaults(handler=resolve_command)

    p = sub.add_parser("ledger", help="list the ledger's forecasts and score the resolved ones")
    _add_ledger_option(p)
    p.add_argument("--plot", type=Path, default=None, metavar="FILE",
                   help="also draw the mean Brier and log scores to date (PNG)")
    p.add_argument("--replace", action="store_true",
                   help="replace the --plot file if it exists")
    p.set_defaults(handler=ledger_command)


def forecast_command(args) -> int:
    from ..cli import EXIT_OK, weights_for
    from .forecast import make_forecast
    from .store import Ledger, LedgerError, check_writable

    if not args.question.strip():
        raise LedgerError("the --question is empty",
                          hint='e.g. --question "Will Mongolia arrest Putin during his visit?"')
    check_writable(args.ledger, args.supersedes)  # before the run, not after
    forecast, result = make_forecast(args.scenario, args.question, runs=args.runs,
                                     seed=args.seed, weights=weights_for(args),
                                     supersedes=args.supersedes,
                                     progress=False if args.quiet else None)
    print(result.table())
    with Ledger.open(args.ledger, create=True) as ledger:
        entry_id = ledger.add_forecast(forecast)
    print(f"\nrecorded in {args.ledger}" + (f" (supersedes entry {args.supersedes})"
                                             if args.supersedes else ""))
    print(f"id: {entry_id}")
    return EXIT_OK


def resolve_command(args) -> int:
    from ..cli import EXIT_OK
    from .scoring import brier, log_score, smoothed
    from .store import Ledger

    with Ledger.open(args.ledger, write=True) as ledger:
        entry = ledger.resolve(args.id, args.outcome, args.date, args.source)
    p = smoothed(entry)
    print(f"resolved entry {entry.id} ({entry.scenario_id}): {args.outcome} on "
          f"{args.date.isoformat()}; p = {p[OUTCOMES.index(args.outcome)]:.3f}, Brier "
          f"{brier(p, args.outcome):.3f}, log {log_score(p, args.outcome):.3f}")
    return EXIT_OK


def ledger_command(args) -> int:
    from ..cli import EXIT_OK
    from .scoring import score
    from .store import Ledger, LedgerError

    if args.plot is not None:
        from ..errors import UsageError
        from ..output import check_new_file

        try:
            check_new_file(args.plot, replace=args.replace, what="chart file")
        except UsageError as exc:  # its hint names --out, which this command calls --plot
            raise UsageError(str(exc), hint=exc.hint.replace("--out", "--plot")) from None
    with Ledger.open(args.ledger) as ledger:
        entries = ledger.entries()
    scores = score(entries)
    if args.plot is not None and not scores.rows:
        raise LedgerError(f"nothing to plot: {args.ledger} has no resolved forecast yet",
                          hint="resolve one with 'python -m sim resolve ID OUTCOME --date D "
                               "--source URL'")
    print(listing(entries, args.ledger))
    print()
    print(scores.table())
    if args.plot is not None:
        import matplotlib.pyplot as plt

        from ..output import save_chart

        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        scores.plot(ax=axes[0], score="brier")
        scores.plot(ax=axes[1], score="log")
        save_chart(axes, args.plot)
        print(f"\nwrote {args.plot}")
    return EXIT_OK


def listing(entries, path) -> str:
    """The ledger's entries as text: one line each, its question below it."""
    resolved = sum(e.resolution is not None for e in entries)
    n = len(entries)
    lines = [f"forecast ledger {path}: {n} entr{'y' if n == 1 else 'ies'}, {resolved} resolved"]
    if not entries:
        return lines[0]
    short = ("arrest", "hosted", "left", "cancel")
    lines.append(f"{'id':>4}  {'recorded':<11}{'as of':<11}{'scenario':<24}"
                 + "".join(f"{s:>8}" for s in short) + "  status")
    for e in entries:
        probabilities = "".join(f"{e.outcomes[o].probability:>8.3f}" for o in OUTCOMES)
        if e.superseded_by is not None:
            status = f"superseded by {e.superseded_by}"
        elif e.resolution is not None:
            status = ""
        else:
            status = "open"
        if e.resolution is not None:
            r = e.resolution
            status = (f"{status}; " if status else "") + \
                f"resolved {r.outcome} on {r.resolved_on.isoformat()}"
        if e.supersedes is not None:
            status += f" (replaces {e.supersedes})"
        scenario = e.scenario_id if len(e.scenario_id) <= 23 else e.scenario_id[:22] + "~"
        lines.append(f"{e.id:>4}  {e.created_utc[:10]:<11}{e.forecast_date.isoformat():<11}"
                     f"{scenario:<24}{probabilities}  {status}")
        question = " ".join(e.question.split())
        lines.append(f"{'':6}{question if len(question) <= 110 else question[:107] + '...'}")
    return "\n".join(lines)
