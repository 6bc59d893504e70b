"""The results folder of an itinerary's run, written chunk by chunk so that it can be resumed.

The folder is a :class:`~sim.output.RunFolder`, as for one scenario: claimed before anything
runs, ``run.json`` (what is run: seed, runs, chunking, and in ``scenario_sha256`` the digest
of the itinerary with every visit's resolved scenario and the precedent weights), then one
record per finished chunk in ``chunks/`` (its paths and posterior draw counts, with a
checksum), and at the end ``visits.csv``, ``paths.csv``, ``paths.png``, ``provenance.json``
and ``summary.json`` (last: the run is complete).  ``--resume`` reopens it with
:meth:`RunFolder.reopen <sim.output.RunFolder.reopen>` and reads back the chunk records
that check out (:func:`read_chunk`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import check_run_arguments
from ..errors import UsageError
from ..output import (
    RunFolder,
    atomic_write,
    environment_record,
    record_checksum,
    resumable,
    save_chart,
    scenario_record,
    write_csv,
    write_json,
)
from .precedent import PrecedentWeights
from .result import STATES, ItineraryChunk, ItineraryResult
from .spec import Itinerary

FILES = ("summary.json", "provenance.json", "visits.csv", "paths.csv", "paths.png")
_RECORD_KEYS = {"first_block", "rows", "paths", "draw_counts", "checksum"}


@dataclass(frozen=True)
class RunIdentity:
    """What :class:`~sim.output.RunFolder` records of what is run (``id``, ``file``,
    ``content_hash``, as of a scenario) and checks on ``--resume``."""

    id: str
    file: str
    content_hash: str


def run_identity(itinerary: Itinerary, precedent: PrecedentWeights) -> RunIdentity:
    """The itinerary's identity: a digest of everything its worlds depend on (its visits,
    their places and resolved scenarios with their weights, the precedent weights)."""
    resolved = {"itinerary": itinerary.id, "title": itinerary.title,
                "visits": [{"id": v.id, "region": v.region, "blocs": list(v.blocs),
                            "scenario_sha256": v.scenario.content_hash}
                           for v in itinerary.visits],
                "precedent_weights": dict(sorted(precedent.values.items()))}
    blob = json.dumps(resolved, sort_keys=True)
    return RunIdentity(itinerary.id, itinerary.file, hashlib.sha256(blob.encode()).hexdigest())


def start_folder(out: str | Path, itinerary: Itinerary, precedent: PrecedentWeights,
                 runs: int, seed: int, chunk_size: int,
                 precision: float | None) -> RunFolder:
    """Claim a new folder for the run and write its ``run.json``."""
    folder = RunFolder.create(Path(out))
    try:
        folder.start(run_identity(itinerary, precedent), runs, seed, chunk_size, precision)
    except BaseException:
        folder.abandon()
        folder.release()
        raise
    return folder


def reopen_folder(path: str | Path, itinerary: Itinerary, precedent: PrecedentWeights,
                  seed: int | None) -> tuple[RunFolder, int, int, int, float | None]:
    """Reopen an interrupted run's folder: ``(folder, seed, runs, chunk_size, precision)``,
    the run's own settings.  Refused (one line) when the run was of another itinerary,
    other weights or other precedent weights, when ``seed`` is not its seed, or when it is
    complete."""
    path = Path(path)
    identity = run_identity(itinerary, precedent)
    try:
        recorded = json.loads((path / "run.json").read_text()).get("scenario_sha256")
    except (OSError, ValueError, AttributeError):
        recorded = None  # not a run folder: RunFolder.reopen says so
    if isinstance(recorded, str) and recorded != identity.content_hash:
        raise UsageError(f"{path} was not run with this itinerary ({itinerary.file}) and these "
                         "weights and precedent weights",
                         hint="resume with the itinerary file, --weights and "
                              "--precedent-weights the run started with")
    return RunFolder.reopen(path, identity, seed, check_run_arguments)


def _record(folder: RunFolder, first_block: int) -> Path:
    return folder.chunks / f"part-{first_block:06d}.json"


def write_chunk(folder: RunFolder, chunk: ItineraryChunk) -> None:
    """Write a finished chunk's record (its paths, its posterior draw counts, a checksum of
    them): the chunk is then done, for ``--resume``."""
    info: dict = {"first_block": int(chunk.first_block), "rows": chunk.worlds,
                  "paths": [[list(sequence), counts.tolist()]
                            for sequence, counts in sorted(chunk.paths.items())],
                  "draw_counts": (None if chunk.draw_counts is None
                                  else chunk.draw_counts.tolist())}
    info["checksum"] = record_checksum(info)
    text = json.dumps(info, separators=(",", ":"))  # compact: draw counts are many numbers
    with resumable():
        atomic_write(_record(folder, chunk.first_block), lambda fh: fh.write(text.encode()))


def read_chunk(folder: RunFolder, itinerary: Itinerary, first_block: int,
               sizes: list[int]) -> ItineraryChunk | None:
    """A finished chunk from ``folder``, or None if it is missing or fails a check (then it
    is recomputed, with a note): its record must be whole, match its checksum, and hold
    this chunk's worlds in paths of this itinerary."""
    record = _record(folder, first_block)
    if not os.path.lexists(record):
        return None  # never finished: simply computed
    try:
        info = json.loads(record.read_text())
        problem = _record_problem(info, itinerary, first_block, sizes)
    except (OSError, ValueError, TypeError) as exc:
        problem = f"it cannot be read ({type(exc).__name__})"
    if problem is not None:
        print(f"note: chunk {record.stem} of {folder.path} is not used: {problem}; "
              "recomputing it", file=sys.stderr)
        return None
    draws = info["draw_counts"]
    return ItineraryChunk(first_block,
                          {tuple(sequence): np.asarray(counts, dtype=np.int64)
                           for sequence, counts in info["paths"]},
                          None if draws is None else np.asarray(draws, dtype=np.int64),
                          stored=True)


def _record_problem(info, itinerary: Itinerary, first_block: int,
                    sizes: list[int]) -> str | None:
    """What is wrong with an itinerary's chunk record, or None."""
    if not isinstance(info, dict) or set(info) != _RECORD_KEYS:
        return "its record is not an itinerary's chunk record"
    if info["checksum"] != record_checksum(info):
        return "its record does not match its checksum (edited?)"
    if info["first_block"] != first_block or info["rows"] != sum(sizes):
        return "its record belongs to another chunk"
    visits = len(itinerary.visits)
    sequences = np.asarray([s for s, _ in info["paths"]])
    counts = np.asarray([c for _, c in info["paths"]])
    if (sequences.ndim != 2 or sequences.shape[1] != visits or sequences.dtype.kind != "i"
            or ((sequences < 0) | (sequences >= len(STATES))).any()
            or len({tuple(s) for s in sequences.tolist()}) != len(sequences)):
        return "its paths are not paths of this itinerary"
    if (counts.shape != (len(sequences), 1 + visits) or counts.dtype.kind != "i"
            or (counts < 0).any() or (counts[:, 1:] > counts[:, :1]).any()
            or counts[:, 0].sum() != info["rows"]):
        return "its path counts are misshapen or do not add up to its worlds"
    draws = itinerary.posterior_draws
    if (info["draw_counts"] is None) != (draws is None):
        return "its posterior draw counts do not match the weights"
    if draws is not None:
        per_draw = np.asarray(info["draw_counts"])
        states = np.zeros((visits, len(STATES)), dtype=np.int64)
        for k in range(visits):
            states[k] = np.bincount(sequences[:, k], weights=counts[:, 0],
                                    minlength=len(STATES))
        if (per_draw.shape != (draws, visits, len(STATES)) or per_draw.dtype.kind != "i"
                or (per_draw < 0).any() or not np.array_equal(per_draw.sum(axis=0), states)):
            return "its posterior draw counts are misshapen or do not match its paths"
    return None


def provenance(result: ItineraryResult, itinerary: Itinerary) -> dict:
    """Which itinerary, scenarios, weights, precedent weights, seed and code made the run."""
    return {"itinerary": itinerary.id, "itinerary_file": itinerary.file,
            "visits": [{"id": v.id, "region": v.region, "blocs": list(v.blocs),
                        **scenario_record(v.scenario)} for v in itinerary.visits],
            "seed": result.seed, "runs": result.runs,
            "precedent_weights": dict(result.precedent),
            "precedent_weights_file": result.precedent_file, **environment_record()}


def write_folder(folder: RunFolder, result: ItineraryResult, itinerary: Itinerary,
                 given: ItineraryResult | None = None, precision: float | None = None) -> None:
    """Write the tables, the chart(s) and the provenance, then ``summary.json`` last (with
    the numbers in the worlds meeting the conditions of ``given``, if any)."""
    out = folder.path
    with resumable():  # a failed write: the chunks are kept, --resume finishes the run
        write_csv(result.frame(), out / "visits.csv")
        write_csv(result.paths_frame(), out / "paths.csv")
        save_chart(result.plot(), out / "paths.png")
        summary = result.summary()
        if precision is not None:
            reached = result.half_width
            summary["precision"] = {"target": precision, "met": reached <= precision,
                                    "half_width": reached}
        if given is not None:
            save_chart(given.plot(), out / "paths_given.png")
            summary["given_result"] = given.summary(conditional=False)
        write_json(out / "provenance.json", provenance(result, itinerary))
        try:
            folder.parts.rmdir()  # RunFolder's per-world tables: an itinerary has none
        except OSError:
            pass
        write_json(out / "summary.json", summary)  # last: marks the run complete
