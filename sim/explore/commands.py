"""The ``explore`` command: serve the explorer panel as a web page on this machine."""

from __future__ import annotations

from pathlib import Path

from . import DEFAULT_RUNS, DEFAULT_SEED, MAX_RUNS

DEFAULT_SCENARIOS = Path("scenarios")
DEFAULT_SCENARIO = DEFAULT_SCENARIOS / "mongolia_2024.yaml"
DEFAULT_PORT = 8866


def _whole(low: int, high: int, what: str):
    from ..cli import _checked

    return _checked(int, lambda v: low <= v <= high, what)


def register(sub) -> None:
    """Add ``explore`` to the command line's subparsers."""
    p = sub.add_parser("explore", help="serve the interactive explorer as a web page",
                       description="Serve the explorer (sliders for a scenario's parameters, "
                                   "the baseline against the variant, the drivers) as a web "
                                   "page, with a picker over the scenarios. Needs the "
                                   "'explore' extra (Voila).")
    p.add_argument("scenario", type=Path, nargs="?", default=None, metavar="SCENARIO",
                   help=f"the scenario shown first (default {DEFAULT_SCENARIO})")
    p.add_argument("--scenarios", type=Path, default=DEFAULT_SCENARIOS, metavar="DIR",
                   help=f"folder of scenarios the picker offers (default {DEFAULT_SCENARIOS}/)")
    p.add_argument("--port", type=_whole(1, 65535, "a port from 1 to 65535"),
                   default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--runs", type=_whole(1, MAX_RUNS, f"a whole number from 1 to {MAX_RUNS:,}"),
                   default=DEFAULT_RUNS,
                   help=f"runs per update (default {DEFAULT_RUNS:,}; at most {MAX_RUNS:,})")
    p.add_argument("--seed", type=_whole(0, 2**63 - 1, "a whole number >= 0 as the seed"),
                   default=DEFAULT_SEED,
                   help=f"fixes every number on the page (default {DEFAULT_SEED})")
    p.set_defaults(handler=_explore)


def _explore(args) -> int:
    import sys

    from ..errors import UsageError
    from ..scenario import load_scenario
    from .serve import serve

    if not args.scenarios.is_dir():
        raise UsageError(f"no folder of scenarios at {args.scenarios}",
                         hint="give one with --scenarios DIR, or run from the repository")
    scenario = args.scenario or DEFAULT_SCENARIO
    load_scenario(scenario)  # a bad file is reported now, in one line per problem
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: listening on {args.host}: anyone who can reach this address can use the "
              "explorer (each visitor has a kernel of their own)", file=sys.stderr)
    return serve(args.scenarios, scenario, args.host, args.port, args.runs, args.seed)
