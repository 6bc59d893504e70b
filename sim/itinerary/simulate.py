"""Monte Carlo over an itinerary: each world goes through the visits in date order.

In each chunk of blocks, visit ``k``'s parameters are drawn exactly as a standalone run of
its scenario would draw them (:func:`sim.sampling.draw_parameters` on
``Streams.for_range(seed, first_block, sizes)``), shifted by the precedents of visits
``0..k-1`` in the same world (:func:`~sim.itinerary.precedent.carry_over`), and the model
runs on fresh streams of the same blocks.  So with every precedent weight at 0 each visit's
outcomes are, world by world, those of its standalone run with the same seed.

After an arrest the visitor is in custody: the later visits do not take place, and their
outcome in that world is :data:`NOT_REACHED`.  The model still runs them (so that every
visit's draws stay those of its standalone run); their outcomes are then replaced.

A run goes through :func:`sim.engine.run`'s machinery: chunks planned by
:func:`~sim.engine.plan_chunks`, accepted in block order (:func:`~sim.executors.in_order`),
each written to a :class:`~sim.output.RunFolder` as accepted, and read back instead of
recomputed when a run is resumed (:mod:`.report`).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np

from ..credible import draw_counts
from ..engine import (
    DEFAULT_CHUNK,
    MAX_PRECISION_RUNS,
    MODEL_WORLDS,
    check_run_arguments,
    chunk_within_budget,
    new_seed,
    outcomes_with,
    plan_chunks,
    precise_enough,
)
from ..errors import UsageError
from ..executors import completed, in_order, make_executor
from ..outcomes import ARREST
from ..output import RunFolder
from ..sampling import draw_parameters
from ..streams import BLOCK, Streams
from .precedent import History, PrecedentWeights, carry_over, load_precedent_weights
from .report import read_chunk, reopen_folder, start_folder, write_chunk, write_folder
from .result import NOT_REACHED, STATES, ItineraryChunk, ItineraryResult
from .spec import Itinerary

DEFAULT_RUNS = 100_000


def simulate_worlds(itinerary: Itinerary, precedent: PrecedentWeights, seed: int,
                    first_block: int, sizes: list[int]) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Every visit's states in the worlds of blocks ``first_block ..`` of run ``seed``.

    Returns
    -------
    (states, findings, raw)
        Arrays of shape ``(visits, worlds)``: each visit's state code (an outcome, or
        :data:`NOT_REACHED` after an arrest), its non-compliance findings (False where not
        reached), and the outcome its model gave in every world, reached or not.
    """
    history = History([], [])
    raw, states, findings = [], [], []
    in_custody: np.ndarray | None = None
    for k, visit in enumerate(itinerary.visits):
        values = draw_parameters(visit.scenario, Streams.for_range(seed, first_block, sizes))
        shifted = carry_over(values, k, itinerary, history, precedent)
        outcome, finding = outcomes_with(visit.scenario, seed, first_block, sizes, shifted)
        outcome = outcome.astype(np.int8)
        raw.append(outcome)
        if in_custody is None:
            in_custody = np.zeros(len(outcome), dtype=bool)
        state = np.where(in_custody, np.int8(NOT_REACHED), outcome).astype(np.int8)
        finding &= ~in_custody
        history.outcome.append(state)
        history.finding.append(finding)
        states.append(state)
        findings.append(finding)
        in_custody = in_custody | (outcome == ARREST)
    return np.stack(states), np.stack(findings), np.stack(raw)


def simulate_itinerary_chunk(itinerary: Itinerary, precedent: PrecedentWeights, seed: int,
                             first_block: int, sizes: list[int]) -> ItineraryChunk:
    """Simulate blocks ``first_block ..`` of the run ``seed``; a pure function.

    The blocks run :data:`~sim.engine.MODEL_WORLDS` at a time (each block's draws come from
    its own streams, so the grouping changes no result)."""
    per_model = max(1, MODEL_WORLDS // BLOCK)
    paths: dict[tuple[int, ...], np.ndarray] = {}
    per_draw = _no_draw_counts(itinerary)
    for i in range(0, len(sizes), per_model):
        states, findings, _ = simulate_worlds(itinerary, precedent, seed, first_block + i,
                                              sizes[i:i + per_model])
        _add_paths(paths, states, findings)
        if per_draw is not None:
            per_draw += draw_state_counts((first_block + i) * BLOCK, states, len(per_draw))
    return ItineraryChunk(first_block, paths, per_draw)


def _no_draw_counts(itinerary: Itinerary) -> np.ndarray | None:
    """Zero counts ``(draws, visits, states)`` to add posterior draw counts to; None when
    the weights carry no draws."""
    draws = itinerary.posterior_draws
    return (None if draws is None else
            np.zeros((draws, len(itinerary.visits), len(STATES)), dtype=np.int64))


def draw_state_counts(first_world: int, states: np.ndarray, draws: int) -> np.ndarray:
    """State counts ``(draws, visits, states)`` of consecutive worlds from ``first_world``
    on (``states`` of shape ``(visits, worlds)``), world ``i`` belonging to posterior draw
    ``i mod draws``: :func:`sim.credible.draw_counts` of every visit, with the fifth
    state, :data:`NOT_REACHED`."""
    return np.stack([draw_counts(first_world, row, draws, len(STATES)) for row in states],
                    axis=1)


def _add_paths(paths: dict, states: np.ndarray, findings: np.ndarray) -> None:
    """Count the worlds of each sequence of states (and their findings) into ``paths``."""
    base = len(STATES)
    code = np.zeros(states.shape[1], dtype=np.int64)
    for row in states:
        code = code * base + row.astype(np.int64)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    worlds = np.bincount(inverse, minlength=len(first))
    found = np.stack([np.bincount(inverse, weights=row, minlength=len(first))
                      for row in findings.astype(np.int64)])
    for index, world in enumerate(first):
        sequence = tuple(int(x) for x in states[:, world])
        counts = np.concatenate([[worlds[index]], found[:, index]]).astype(np.int64)
        paths[sequence] = paths[sequence] + counts if sequence in paths else counts


def run_itinerary(itinerary: Itinerary, runs: int | None = None, seed: int | None = None, *,
                  precision: float | None = None,
                  precedent: PrecedentWeights | None = None, chunk_size: int = DEFAULT_CHUNK,
                  out: str | Path | None = None, resume: str | Path | None = None,
                  executor: str = "threads", workers: int | None = None,
                  scheduler: str | None = None, given: dict[str, str] | None = None,
                  progress: bool | None = None) -> ItineraryResult:
    """Run ``runs`` worlds through the itinerary; return the paths and their numbers.

    Parameters
    ----------
    itinerary : Itinerary
        From :func:`~sim.itinerary.spec.load_itinerary`.
    runs, seed, chunk_size, executor, workers, scheduler, progress
        As for :func:`sim.engine.run` (no result depends on the chunk size or executor).
        ``runs`` defaults to 100,000, or to 10,000,000 as a cap with ``precision``.
    precision : float, optional
        Keep adding blocks of 10,000 worlds until, at every visit, the 95% interval of each
        state's probability (over all worlds, :data:`~sim.itinerary.result.STATES`) has a
        half-width of at most this, or ``runs`` is reached.  Checked after every block, so
        where the run stops depends on the seed only.
    precedent : PrecedentWeights, optional
        The precedent weights (default: the prior, ``sim/data/precedent_prior.yaml``);
        :meth:`PrecedentWeights.zero` gives every visit its standalone forecast.
    out : path, optional
        A new results folder, claimed before anything is computed.  Each chunk is recorded
        in ``chunks/`` as it is accepted; at the end ``visits.csv``, ``paths.csv``,
        ``paths.png``, ``provenance.json`` and ``summary.json`` (last: the run is complete).
    resume : path, optional
        The folder of an interrupted run: its finished chunks are read back, the rest run,
        with the run's own seed, runs, chunk size and precision (from its ``run.json``).
        The result is that of the uninterrupted run, bit for bit.  Refused (one line) when
        the itinerary, its weights or the precedent weights differ from the run's, or when
        ``seed`` is not the run's.
    given : dict, optional
        Conditions ``{visit id: outcome}``: the folder also holds the numbers in the worlds
        that met them (``summary.json`` "given_result", ``paths_given.png``).  A condition
        that no world met raises :class:`~sim.errors.UsageError` (and no summary is
        written); :meth:`ItineraryResult.given` conditions a result afterwards.  Not a
        setting of the run (no world depends on it): a resumed run takes its own.
    """
    for visit_id, outcome in (given or {}).items():  # before anything runs
        itinerary.index(visit_id)
        if outcome not in STATES:
            raise UsageError(f"unknown outcome {outcome!r} for visit {visit_id}",
                             hint=f"use one of {', '.join(STATES)}")
    if runs is None:
        runs = MAX_PRECISION_RUNS if precision is not None else DEFAULT_RUNS
    check_run_arguments(runs, seed, chunk_size, precision)
    if precision is not None:
        chunk_size = BLOCK  # checked after every block: the stop never depends on chunking
    precedent = precedent or load_precedent_weights()
    chunk_size = chunk_within_budget([v.scenario for v in itinerary.visits], chunk_size)
    pool = make_executor(executor, workers, scheduler)  # fails before any folder is claimed
    folder: RunFolder | None = None
    with pool:
        try:
            if resume is not None:
                folder, seed, runs, chunk_size, precision = reopen_folder(
                    resume, itinerary, precedent, seed)
            else:
                seed = new_seed() if seed is None else int(seed)
                if out is not None:
                    folder = start_folder(out, itinerary, precedent, runs, seed, chunk_size,
                                          precision)
            result = _accept_chunks(pool, itinerary, precedent, seed, runs, chunk_size,
                                    precision, folder, progress)
            conditioned = _conditioned(result, given, folder)
            if folder is not None:
                write_folder(folder, result, itinerary, conditioned, precision)
            return result
        except BaseException:
            if folder is not None:
                folder.abandon()  # removed if no chunk was written; kept for --resume if any
            raise
        finally:
            if folder is not None:
                folder.release()


def _accept_chunks(pool, itinerary: Itinerary, precedent: PrecedentWeights, seed: int,
                   runs: int, chunk_size: int, precision: float | None,
                   folder: RunFolder | None, progress: bool | None) -> ItineraryResult:
    """Run (or read back) the chunks in block order, writing each new one as accepted;
    stop early once ``precision`` is met.  Accepted in block order, so neither the result
    nor where a precision target stops depends on the executor."""
    paths: dict[tuple[int, ...], np.ndarray] = {}
    states = np.zeros((len(itinerary.visits), len(STATES)), dtype=np.int64)
    per_draw = _no_draw_counts(itinerary)
    chunks = in_order(pool, simulate_itinerary_chunk,
                      _chunk_calls(plan_chunks(runs, chunk_size), itinerary, precedent, seed,
                                   folder),
                      progress=progress, total=runs, unit="world", unit_scale=True,
                      desc=itinerary.id, amount=lambda c: c.worlds)
    with closing(chunks):  # stopping early cancels the chunks not started
        for part in chunks:
            if folder is not None and not part.stored:
                write_chunk(folder, part)
            for sequence, counts in part.paths.items():
                paths[sequence] = paths[sequence] + counts if sequence in paths else counts
                states[np.arange(len(sequence)), sequence] += counts[0]
            if per_draw is not None and part.draw_counts is not None:
                per_draw += part.draw_counts
            if precision is not None and all(precise_enough(row, precision) for row in states):
                break
    return ItineraryResult.from_counts(itinerary, paths, seed, precedent, per_draw)


def _chunk_calls(plan, itinerary: Itinerary, precedent: PrecedentWeights, seed: int,
                 folder: RunFolder | None):
    """Arguments of :func:`simulate_itinerary_chunk` for each chunk of ``plan``, in block
    order; a chunk already in ``folder`` (a resumed run) is read back instead.  Read lazily,
    as :func:`~sim.executors.in_order` moves on."""
    for first_block, sizes in plan:
        stored = read_chunk(folder, itinerary, first_block, sizes) if folder else None
        yield (completed(stored) if stored is not None
               else (itinerary, precedent, seed, first_block, sizes))


def _conditioned(result: ItineraryResult, given: dict[str, str] | None,
                 folder: RunFolder | None) -> ItineraryResult | None:
    """``result`` given the conditions, if any.  A condition that no world met is refused;
    the chunks written are kept, so that the run can be resumed with another."""
    try:
        return result.given(**given) if given else None
    except UsageError as exc:
        if folder is None:
            raise
        raise UsageError(str(exc), hint=f"{exc.hint}; the worlds run are kept in "
                         f"{folder.path}: add --resume {folder.path} with another --given, "
                         "or none") from None
