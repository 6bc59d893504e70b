"""Monte Carlo engine: chunks of worlds, seed streams, streaming to disk.

A run of ``runs`` replications is cut into blocks of :data:`sim.streams.BLOCK`
worlds, each with its own seed stream; chunks are whole numbers of blocks.  A
chunk is simulated by one :class:`~sim.model.WarrantVisitModel` holding all
its worlds, so memory is bounded by the chunk size, not by ``runs``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from .agents import DRIVER_KEYS
from .errors import UsageError
from .executors import make_executor
from .model import WarrantVisitModel, driver_block_sums
from .outcomes import OUTCOMES
from .output import RunFolder
from .results import RunResult, wilson_interval
from .scenario import Scenario
from .streams import BLOCK, Streams, block_sizes

DEFAULT_CHUNK = 100_000
#: Replications whose stance trajectory is kept for fan charts.
STANCE_SAMPLE = 20_000
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


@dataclass
class ChunkResult:
    """What one chunk contributes: counts, the stance sample rows it holds, its table."""

    first_block: int
    counts: np.ndarray
    noncompliance: int
    stance: np.ndarray  # (days + 1, k) for its replications with index < STANCE_SAMPLE
    table: pa.Table | None
    drivers: np.ndarray  # (blocks, len(DRIVER_KEYS)): per-block sums of the drivers
    outcomes: np.ndarray | None = None  # each world's outcome code, when asked for


def bytes_per_world(scenario: Scenario) -> int:
    """Estimated peak working memory of one world of a chunk of ``scenario``, in bytes.

    Three float64 arrays per uncertain parameter (its normal scores, their uniforms
    and its values are alive together while drawn; the values and the table's
    float32 column stay), four per actor (its state), 8 bytes per day (the float32
    stance path and the copy of it kept for fan charts) and a constant for the
    model's own arrays (outcomes, drivers, the draws of a day).

    An upper bound on the peak that ``tracemalloc`` (numpy reports its allocations
    to it) measures in :func:`simulate_chunk` with its table, per world of a chunk of
    50,000: the Mongolia baseline (44 uncertain parameters, 9 actors, 2 days) 1,231
    bytes, estimated 1,768; with 644 uncertain parameters and 209 actors 15,466,
    estimated 22,568; all parameters fixed and 367 days 2,656, estimated 3,632.
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
                   with_table: bool = True, with_outcomes: bool = False) -> ChunkResult:
    """Simulate blocks ``first_block ..`` of the run seeded by ``seed``; a pure function."""
    streams = Streams.for_range(seed, first_block, sizes)
    model = WarrantVisitModel(scenario, streams)
    drivers = driver_block_sums(model)  # at the forecast date, before the first step
    model.run_to_end()
    counts = np.bincount(model.outcome, minlength=len(OUTCOMES)).astype(np.int64)
    start = first_block * BLOCK
    keep = max(0, min(streams.n, STANCE_SAMPLE - start))
    table = None
    if with_table:
        columns = {
            "replication": pa.array(np.arange(start, start + streams.n, dtype=np.int64)),
            "outcome": pa.DictionaryArray.from_arrays(
                pa.array(model.outcome.astype(np.int8)), pa.array(list(OUTCOMES))),
            "icc_noncompliance_finding": pa.array(model.noncompliance),
        }
        for path in scenario.uncertain():
            columns[path] = pa.array(np.asarray(model.values[path], dtype=np.float32))
        table = pa.table(columns)
    result = ChunkResult(first_block, counts, int(model.noncompliance.sum()),
                         model.stance_path[:, :keep].copy(), table, drivers,
                         model.outcome.copy() if with_outcomes else None)
    release(model)
    return result


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
        executor: str = "serial", workers: int | None = None, scheduler: str | None = None,
        progress: bool | None = None) -> RunResult:
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
    resume : path, optional
        A folder of an interrupted run: its finished chunks are kept, the rest run.
    executor : {"serial", "processes", "dask"}
        Where chunks run; ``workers`` processes, ``scheduler`` a Dask address.
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
    try:
        if resume is not None:
            folder, seed, runs, chunk_size, precision = RunFolder.reopen(
                Path(resume), scenario, seed)
        else:
            seed = new_seed() if seed is None else int(seed)
            if out is not None:
                folder = RunFolder.create(Path(out))
                folder.start(scenario, runs, seed, chunk_size, precision)
        plan = plan_chunks(runs, chunk_size)
        bar = tqdm(total=runs, unit="runs", unit_scale=True, delay=2.0,
                   disable=progress is False, leave=False, desc=scenario.id)
        with bar:
            for chunk in _in_block_order(pool, plan, scenario, seed, folder):
                if folder and chunk.table is not None:  # new, not read back from disk
                    folder.write_chunk(chunk)
                counts += chunk.counts
                noncompliance += chunk.noncompliance
                driver_parts.append(chunk.drivers)
                if chunk.stance.shape[1]:
                    stance_parts.append(chunk.stance)
                bar.update(int(chunk.counts.sum()))
                if precision is not None and precise_enough(counts, precision):
                    break
        result = RunResult(scenario.id, scenario.title, seed, counts, noncompliance,
                           np.concatenate(stance_parts, axis=1), scenario.days_before_visit,
                           driver_means(driver_parts, int(counts.sum())))
        if folder:
            folder.finish(result, scenario)
        return result
    except BaseException:
        if folder:
            folder.abandon()
        raise
    finally:
        pool.close()
        if folder:
            folder.release()


def driver_means(parts: list[np.ndarray], runs: int) -> dict[str, float]:
    """Each driver's mean over all worlds, from per-block sums added in block order."""
    totals = np.concatenate(parts, axis=0).sum(axis=0)
    return {k: float(v) / runs for k, v in zip(DRIVER_KEYS, totals, strict=True)}


def _in_block_order(pool, plan, scenario, seed, folder):
    """Yield chunk results in block order, running ahead on the executor's workers.

    Chunks already on disk (a resumed run) are read back, not recomputed (their
    ``table`` is None).  Accepting in order makes the result, including where a
    precision target stops the run, independent of the executor; the caller
    writes each chunk as it accepts it, so nothing beyond the stop is kept.
    """
    window = 2 * pool.workers
    pending: dict = {}  # future -> index in plan
    ready: dict[int, ChunkResult] = {}
    submitted = accepted = 0
    while accepted < len(plan):
        while submitted < len(plan) and submitted < accepted + window:
            first_block, sizes = plan[submitted]
            stored = folder.read_chunk(first_block, sizes) if folder else None
            if stored is not None:
                ready[submitted] = stored
            else:
                future = pool.submit(simulate_chunk, scenario, seed, first_block, sizes,
                                     folder is not None)
                pending[future] = submitted
            submitted += 1
        while accepted not in ready:
            for future in pool.wait_any(list(pending)):
                ready[pending.pop(future)] = future.result()
        yield ready.pop(accepted)
        accepted += 1
