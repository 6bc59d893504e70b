"""Commands ``discover`` (scenario discovery, PRIM or CART) and ``levers`` (robust lever
search).  Heavy modules are imported inside the handlers, so ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path

from .cli import (
    EXIT_OK,
    _add_executor_options,
    _add_replace_option,
    _analysis_folder,
    _checked,
    _positive_int,
    _seed,
)

_share = _checked(float, lambda v: 0 < v <= 1, "a number in (0, 1]")
_fraction = _checked(float, lambda v: 0 < v <= 0.5, "a number in (0, 0.5]")


def register(sub) -> None:
    p = sub.add_parser("discover", help="scenario discovery: the inputs under which an "
                                        "outcome happens (PRIM or CART boxes)")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--outcome", required=True, metavar="OUTCOME",
                   help="the outcome of interest, or several joined by '+' "
                        "(e.g. arrest_surrender+visit_cancelled)")
    p.add_argument("--method", choices=("prim", "cart"), default="prim")
    p.add_argument("--runs", type=_positive_int, default=20_000,
                   help="worlds to run (default 20,000; at most 500,000)")
    p.add_argument("--threshold", type=_share, default=0.8,
                   help="density the box should reach (default 0.8); when none does, the "
                        "densest is taken")
    p.add_argument("--mass-min", type=_fraction, default=0.05,
                   help="smallest share of the worlds a box may hold (default 0.05)")
    p.add_argument("--significance", type=_share, default=0.05,
                   help="PRIM drops restrictions whose quasi-p-value is above this "
                        "(default 0.05; 1 keeps them all)")
    p.add_argument("--include-weights", action="store_true",
                   help="count the behavioural weights drawn from their posterior as inputs")
    p.add_argument("--seed", type=_seed, default=None,
                   help="fixes every result (default: a fresh seed, printed and recorded)")
    p.add_argument("--out", type=Path, default=None, help="new folder for the tables and charts")
    _add_replace_option(p)
    _add_executor_options(p)
    p.set_defaults(handler=_discover)

    p = sub.add_parser("levers", help="robust decision making: lever settings that serve a "
                                      "goal across the uncertainty")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--lever", action="append", required=True, metavar="KEY=LOW:HIGH[:STEPS]",
                   help="a parameter an actor controls, by key path, and its range; repeat "
                        "for more")
    p.add_argument("--goal", action="append", required=True, metavar="OUTCOMES[:max|:min]",
                   help="outcomes whose probability to raise (or lower), joined by '+'; "
                        "give two goals for a Pareto front")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--maximise", dest="maximise", action="store_true", default=True,
                           help="raise the goals' probability (the default)")
    direction.add_argument("--minimise", dest="maximise", action="store_false",
                           help="lower the goals' probability")
    p.add_argument("--steps", type=_positive_int, default=5,
                   help="settings per lever (default 5); every combination runs")
    p.add_argument("--bins", type=_positive_int, default=4,
                   help="quantiles grouping the worlds into scenarios for worst case and "
                        "regret (default 4)")
    p.add_argument("--cost", action="append", default=[], metavar="KEY=PER_UNIT",
                   help="cost of moving a lever one unit from the scenario's value")
    p.add_argument("--constraint", action="append", default=[], metavar="NAME<=VALUE",
                   help="a bound on cost, a lever's value or outcomes' probability, e.g. "
                        "cost<=0.5 or left_early<=0.05")
    p.add_argument("--runs", type=_positive_int, default=20_000,
                   help="worlds per setting (default 20,000), the same worlds for each")
    p.add_argument("--seed", type=_seed, default=None,
                   help="fixes every result (default: a fresh seed, printed and recorded)")
    p.add_argument("--out", type=Path, default=None, help="new folder for the table and chart")
    _add_replace_option(p)
    _add_executor_options(p)
    p.set_defaults(handler=_levers)


def _discover(args) -> int:
    from .analysis.discovery import discover, outcome_set, workbench
    from .output import analysis_provenance
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    outcome = "+".join(outcome_set(args.outcome))  # bad input refused before any folder
    workbench(args.method)
    with _analysis_folder(args, f"discover-{scenario.id}") as folder:
        result = discover(scenario, outcome, method=args.method, runs=args.runs,
                          seed=args.seed, threshold=args.threshold,
                          include_weights=args.include_weights, mass_min=args.mass_min,
                          significance=args.significance, executor=args.executor,
                          workers=args.workers, scheduler=args.scheduler)
        print(result.table())
        names = result.save(folder.path)
        folder.finish(analysis_provenance([scenario], result.seed, outcome=outcome,
                                          method=args.method, runs=args.runs,
                                          threshold=args.threshold, mass_min=args.mass_min,
                                          significance=args.significance,
                                          include_weights=args.include_weights))
    print(f"\nwrote {folder.path}/ ({', '.join(names)}, provenance.json)")
    return EXIT_OK


def _levers(args) -> int:
    from .analysis.levers import Constraint, Goal, Lever, parse_cost, search_levers
    from .errors import UsageError
    from .output import analysis_provenance
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    levers = [Lever.parse(text) for text in args.lever]
    goals = [Goal.parse(text, args.maximise) for text in args.goal]
    costs = dict(parse_cost(text) for text in args.cost)
    constraints = [Constraint.parse(text) for text in args.constraint]
    if len(goals) > 2:
        raise UsageError(f"give one or two --goal, not {len(goals)}")
    for lever in levers:  # every range checked before a folder is claimed
        lever.values(scenario, max(2, min(args.steps, 101)))
    with _analysis_folder(args, f"levers-{scenario.id}") as folder:
        result = search_levers(scenario, levers, goals, runs=args.runs, seed=args.seed,
                               steps=args.steps, bins=args.bins, costs=costs,
                               constraints=constraints, executor=args.executor,
                               workers=args.workers, scheduler=args.scheduler)
        print(result.table())
        names = result.save(folder.path)
        folder.finish(analysis_provenance([scenario], result.seed, runs=args.runs,
                                          levers=args.lever, goals=args.goal,
                                          maximise=args.maximise, steps=args.steps,
                                          bins=args.bins, costs=args.cost,
                                          constraints=args.constraint))
    print(f"\nwrote {folder.path}/ ({', '.join(names)}, provenance.json)")
    return EXIT_OK
