"""Command line: ``python -m sim COMMAND ...``.

It parses arguments, calls the Python API, prints, and exits with a code:
0 success, 2 bad input (a scenario, an argument, an output path), 3 results could not
be written (disk full, folder removed), 130 interrupted.
Bad input never shows a traceback, nor does any error of the operating system.
Every command that writes claims its output before computing (see
:class:`sim.output.OutputFolder`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
from pathlib import Path

from .errors import OutputError, ScenarioError, SimError, UsageError
from .outcomes import OUTCOMES

EXIT_OK, EXIT_BAD_INPUT, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 2, 3, 130
DEFAULT_PRECISION = 0.005


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line with a hint, exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"error: {message}\nhint: run '{self.prog} --help' for usage\n")


def _checked(convert, ok, expected: str):
    """An argparse type: ``convert`` the text, then require ``ok(value)``."""

    def parse(text: str):
        try:
            value = convert(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a whole number >= 1")
_seed = _checked(int, lambda v: v >= 0, "a whole number >= 0 as the seed")
_half_width = _checked(float, lambda v: 0 < v < 0.5, "a half-width between 0 and 0.5")
_whole = _checked(int, lambda v: v >= 0, "a whole number >= 0")
DEFAULT_MCMC_STEPS = 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _add_run_options(p, runs: int) -> None:
    """Options shared by the commands that run many scenarios."""
    p.add_argument("--runs", type=_positive_int, default=runs,
                   help=f"replications per scenario or point (default {runs:,})")
    p.add_argument("--seed", type=_seed, default=None,
                   help="fixes every result (default: a fresh seed, printed and recorded)")
    p.add_argument("--out", type=Path, default=None, help="new folder for the table and chart")
    _add_replace_option(p)
    _add_executor_options(p)


def add_weights_options(p) -> None:
    """``--weights``, or ``--as-of`` with ``--cases``: the options :func:`weights_for`
    reads (``run``, ``forecast``)."""
    p.add_argument("--weights", type=Path, default=None,
                   help="behavioural weights file (default: the shipped calibration)")
    p.add_argument("--as-of", action="store_true",
                   help="weights fitted only on the cases resolved before the scenario's "
                        "forecast date (fitted once, then cached in results/cache/weights)")
    p.add_argument("--cases", type=Path, default=Path("scenarios/cases"), metavar="DIR",
                   help="the case library --as-of fits on (default scenarios/cases)")


def _add_replace_option(p, what: str = "folder") -> None:
    p.add_argument("--replace", action="store_true",
                   help=f"replace the --out {what} if it holds an earlier (or interrupted) "
                        "result of this command")


def _add_executor_options(p, default: str = "serial") -> None:
    p.add_argument("--executor", choices=("serial", "threads", "processes", "dask"),
                   default=default,
                   help="where the work runs: this process, its threads (the local cores), "
                        f"local processes, or Dask (default {default})")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="threads, processes or Dask workers (default: the local cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of an existing Dask scheduler (with --executor dask)")


def _analysis_folder(args, name: str):
    """Claim where an analysis writes, before it computes: ``--out``, or a new time-stamped
    folder under results/.

    The claim checks the path, creates the folder and locks it; if the analysis then fails
    before writing anything (bad input found late, an interrupt), the folder is removed.
    """
    from .engine import new_seed
    from .output import OutputFolder

    if args.seed is None:
        args.seed = new_seed()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("results") / name / f"{stamp}-seed{args.seed}"
    return OutputFolder.claim(out, args.command, "provenance.json", replace=args.replace)


def build_parser() -> argparse.ArgumentParser:
    from .analysis.defaults import DEFAULT_FORECAST_RUNS

    parser = _Parser(prog="python -m sim",
                     description="Forecast the outcome of a visit by a person wanted by the ICC.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check scenario files; exit 0 if all are valid")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")

    p = sub.add_parser("run", help="run a scenario's Monte Carlo forecast")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--runs", type=_positive_int, default=None,
                   help="replications; without it, runs until --precision is met")
    p.add_argument("--precision", type=_half_width, default=None,
                   help="stop when every outcome's 95%% interval half-width is at most this "
                        "(default 0.005 when --runs is not given; capped at 10^7 runs)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="fixes every result (default: a fresh seed, printed and recorded)")
    p.add_argument("--chunk-size", type=_positive_int, default=None,
                   help="worlds simulated together; bounds memory (default 100,000)")
    p.add_argument("--out", type=Path, default=None,
                   help="new results folder (default results/<scenario>/<time>-seed<seed>/)")
    add_weights_options(p)
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="finish an interrupted run in DIR (keeps its finished chunks)")
    p.add_argument("--keep-draws", action="store_true",
                   help="store every replication's drawn parameters in replications/ (by "
                        "default only its outcomes: RunResult.replications() regenerates "
                        "the draws from the seed, bit for bit)")
    _add_executor_options(p, default="threads")  # both cores, nothing to start
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("compare", help="compare scenarios on common random numbers")
    p.add_argument("base", type=Path, metavar="BASE")
    p.add_argument("others", type=Path, nargs="+", metavar="OTHER")
    _add_run_options(p, runs=100_000)

    p = sub.add_parser("sweep", help="outcome probabilities across parameter values")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--vary", action="append", required=True, metavar="KEY=LOW:HIGH:STEPS",
                   help="a parameter by key path and its range; repeat for a second one")
    p.add_argument("--samples", type=_positive_int, default=None,
                   help="Latin hypercube points instead of a grid")
    _add_run_options(p, runs=20_000)

    p = sub.add_parser("sensitivity", help="Sobol or Morris indices of the uncertain parameters")
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    p.add_argument("--samples", type=_positive_int, default=128,
                   help="SALib base sample size N (default 128; a power of two for Sobol)")
    p.add_argument("--runs-per-point", type=_positive_int, default=500,
                   help="worlds per design point (default 500)")
    p.add_argument("--include-weights", action="store_true",
                   help="also analyse the behavioural weights that are uncertain (calibrated)")
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument("--out", type=Path, default=None, help="new folder for the table and charts")
    _add_replace_option(p)

    p = sub.add_parser("calibrate", help="fit the behavioural weights to the resolved cases "
                                         "(or, with --precedents, the precedent weights to "
                                         "resolved itineraries)")
    p.add_argument("cases", type=Path, nargs="+", metavar="CASES_DIR | ITINERARY",
                   help="the folder of resolved cases; with --precedents, resolved itinerary "
                        "files")
    p.add_argument("--precedents", action="store_true",
                   help="fit the precedent weights of itineraries on the resolved itineraries "
                        "given, each visit given the recorded earlier ones (--prior: the "
                        "precedent prior file; --fit: precedent weight names)")
    p.add_argument("--before", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="fit only on the cases resolved before this date (the prior alone "
                        "when there are none)")
    p.add_argument("--mcmc-steps", type=_whole, default=DEFAULT_MCMC_STEPS, metavar="N",
                   help="steps per walker of the posterior sampler (emcee; the shipped "
                        "weights used 200); 0: draws from the Laplace approximation at the "
                        f"mode (default {DEFAULT_MCMC_STEPS})")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes the cases are shared out among (default: one per "
                        "core); the result does not depend on it; not with --precedents")
    p.add_argument("--out", type=Path, default=None,
                   help="new weights file to write (default results/calibration/weights.yaml, "
                        "or precedent_weights.yaml with --precedents; sim/data/weights.yaml "
                        "ships the behavioural weights)")
    p.add_argument("--replace", action="store_true",
                   help="overwrite the --out file if it exists (a regular file only)")
    _add_calibration_options(p)

    p = sub.add_parser("backtest", help="score forecasts of the resolved cases (Brier, log)")
    p.add_argument("cases", type=Path, metavar="CASES_DIR")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--as-of", action="store_true",
                     help="rolling origin: forecast each case with weights fitted only on the "
                          "cases resolved before its forecast date (the honest score)")
    how.add_argument("--loo", action="store_true",
                     help="recalibrate without each case before scoring it (leave-one-out)")
    p.add_argument("--cache", type=Path, default=Path("results/cache/weights"),
                   help="folder of cached as-of fits (default results/cache/weights)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for backtest.json and charts (default results/backtest/...)")
    _add_replace_option(p)
    p.add_argument("--weights", type=Path, default=None,
                   help="weights file for in-sample forecasts (default: the shipped one)")
    p.add_argument("--forecast-runs", type=_positive_int, default=DEFAULT_FORECAST_RUNS,
                   help=f"replications of each case's forecast "
                        f"(default {DEFAULT_FORECAST_RUNS:,})")
    _add_executor_options(p, default="processes")  # where the folds' fits run
    _add_calibration_options(p)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _add_calibration_options(p) -> None:
    from .analysis.defaults import DEFAULT_MAX_EVALS, DEFAULT_RUNS, DEFAULT_SEED, FITTED

    p.add_argument("--runs", type=_positive_int, default=DEFAULT_RUNS,
                   help=f"worlds per case and candidate (default {DEFAULT_RUNS:,})")
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"the calibration's common random numbers (default {DEFAULT_SEED})")
    p.add_argument("--max-evals", type=_positive_int, default=DEFAULT_MAX_EVALS,
                   help=f"cap on likelihood evaluations per fit (default {DEFAULT_MAX_EVALS})")
    p.add_argument("--prior", type=Path, default=None,
                   help="prior weights file the fit starts from (default: the shipped prior)")
    p.add_argument("--fit", default=None, metavar="W1,W2,...",
                   help=f"weights to fit (default {','.join(FITTED)}; with --precedents, "
                        "the precedent effects)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _validate(args) -> int:
    from .itinerary.spec import is_itinerary, load_itinerary
    from .scenario import load_scenario
    from .scenario.validate import file_warnings

    bad = 0
    for path in args.files:
        try:
            if is_itinerary(path):  # several visits (docs/itineraries.md)
                itinerary = load_itinerary(path)
                _say(f"valid: {path} (itinerary {itinerary.id}: {len(itinerary.visits)} "
                     "visits)")
                continue
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                print(f"invalid: {problem}", file=sys.stderr)
            continue
        n = len(scenario.parameters)
        _say(f"valid: {path} ({scenario.id}: {len(scenario.actors)} actors, {n} parameters, "
             f"{len(scenario.uncertain())} uncertain)")
        for warning in file_warnings(path):  # never makes a valid file invalid
            print(f"warning: {warning}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else EXIT_OK  # every file checked, even if stdout is gone


def _say(line: str) -> None:
    """Print to stdout; if it was closed (piped into ``head``), carry on without it."""
    try:
        print(line)
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that nothing (not even the flush at exit) fails on a
    closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def check_resume_options(args) -> None:
    """With ``--resume`` a run's settings are its own: refuse the options that would change
    them (its seed is checked against the run's when the folder is reopened)."""
    given = [f"--{name.replace('_', '-')}"
             for name in ("runs", "precision", "chunk_size", "out", "keep_draws")
             if getattr(args, name, None) not in (None, False)]
    if given:
        raise UsageError(f"{', '.join(given)} cannot be changed when resuming",
                         hint="--resume DIR finishes the run with the settings it started "
                              "with (see DIR/run.json)")


def _run(args) -> int:
    from .itinerary.commands import is_itinerary_run, run_command

    if is_itinerary_run(args):  # a file of several visits (issue 14)
        return run_command(args)
    from . import engine
    from .output import default_folder
    from .scenario import load_scenario
    from .scenario.validate import file_warnings

    if args.resume:
        check_resume_options(args)
    scenario = load_scenario(args.scenario, weights=weights_for(args))
    for warning in file_warnings(args.scenario):
        print(f"warning: {warning}", file=sys.stderr)
    precision = args.precision
    if args.runs is None and precision is None and args.resume is None:
        precision = DEFAULT_PRECISION
    if args.resume:
        seed, out = args.seed, args.resume
    else:
        seed = engine.new_seed() if args.seed is None else args.seed
        out = args.out or default_folder(scenario, seed)
    result = engine.run(scenario, runs=args.runs, seed=seed, precision=precision,
                        out=None if args.resume else out, resume=args.resume,
                        chunk_size=args.chunk_size or engine.DEFAULT_CHUNK,
                        executor=args.executor, workers=args.workers,
                        scheduler=args.scheduler, progress=False if args.quiet else None,
                        keep_draws=args.keep_draws)
    print(result.table())
    if args.resume:
        precision = _run_setting(out, "precision")
    if precision is not None:
        reached = result.half_width
        if reached <= precision:
            print(f"(ran blocks of 10,000 until every 95% interval half-width was <= "
                  f"{precision}: {result.runs:,} runs; widest half-width {reached:.4f})")
        else:
            print(f"warning: precision target not met: stopped at the cap of {result.runs:,} runs "
                  f"with a widest 95% interval half-width of {reached:.4f}, above the target "
                  f"{precision}", file=sys.stderr)
            print(f"(precision target {precision} NOT met: the widest half-width reached is "
                  f"{reached:.4f} after {result.runs:,} runs, the cap)")
    print(f"\nwrote {out}/ (summary.json, provenance.json, replications/, outcomes.png, "
          f"stance.png, drivers.png)")
    return EXIT_OK


def weights_for(args) -> Path | None:
    """The weights file of ``sim run`` (and ``sim forecast``): ``--weights``, or with
    ``--as-of`` a fit on the ``--cases`` resolved before the scenario's forecast date."""
    if not args.as_of:
        return args.weights
    if args.weights is not None:
        raise UsageError("--as-of and --weights cannot be used together",
                         hint="--as-of chooses the weights: those fitted on the earlier cases")
    from .analysis.asof import weights_as_of
    from .scenario import load_scenario

    date = load_scenario(args.scenario).forecast_date
    if not args.quiet:
        print(f"weights as of {date}: fitting on the cases resolved before it, or reading "
              "the fit from the cache...", flush=True)
    path, seen, cached = weights_as_of(date, args.cases,
                                       progress=False if args.quiet else None)
    what = (f"fitted on the {len(seen)} cases resolved before it" if seen
            else "the prior (no case was resolved before it)")
    print(f"weights as of {date}: {what} "
          f"({'from the cache' if cached else 'new fit, now cached'}: {path})")
    return path


def _run_setting(folder: Path, key: str):
    """A setting of the run in ``folder`` (from its run.json), or None."""
    try:
        return json.loads((Path(folder) / "run.json").read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None


def _compare(args) -> int:
    from .analysis.compare import compare
    from .output import analysis_provenance, save_chart, write_csv
    from .scenario import load_scenario

    base = load_scenario(args.base)
    others = [load_scenario(p) for p in args.others]
    with _analysis_folder(args, f"compare-{base.id}") as folder:
        out = folder.path
        comparison = compare(base, others, runs=args.runs, seed=args.seed,
                             executor=args.executor, workers=args.workers,
                             scheduler=args.scheduler)
        print(comparison.table())
        write_csv(comparison.frame(), out / "comparison.csv")
        save_chart(comparison.plot(), out / "comparison.png")
        folder.finish(analysis_provenance([base, *others], comparison.base.seed,
                                          runs=args.runs,
                                          labels=[r.scenario_id for r in comparison.results]))
    print(f"\nwrote {out}/ (comparison.csv, comparison.png, provenance.json)")
    return EXIT_OK


def _sweep(args) -> int:
    from .analysis.sweep import Axis, sweep
    from .output import analysis_provenance, save_chart, write_csv
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    axes = [Axis.parse(text) for text in args.vary]
    with _analysis_folder(args, f"sweep-{scenario.id}") as folder:
        out = folder.path
        result = sweep(scenario, axes, runs=args.runs, seed=args.seed, samples=args.samples,
                       executor=args.executor, workers=args.workers, scheduler=args.scheduler)
        frame = result.frame()
        write_csv(frame, out / "sweep.csv")
        wide = frame.pivot_table(index=[a.key for a in axes], columns="outcome",
                                 values="probability")[list(OUTCOMES)]
        print(f"{scenario.title}: {len(result.points)} points x {result.runs:,} runs "
              f"(seed {result.seed})")
        print(wide.round(4).to_string())
        if len(axes) == 1:
            save_chart(result.plot(), out / "sweep.png")
        elif len(axes) == 2:
            for o in OUTCOMES:
                save_chart(result.plot(outcome=o), out / f"sweep_{o}.png")
        else:
            print(f"(no chart: charts show one or two swept keys, not {len(axes)})")
        folder.finish(analysis_provenance([scenario], result.seed, runs=args.runs,
                                          vary=args.vary, samples=args.samples))
    print(f"\nwrote {out}/ (sweep.csv, charts, provenance.json)")
    return EXIT_OK


def _sensitivity(args) -> int:
    from .analysis.sensitivity import sensitivity
    from .output import analysis_provenance, save_chart, write_csv
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    with _analysis_folder(args, f"sensitivity-{scenario.id}") as folder:
        out = folder.path
        result = sensitivity(scenario, method=args.method, samples=args.samples,
                             runs_per_point=args.runs_per_point, seed=args.seed,
                             include_weights=args.include_weights)
        frame = result.frame()
        write_csv(frame, out / "sensitivity.csv")
        key = "ST" if args.method == "sobol" else "mu_star"
        wide = frame.pivot_table(index="parameter", columns="outcome", values=key)
        wide = wide.reindex(columns=list(OUTCOMES)).sort_values("hosted_no_arrest",
                                                                ascending=False)
        print(f"{scenario.title}: {args.method} indices ({key}), {result.points:,} points x "
              f"{result.runs_per_point:,} runs (seed {result.seed})")
        print(wide.round(3).to_string())
        for o in OUTCOMES:
            save_chart(result.plot(outcome=o), out / f"tornado_{o}.png")
        folder.finish(analysis_provenance([scenario], result.seed, method=args.method,
                                          samples=args.samples,
                                          runs_per_point=args.runs_per_point,
                                          parameters=sorted(frame.parameter.unique())))
    print(f"\nwrote {out}/ (sensitivity.csv, tornado_<outcome>.png, provenance.json)")
    return EXIT_OK


def _calibrate(args) -> int:
    from .analysis.calibration import calibrate, check_weights_path
    from .analysis.defaults import FITTED

    if args.precedents:
        return _calibrate_precedents(args)
    if len(args.cases) != 1:
        raise UsageError(f"calibrate takes one folder of cases, got {len(args.cases)} paths",
                         hint="itinerary files go with --precedents")
    out = args.out or Path("results/calibration/weights.yaml")
    check_weights_path(out, replace=args.replace)  # before hours of fitting, not after
    fit = calibrate(args.cases[0], prior=args.prior,
                    fitted=_fit(args, FITTED), runs=args.runs,
                    seed=args.seed, max_evals=args.max_evals,
                    progress=False if args.quiet else None, before=args.before,
                    mcmc_steps=args.mcmc_steps, workers=args.workers or os.cpu_count() or 1)
    path = fit.write(out, replace=args.replace)
    print(fit.table())
    print(f"\nwrote {path}")
    return EXIT_OK


def _calibrate_precedents(args) -> int:
    from .itinerary.calibrate import calibrate_precedents
    from .itinerary.spec import is_itinerary
    from .output import check_new_file

    for option, value in (("--before", args.before), ("--workers", args.workers)):
        if value is not None:
            raise UsageError(f"{option} is for the behavioural weights, not with --precedents")
    for path in args.cases:  # a missing or unreadable file is reported by the loader
        if path.is_dir() or (path.is_file() and not is_itinerary(path)):
            raise UsageError(f"{path} is not an itinerary file (a list of visits)",
                             hint="--precedents fits on resolved itineraries, e.g. "
                                  "scenarios/itineraries/bashir_2009_2018.yaml")
    out = args.out or Path("results/calibration/precedent_weights.yaml")
    check_new_file(out, replace=args.replace, what="precedent weights file")
    fit = calibrate_precedents(args.cases, prior=args.prior,
                               fitted=_fit(args, None), runs=args.runs,
                               seed=args.seed, max_evals=args.max_evals,
                               mcmc_steps=args.mcmc_steps,
                               progress=False if args.quiet else None)
    path = fit.write(out, replace=args.replace)
    print(fit.table())
    print(f"\nwrote {path}")
    return EXIT_OK


def _backtest(args) -> int:
    import time

    from .analysis import backtest as bt
    from .analysis.cases import case_files
    from .analysis.defaults import FITTED

    case_files(args.cases)  # a clear error before anything else
    mode = "as_of" if args.as_of else "loo" if args.loo else "in_sample"
    out = args.out or Path("results") / "backtest" / mode
    start = time.perf_counter()
    result = bt.backtest(args.cases, mode=mode, out=out, weights=args.weights,
                         prior=args.prior, fitted=_fit(args, FITTED),
                         runs=args.runs, seed=args.seed, max_evals=args.max_evals,
                         forecast_runs=args.forecast_runs, executor=args.executor,
                         workers=args.workers, scheduler=args.scheduler,
                         progress=False if args.quiet else None, replace=args.replace,
                         cache=args.cache)
    print(result.table())
    print(f"({time.perf_counter() - start:.0f} s)")
    print(f"\nwrote {out}/ (backtest.json, reliability.png, cases.png)")
    return EXIT_OK


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _fit(args, default):
    """The weights ``--fit`` names, or ``default`` without the option (``--fit ""`` names
    none, which the fit refuses)."""
    return default if args.fit is None else _names(args.fit)


#: Modules that add their own commands.  Each has ``register(sub)``, which adds its
#: parsers to ``sub`` with ``set_defaults(handler=...)``; a handler takes the parsed
#: arguments and returns the exit code.  They import heavy modules inside the handlers,
#: so that ``--help`` stays fast.
COMMAND_MODULES: tuple[str, ...] = ("sim.explore.commands", "sim.ledger.commands",
                                     "sim.authoring.commands",
                                     "sim.exploratory_commands", "sim.itinerary.commands")

COMMANDS = {"validate": _validate, "run": _run, "compare": _compare, "sweep": _sweep,
            "sensitivity": _sensitivity, "calibrate": _calibrate, "backtest": _backtest}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        handler = COMMANDS.get(args.command) or args.handler
        code = handler(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("hint: run 'python -m sim validate FILE' to check a scenario", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        code = EXIT_OUTPUT if isinstance(exc, OutputError) else EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`: not an error of ours
        _silence_stdout()
        code = EXIT_OK
    except OSError as exc:  # any the code did not expect: one line, never a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        print("hint: check the output path, its permissions and the free disk space",
              file=sys.stderr)
        code = EXIT_OUTPUT
    except KeyboardInterrupt:
        if args.command == "run":
            print("\ninterrupted: no summary was written; the finished chunks are kept: "
                  "continue with 'python -m sim run SCENARIO --resume DIR'", file=sys.stderr)
        elif not _report_left_behind("interrupted"):
            print(f"\ninterrupted: the {args.command} wrote no results", file=sys.stderr)
        return EXIT_INTERRUPTED
    _report_left_behind("note")
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    return code


def _report_left_behind(prefix: str) -> bool:
    """Say which unfinished output folders this command left, and how to replace them."""
    output = sys.modules.get(f"{__package__}.output")
    if output is None:  # never loaded: this command made no output folder
        return False
    left = output.take_left_behind()
    for folder in left:
        files = folder.left_files()
        shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
        print(f"{prefix}: the {folder.command} left an unfinished {folder.path} "
              f"({shown}; no {folder.mark}): remove it, or re-run the same command with "
              f"--replace to replace it", file=sys.stderr)
    return bool(left)
