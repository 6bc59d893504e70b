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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
from ..executors import in_order, make_executor
from ..outcomes import ARREST
from ..sampling import draw_parameters
from ..streams import BLOCK, Streams
from .precedent import History, PrecedentWeights, carry_over, load_precedent_weights
from .result import NOT_REACHED, STATES, ItineraryResult
from .spec import Itinerary

DEFAULT_RUNS = 100_000


@dataclass
class ItineraryChunk:
    """A chunk's paths: for each sequence of state codes that occurred, the number of
    worlds that took it and, per visit, how many of them drew a non-compliance finding."""

    first_block: int
    paths: dict[tuple[int, ...], np.ndarray]  # sequence -> [worlds, findings per visit...]


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
    for i in range(0, len(sizes), per_model):
        states, findings, _ = simulate_worlds(itinerary, precedent, seed, first_block + i,
                                              sizes[i:i + per_model])
        _add_paths(paths, states, findings)
    return ItineraryChunk(first_block, paths)


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
                  out: str | Path | None = None, executor: str = "threads",
                  workers: int | None = None, scheduler: str | None = None,
                  given: dict[str, str] | None = None,
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
        A new results folder, claimed before anything is computed: ``visits.csv``,
        ``paths.csv``, ``paths.png``, ``provenance.json`` and ``summary.json`` (last).
    given : dict, optional
        Conditions ``{visit id: outcome}``: the folder also holds the numbers in the worlds
        that met them (``summary.json`` "given_result", ``paths_given.png``).  A condition
        that no world met raises :class:`~sim.errors.UsageError` (and nothing is written);
        :meth:`ItineraryResult.given` conditions a result afterwards.
    """
    for visit_id, outcome in (given or {}).items():  # before anything runs
        itinerary.index(visit_id)
        if outcome not in STATES:
            raise UsageError(f"unknown outcome {outcome!r} for visit {visit_id}",
                             hint=f"use one of {', '.join(STATES)}")
    seed = new_seed() if seed is None else seed
    if runs is None:
        runs = MAX_PRECISION_RUNS if precision is not None else DEFAULT_RUNS
    check_run_arguments(runs, seed, chunk_size, precision)
    if precision is not None:
        chunk_size = BLOCK  # checked after every block: the stop never depends on chunking
    precedent = precedent or load_precedent_weights()
    folder = None
    if out is not None:
        from ..output import OutputFolder
        folder = OutputFolder.claim(out, "run", "summary.json")
    try:
        scenarios = [v.scenario for v in itinerary.visits]
        chunk = chunk_within_budget(scenarios, chunk_size)
        calls = ((itinerary, precedent, seed, first, sizes)
                 for first, sizes in plan_chunks(runs, chunk))
        paths: dict[tuple[int, ...], np.ndarray] = {}
        states = np.zeros((len(itinerary.visits), len(STATES)), dtype=np.int64)
        with make_executor(executor, workers, scheduler) as pool:
            for part in in_order(pool, simulate_itinerary_chunk, calls, progress=progress,
                                 total=runs, unit="world", unit_scale=True,
                                 desc=itinerary.id,
                                 amount=lambda c: int(sum(v[0] for v in c.paths.values()))):
                for sequence, counts in part.paths.items():
                    paths[sequence] = (paths[sequence] + counts if sequence in paths
                                       else counts)
                    states[np.arange(len(sequence)), sequence] += counts[0]
                if precision is not None and all(precise_enough(row, precision)
                                                 for row in states):
                    break
        result = ItineraryResult.from_counts(itinerary, paths, seed, precedent)
        conditioned = result.given(**given) if given else None
        if folder is not None:
            from .report import write_folder
            write_folder(folder, result, itinerary, conditioned, precision)
        return result
    except BaseException:
        if folder is not None:
            folder.fail()
        raise
