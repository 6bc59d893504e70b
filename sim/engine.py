"""Monte Carlo engine: chunks of worlds, seed streams, streaming to disk.

A run of ``runs`` replications is cut into blocks of :data:`sim.streams.BLOCK`
worlds, each with its own seed stream; chunks are whole numbers of blocks.  A
chunk is simulated by one :class:`~sim.model.WarrantVisitModel` holding all
its worlds, so memory is bounded by the chunk size, not by ``runs``.
"""

from __future__ import annotations

import secrets
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np
import pyarrow as pa

from .agents import DRIVER_KEYS
from .credible import draw_counts
from .errors import UsageError
from .executors import completed, in_order, make_executor
from .model import WarrantVisitModel, driver_block_sums
from .outcomes import OUTCOMES
from .output import RunFolder, resumable, save_chart
from .results import DRAW_DTYPE, STANCE_SAMPLE, ChunkResult, RunResult, wilson_interval
from .scenario import Scenario
from .streams import BLOCK, Streams, block_sizes

DEFAULT_CHUNK = 100_000
#: Worlds one model holds at most: a chunk runs as models of this many worlds, one after
#: the other, whose arrays stay in the processor's caches (about 1.3 times as fast as one
#: model of 100,000 worlds on the baseline, and a third less memory; no result depends on
#: it).  The chunk remains the unit of work given to a worker and written to disk.
MODEL_WORLDS = 20_000
MAX_RUNS = 10**9
#: Largest chunk size accepted; chunks are made smaller still by :data:`CHUNK_MEMORY`.
MAX_CHUNK = 1_000_000
#: Cap on replications when running to a precision target.
MAX_PRECISION_RUNS = 10**7
#: Working memory one chunk may use, in bytes (estimated by :func:`bytes_per_world`); a
#: scenario with many uncertain parameters, actors or days runs in smaller chunks.
CHUNK_MEMORY = 256 * 2**20
#: Largest analysis design (sweep grid or sample, Sobol or Morris design), in points ...
MAX_DESIGN_POINTS = 100_000
#: ... in worlds (points x runs per point) ...
MAX_DESIGN_WORLDS = 10**9
#: ... and in values held (points x varied parameters).
MAX_DESIGN_VALUES = 10**7


def bytes_per_world(scenario: Scenario) -> int:
    """Estimated peak working memory of one world of a chunk of ``scenario``, in bytes.

    Three float64 arrays per uncertain parameter (its normal scores, their uniforms
    and its values are alive together while drawn; the values and the table's
    float32 column stay), four per actor (its state), 8 bytes per day (the float32
    stance path and the copy of it kept for fan charts) and a constant for the
    model's own arrays (outcomes, drivers, the draws of a day).

    An upper bound on the peak that ``tracemalloc`` (numpy reports its allocations
    to it) measures in :func:`simulate_chunk` with its table, per world of a chunk of
    50,000 simulated as one model (before :data:`MODEL_WORLDS`): the Mongolia baseline
    (44 uncertain parameters, 9 actors, 2 days) 1,231 bytes, estimated 1,768; with 644
    uncertain parameters and 209 actors 15,466, estimated 22,568; all parameters fixed
    and 367 days 2,656, estimated 3,632.  Since a chunk runs as models of at most
    :data:`MODEL_WORLDS` worlds, a larger chunk needs less per world (the baseline: 1,070
    bytes at 20,000, 218 at 100,000), so chunks sized by it stay well within the budget.
    Checked by tests/test_hardening_resources.py.
    """
    days = scenario.days_before_visit + scenario.visit_days + 1  # rows of the stance path
    return 8 * (3 * len(scenario.uncertain()) + 4 * len(scenario.actors) + 50 + days)


def worlds_in_budget(scenarios: Scenario | list[Scenario]) -> int:
    """How many worlds of ``scenarios`` one model may hold within :data:`CHUNK_MEMORY`
    (by :func:`bytes_per_world`; with several scenarios the largest decides)."""
    group = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    return CHUNK_MEMORY // max(bytes_per_world(s) for s in group)


def chunk_within_budget(scenarios: Scenario | list[Scenario], chunk_size: int) -> int:
    """``chunk_size`` in whole blocks, lowered so that a chunk's estimated memory stays
    within :data:`CHUNK_MEMORY`; never below one block.

    Chunks are whole blocks of :data:`sim.streams.BLOCK` worlds, so a run's result
    does not depend on it.  With several scenarios (run one after the other on the
    same worlds, as ``compare`` does) the largest decides.  A scenario so large that
    one block would need more than 8 budgets (2 GiB) is refused.
    """
    fits = worlds_in_budget(scenarios)
    if 8 * fits < BLOCK:
        group = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
        need = max(bytes_per_world(s) for s in group) * BLOCK
        raise UsageError(f"one block of {BLOCK:,} worlds would need about {need / 2**30:.1f} "
                         f"GiB, more than the {8 * CHUNK_MEMORY / 2**30:g} GiB allowed",
                         hint="the scenario has too many uncertain parameters, actors or days")
    wanted = max(1, -(-chunk_size // BLOCK))
    return BLOCK * max(1, min(wanted, fits // BLOCK))


def check_design(points: int, runs_per_point: int, dims: int, what: str, reduce: str) -> None:
    """Refuse an analysis design larger than the caps, before anything is allocated.

    ``points`` design points of ``dims`` varied values each, ``runs_per_point``
    worlds at each; ``what`` names the design, ``reduce`` says how to make it smaller.
    """
    for size, cap, unit in ((points, MAX_DESIGN_POINTS, "points"),
                            (points * runs_per_point, MAX_DESIGN_WORLDS,
                             f"worlds ({points:,} points x {runs_per_point:,} runs)"),
                            (points * dims, MAX_DESIGN_VALUES,
                             f"values ({points:,} points x {dims:,} parameters)")):
        if size > cap:
            raise UsageError(f"{what} has {size:,} {unit}; the limit is {cap:,}",
                             hint=reduce)


def plan_chunks(runs: int, chunk_size: int) -> list[tuple[int, list[int]]]:
    """Chunks as (first block index, block sizes); chunk_size rounds up to whole blocks."""
    sizes = block_sizes(runs)
    per_chunk = max(1, -(-chunk_size // BLOCK))
    return [(i, sizes[i:i + per_chunk]) for i in range(0, len(sizes), per_chunk)]


def simulate_chunk(scenario: Scenario, seed: int, first_block: int, sizes: list[int],
                   with_table: bool = True, with_outcomes: bool = False,
                   keep_draws: bool = False) -> ChunkResult:
    """Simulate blocks ``first_block ..`` of the run seeded by ``seed``; a pure function.

    The blocks run :data:`MODEL_WORLDS` at a time, one model after another (each
    block's draws come from its own streams, so the grouping changes no result).  With
    ``with_table``, the chunk's per-replication table (:func:`replication_table`), with
    every drawn parameter too when ``keep_draws``.
    """
    per_model = max(1, MODEL_WORLDS // BLOCK)
    parts = [_simulate_model(scenario, seed, first_block + i, sizes[i:i + per_model],
                             with_table and keep_draws)
             for i in range(0, len(sizes), per_model)]
    outcome = _joined([part.outcome for part in parts])
    noncompliance = _joined([part.noncompliance for part in parts])
    counts = np.bincount(outcome, minlength=len(OUTCOMES)).astype(np.int64)
    table = None
    if with_table:
        draws: dict[str, np.ndarray | float] = {
            path: _joined([part.draws[path] for part in parts]) for path in parts[0].draws}
        table = replication_table(first_block, outcome, noncompliance, draws)
    posterior = scenario.posterior
    return ChunkResult(first_block, counts, int(noncompliance.sum()),
                       np.concatenate([part.stance for part in parts], axis=1), table,
                       np.concatenate([part.drivers for part in parts], axis=0),
                       outcome if with_outcomes else None,
                       None if posterior is None else
                       draw_counts(first_block * BLOCK, outcome, len(posterior.samples)))


@dataclass
class _ModelPart:
    """What one model of a chunk leaves: each world's outcome and the Court's finding, the
    intent paths kept for fan charts, per-block driver sums, and (if asked) the draws."""

    outcome: np.ndarray
    noncompliance: np.ndarray
    stance: np.ndarray
    drivers: np.ndarray
    draws: dict[str, np.ndarray]


def _simulate_model(scenario: Scenario, seed: int, first_block: int, sizes: list[int],
                    keep_draws: bool) -> _ModelPart:
    streams = Streams.for_range(seed, first_block, sizes)
    model = WarrantVisitModel(scenario, streams)
    drivers = driver_block_sums(model)  # at the forecast date, before the first step
    model.run_to_end()
    keep = max(0, min(streams.n, STANCE_SAMPLE - first_block * BLOCK))
    draws = ({path: np.asarray(model.values[path], dtype=DRAW_DTYPE)
              for path in scenario.uncertain()} if keep_draws else {})
    part = _ModelPart(model.outcome, model.noncompliance, model.stance_path[:, :keep].copy(),
                      drivers, draws)
    release(model)  # the arrays kept above are not the model's to free
    return part


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def replication_table(first_block: int, outcome: np.ndarray, noncompliance: np.ndarray,
                      draws: dict[str, np.ndarray | float]) -> pa.Table:
    """A chunk's per-replication table: ``replication`` (its number in the run),
    ``outcome`` (dictionary-encoded), ``icc_noncompliance_finding``, then each drawn
    parameter of ``draws`` as float32.

    A run keeps only the outcomes by default (the lean folder): the draws are a
    function of the seed and the block, which :meth:`~sim.results.RunResult.replications`
    regenerates bit for bit; ``keep_draws`` stores them too.
    """
    start = first_block * BLOCK
    columns = {
        "replication": pa.array(np.arange(start, start + len(outcome), dtype=np.int64)),
        "outcome": pa.DictionaryArray.from_arrays(pa.array(outcome.astype(np.int8)),
                                                  pa.array(list(OUTCOMES))),
        "icc_noncompliance_finding": pa.array(noncompliance),
    }
    for path, values in draws.items():
        columns[path] = pa.array(np.asarray(values, dtype=DRAW_DTYPE))
    return pa.table(columns)


def outcomes_with(scenario: Scenario, seed: int, first_block: int, sizes: list[int],
                  values: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each world's outcome code and the Court's non-compliance finding in blocks
    ``first_block ..`` of run ``seed``, with the parameter values ``values`` (as
    :func:`sim.sampling.draw_parameters` gives them, some changed): the model alone,
    without its daily records, for analyses that set the parameters themselves
    (calibration, screens, itineraries)."""
    streams = Streams.for_range(seed, first_block, sizes)
    model = WarrantVisitModel(scenario, streams, values=values, collect=False).run_to_end()
    outcome = model.outcome.copy()
    finding = np.asarray(model.noncompliance, dtype=bool).copy()
    release(model)
    return outcome, finding


def expected_probabilities(scenario: Scenario, seed: int, first_block: int,
                           sizes: list[int], values: dict) -> np.ndarray:
    """Each world's outcome probabilities, shape ``(worlds, 4)`` in
    :data:`~sim.outcomes.OUTCOMES` order, for the worlds of :func:`outcomes_with`: its
    outcome integrated over the host's resolve and the visitor's misreading
    (:mod:`sim.expected`)."""
    streams = Streams.for_range(seed, first_block, sizes)
    model = WarrantVisitModel(scenario, streams, values=values, collect=False,
                              expected=True).run_to_end()
    assert model.probabilities is not None
    probabilities = model.probabilities
    release(model)
    return probabilities


def expected_counts(scenario: Scenario, seed: int, first_block: int, sizes: list[int],
                    values: dict) -> np.ndarray:
    """Expected outcome counts, shape ``(4,)``: :func:`expected_probabilities` summed over
    the worlds."""
    return expected_probabilities(scenario, seed, first_block, sizes, values).sum(axis=0)


def release(model: WarrantVisitModel) -> None:
    """Free a finished model's arrays now, so memory stays bounded across chunks.

    Mesa's ``Agent`` keeps a class-level id counter keyed by model (Mesa 3.3), which
    would keep every model alive; and a model is a reference cycle (``model.step`` is
    a bound method of itself, agents point back to it), which only the slow cyclic
    collector would free.  Emptying the model's attributes breaks the cycle.
    """
    getattr(mesa.Agent, "_ids", {}).pop(model, None)
    model.remove_all_agents()
    model.__dict__.clear()  # = vars(model), which mypy reads as a class (Mesa is untyped)


def new_seed() -> int:
    """A fresh seed from the operating system, for runs that were given none."""
    return secrets.randbits(63)


def check_run_arguments(runs: object, seed: object, chunk_size: object,
                        precision: object = None) -> None:
    for name, value, low in (("runs", runs, 1), ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise UsageError(f"{name} must be a whole number >= {low}, got {value!r}")
    assert isinstance(runs, int | np.integer) and isinstance(chunk_size, int | np.integer)
    if chunk_size > MAX_CHUNK:
        raise UsageError(f"chunk_size must be at most {MAX_CHUNK:,}, got {chunk_size:,}",
                         hint="a larger chunk only uses more memory; it is not faster")
    if runs > MAX_RUNS:
        raise UsageError(f"runs must be at most {MAX_RUNS:,}, got {runs:,}",
                         hint="split the run, or use --precision to stop when precise enough")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise UsageError(f"seed must be a whole number >= 0, got {seed!r}")
    if precision is not None and (isinstance(precision, bool) or not isinstance(
            precision, int | float) or not 0 < precision < 0.5):
        raise UsageError(f"precision must be a half-width between 0 and 0.5, got {precision!r}",
                         hint="e.g. --precision 0.005 for +/- half a percentage point")


def precise_enough(counts: np.ndarray, precision: float) -> bool:
    """Whether every outcome's 95% Wilson interval has half-width <= ``precision``."""
    n = int(counts.sum())
    return all((hi - lo) / 2 <= precision
               for lo, hi in (wilson_interval(c, n) for c in counts))


def run(scenario: Scenario, runs: int | None = None, seed: int | None = None, *,
        precision: float | None = None, chunk_size: int = DEFAULT_CHUNK,
        out: str | Path | None = None, resume: str | Path | None = None,
        executor: str = "threads", workers: int | None = None, scheduler: str | None = None,
        progress: bool | None = None, keep_draws: bool = False) -> RunResult:
    """Run replications of ``scenario`` and return their outcome distribution.

    Parameters
    ----------
    scenario : Scenario
        From :func:`sim.load_scenario`.
    runs : int, optional
        Number of replications (worlds); with ``precision``, the most to run.
        Defaults to 100,000, or to 10,000,000 as a cap with ``precision``.
    seed : int, optional
        Fixes every result, whatever the chunk size, executor or worker count.  A
        fresh one is drawn (and recorded in the result) when omitted.
    precision : float, optional
        Keep adding blocks of 10,000 worlds until every outcome's 95% interval
        half-width is at most this (e.g. 0.005), or ``runs`` is reached.  Where the
        run stops depends on the seed only (``chunk_size`` is not used).
    chunk_size : int
        Worlds simulated together; bounds memory.  Rounded up to whole blocks of
        10,000, and lowered (to no less than one block) so that a chunk's estimated
        working memory stays within :data:`CHUNK_MEMORY` (256 MiB).
    out : path, optional
        A new folder to write the results to (summary, provenance, per-replication
        Parquet table, charts), chunk by chunk.  Nothing is written when omitted.
    keep_draws : bool
        Store every world's drawn parameters in the Parquet table too.  By default it
        holds the outcomes only, and :meth:`RunResult.replications` regenerates the
        draws from the seed, bit for bit (a resumed run keeps the setting it began with).
    resume : path, optional
        A folder of an interrupted run: its finished chunks are kept, the rest run.
    executor : {"threads", "serial", "processes", "dask"}
        Where chunks run (see :mod:`sim.executors`): ``workers`` threads of this process
        (the default: the local cores, and the fastest on one machine, with nothing to
        start), this thread, processes, or Dask (``scheduler`` its address).  The result
        is the same on every one.
    progress : bool, optional
        Show a progress bar; by default it appears only on runs longer than 2 s.
    """
    if runs is None:
        runs = MAX_PRECISION_RUNS if precision is not None else 100_000
    check_run_arguments(runs, seed, chunk_size, precision)
    if precision is not None:
        # checked after every block, so where the run stops never depends on the chunk size
        chunk_size = BLOCK
    # memory bounded whatever the scenario: recorded in run.json as run, so a resumed run
    # keeps its chunks (a resume uses the chunk size recorded, not this)
    chunk_size = chunk_within_budget(scenario, chunk_size)
    pool = make_executor(executor, workers, scheduler)  # fails before any folder is claimed
    folder = None
    counts = np.zeros(len(OUTCOMES), dtype=np.int64)
    noncompliance = 0
    stance_parts = []
    driver_parts: list[np.ndarray] = []
    posterior = scenario.posterior
    per_draw = None if posterior is None else np.zeros((len(posterior.samples), len(OUTCOMES)),
                                                       dtype=np.int64)
    with pool:
        try:
            if resume is not None:
                folder, seed, runs, chunk_size, precision = RunFolder.reopen(
                    Path(resume), scenario, seed, check_run_arguments)
                keep_draws = folder.keep_draws
            else:
                seed = new_seed() if seed is None else int(seed)
                if out is not None:
                    folder = RunFolder.create(Path(out))
                    folder.start(scenario, runs, seed, chunk_size, precision, keep_draws)
            chunks = in_order(pool, simulate_chunk,
                              _chunk_calls(plan_chunks(runs, chunk_size), scenario, seed, folder,
                                           keep_draws),
                              progress=progress, amount=lambda c: int(c.counts.sum()),
                              total=runs, unit="runs", unit_scale=True, desc=scenario.id)
            # chunks are accepted in block order, so the result (and where a precision target
            # stops the run) never depends on the executor; each is written as accepted, so
            # nothing beyond the stop is kept; stopping early cancels the chunks not started
            with closing(chunks):
                for chunk in chunks:
                    if folder and chunk.table is not None:  # new, not read back from disk
                        folder.write_chunk(chunk)
                    counts += chunk.counts
                    noncompliance += chunk.noncompliance
                    driver_parts.append(chunk.drivers)
                    if per_draw is not None and chunk.draw_counts is not None:
                        per_draw += chunk.draw_counts
                    if chunk.stance.shape[1]:
                        stance_parts.append(chunk.stance)
                    if precision is not None and precise_enough(counts, precision):
                        break
            result = RunResult(scenario.id, scenario.title, seed, counts, noncompliance,
                               np.concatenate(stance_parts, axis=1), scenario.days_before_visit,
                               driver_means(driver_parts, int(counts.sum())),
                               scenario=scenario, draw_counts=per_draw)
            if folder:
                save_charts(result, folder.path)
                folder.finish(result, scenario)  # summary.json last: the run is complete
            return result
        except BaseException:
            if folder:
                folder.abandon()
            raise
        finally:
            if folder:
                folder.release()


def save_charts(result: RunResult, folder: Path) -> None:
    """Draw a run's charts into its folder: outcome bars, the intent fan, the drivers."""
    from .plots import drivers_chart, outcome_bars, stance_fan

    with resumable():
        for name, draw in (("outcomes.png", outcome_bars), ("stance.png", stance_fan),
                           ("drivers.png", drivers_chart)):
            save_chart(draw(result), folder / name)


def driver_means(parts: list[np.ndarray], runs: int) -> dict[str, float]:
    """Each driver's mean over all worlds, from per-block sums added in block order."""
    totals = np.concatenate(parts, axis=0).sum(axis=0)
    return {k: float(v) / runs for k, v in zip(DRIVER_KEYS, totals, strict=True)}


def _chunk_calls(plan, scenario: Scenario, seed: int, folder: RunFolder | None,
                 keep_draws: bool):
    """Arguments of :func:`simulate_chunk` for each chunk of ``plan``, in block order; a
    chunk already on disk (a resumed run) is read back instead, not recomputed (its
    ``table`` is None).  Read lazily, as :func:`~sim.executors.in_order` moves on."""
    for first_block, sizes in plan:
        stored = folder.read_chunk(first_block, sizes) if folder else None
        yield (completed(stored) if stored is not None
               else (scenario, seed, first_block, sizes, folder is not None, False, keep_draws))
