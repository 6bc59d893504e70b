"""The results folder of a run: its layout, provenance and atomic writes.

Layout of ``DIR``::

    run.json             what is being run (scenario hash, seed, runs, chunking), written first
    replications/        per-replication outcomes and drawn parameters, one Parquet file per chunk
    chunks/              per chunk: its counts, intent sample and driver sums; a chunk is done
                         when its record is there (what --resume reads)
    outcomes.png         outcome bars with 95% intervals
    stance.png           fan chart of the host's intent to execute the warrant over time
    drivers.png          what each pressure did to the host's intent and the visitor's choice
    provenance.json      scenario hash, seed, package versions, git commit, command line
    summary.json         written last: its presence marks the run as complete
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .agents import DRIVER_KEYS
from .errors import OutputError, UsageError
from .results import RunResult, write_json
from .scenario import Scenario

PACKAGES = ("numpy", "scipy", "mesa", "pandas", "pyarrow", "matplotlib", "pyyaml")


def default_folder(scenario: Scenario, seed: int, root: Path = Path("results")) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / scenario.id / f"{stamp}-seed{seed}"


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str | None:
    """The commit of the code that ran, with '-dirty' if it had local changes."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip()
        # dirty only if the package itself (the code that ran) has local changes
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def check_new_folder(path: Path) -> Path:
    """Refuse an output path that is a file or a folder that holds something."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        what = "a file" if not path.is_dir() else "a folder that is not empty"
        raise UsageError(f"output path {path} is {what}",
                         hint="give a new folder with --out, or leave --out out")
    return path


def new_folder(path: Path) -> Path:
    """Create a new, empty output folder; refuse one that is a file or holds something."""
    check_new_folder(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {path}: {exc.strerror}",
                         hint="check the path and its permissions") from None
    return path


def save_chart(ax, path: Path) -> None:
    """Save the figure of ``ax`` (an axes, or several of one figure) to ``path`` (PNG)
    and free it."""
    import matplotlib.pyplot as plt

    if not hasattr(ax, "figure"):
        ax = np.ravel(ax)[0]
    try:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}",
                          hint="free some disk space or check the output folder") from None
    finally:
        plt.close(ax.figure)


def scenario_record(scenario: Scenario) -> dict:
    """What identifies a scenario in provenance: id, files and content hash."""
    return {"scenario": scenario.id, "scenario_file": scenario.file,
            "base_scenario": scenario.base, "scenario_sha256": scenario.content_hash}


def environment_record() -> dict:
    """What identifies the code and the call: versions, commit, command line, time."""
    return {"packages": package_versions(), "git_commit": git_commit(),
            "command_line": sys.argv,
            "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def write_analysis_provenance(folder: Path, scenarios: list[Scenario], seed: int,
                              **settings) -> None:
    """provenance.json for an analysis folder (compare, sweep, sensitivity)."""
    write_json(folder / "provenance.json", {
        "scenarios": [scenario_record(s) for s in scenarios], "seed": seed, **settings,
        **environment_record()})


class RunFolder:
    """Writes one run's folder; never into a folder that already holds something."""

    _lock: TextIO | None = None  # run.lock while held (see lock)

    def __init__(self, path: Path):
        self.path = path
        self.parts = path / "replications"
        self.chunks = path / "chunks"  # per-chunk records: what is done, for resuming

    @classmethod
    def create(cls, path: Path) -> RunFolder:
        new_folder(path)
        try:
            (path / "replications").mkdir(exist_ok=False)  # the claim: one run per folder
            (path / "chunks").mkdir()
        except FileExistsError:
            raise UsageError(f"another run is already writing to {path}",
                             hint="give a different --out folder") from None
        folder = cls(path)
        folder.lock()
        return folder

    def start(self, scenario: Scenario, runs: int, seed: int, chunk_size: int,
              precision: float | None = None) -> None:
        write_json(self.path / "run.json", {
            "scenario": scenario.id, "scenario_file": scenario.file,
            "scenario_sha256": scenario.content_hash, "runs": runs, "seed": seed,
            "chunk_size": chunk_size, "precision": precision,
        })

    @classmethod
    def reopen(cls, path: Path, scenario: Scenario, seed: int | None):
        """Reopen an interrupted run's folder; returns it with the run's own settings
        (folder, seed, runs, chunk_size, precision)."""
        try:
            plan = json.loads((path / "run.json").read_text())
            settings = (int(plan["seed"]), int(plan["runs"]), int(plan["chunk_size"]))
            precision = plan.get("precision")
            precision = None if precision is None else float(precision)
            digest = plan.get("scenario_sha256")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise UsageError(f"{path} is not a run folder that can be resumed "
                             f"(no readable run.json with seed, runs and chunk_size)",
                             hint="give the folder of an interrupted 'sim run'") from None
        if (path / "summary.json").exists():
            raise UsageError(f"the run in {path} is already complete",
                             hint="read its summary.json, or start a new run")
        if digest != scenario.content_hash:
            raise UsageError(f"{path} was run with a different scenario "
                             f"({plan.get('scenario_file')}, hash {digest})",
                             hint="resume with the scenario file the run started with")
        if seed is not None and seed != settings[0]:
            raise UsageError(f"{path} was run with seed {settings[0]}, not {seed}",
                             hint="leave --seed out when resuming")
        folder = cls(path)
        folder.lock()
        folder.parts.mkdir(exist_ok=True)
        folder.chunks.mkdir(exist_ok=True)
        return (folder, *settings, precision)

    def lock(self) -> None:
        """Hold an exclusive lock on the folder while writing (released when the process
        ends, however it ends), so two processes never write into one run."""
        self._lock = open(self.path / "run.lock", "w")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise UsageError(f"another process is writing to {self.path}",
                             hint="wait for it to finish, or give a different folder") from None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _names(self, first_block: int) -> tuple[Path, Path, Path]:
        stem = f"part-{first_block:06d}"
        return (self.parts / f"{stem}.parquet", self.chunks / f"{stem}.stance.npy",
                self.chunks / f"{stem}.json")

    def write_chunk(self, chunk) -> None:
        """Table, stance sample, then the small record that marks the chunk as done."""
        table, stance, record = self._names(chunk.first_block)
        atomic_write_table(chunk.table, table)
        atomic_write(stance, lambda fh: np.save(fh, chunk.stance, allow_pickle=False))
        write_json(record, {"first_block": chunk.first_block, "rows": chunk.table.num_rows,
                            "counts": chunk.counts.tolist(),
                            "noncompliance": chunk.noncompliance,
                            "drivers": chunk.drivers.tolist()})

    def read_chunk(self, first_block: int, sizes: list[int]):
        """A finished chunk from disk, or None if it is missing, partial or corrupt."""
        from .engine import ChunkResult

        table, stance, record = self._names(first_block)
        try:
            info = json.loads(record.read_text())
            rows = pq.ParquetFile(table).metadata.num_rows
            sample = np.load(stance, allow_pickle=False)
            counts = np.asarray(info["counts"], dtype=np.int64)
            drivers = np.asarray(info["drivers"], dtype=float)
            if drivers.shape != (len(sizes), len(DRIVER_KEYS)):
                return None
            if rows != sum(sizes) or info["rows"] != rows or counts.sum() != rows:
                return None
            if pq.read_table(table, columns=["outcome"]).num_rows != rows:
                return None
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            return None
        return ChunkResult(first_block, counts, int(info["noncompliance"]), sample, None, drivers)

    def finish(self, result: RunResult, scenario: Scenario) -> None:
        from .plots import drivers_chart, outcome_bars, stance_fan

        for name, draw in (("outcomes.png", outcome_bars), ("stance.png", stance_fan),
                           ("drivers.png", drivers_chart)):
            save_chart(draw(result), self.path / name)
        result.folder = self.path
        result.provenance = {**scenario_record(scenario), "seed": result.seed,
                             "runs": result.runs, **environment_record()}
        write_json(self.path / "provenance.json", result.provenance)
        write_json(self.path / "summary.json", result.summary())


def atomic_write(path: Path, write) -> None:
    """Call ``write(binary file)`` on a temporary file, then rename it to ``path``.

    Raises
    ------
    OutputError
        When the file cannot be written (disk full, folder gone, no permission).
    """
    try:
        _atomic_write(path, write)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}",
                          hint="free some disk space or check the output folder, then "
                               "continue with --resume on the run folder") from None


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file atomically."""
    atomic_write(path, lambda fh: pq.write_table(table, fh, compression="zstd"))
