"""Output folders and files: one policy for every command, and the layout of a run's folder.

Every command that writes (run, compare, sweep, sensitivity, backtest) claims its folder
through :class:`OutputFolder`: the path is checked before any computing, created, and
claimed atomically with a lock file (``run.lock``, held while writing), so two commands
never write into one folder; every file is written atomically (a temporary file, then a
rename) and the file that marks completion is written last.  A single output file
(``calibrate --out``) is written by :func:`write_new_file`: never over an existing file
unless asked to, never over a device.  OS errors become one-line errors (exit 2 for a bad
path, 3 for a disk that failed).

Layout of a run's ``DIR``::

    run.lock             the claim: held while a process writes, records the command
    run.json             what is being run (scenario hash, seed, runs, chunking), written first
    replications/        per-replication outcomes, one Parquet file per chunk (with every drawn
                         parameter too if run with --keep-draws; RunResult.replications()
                         regenerates them otherwise)
    chunks/              per chunk: its counts, intent sample and driver sums, with checksums of
                         them and of the Parquet part; a chunk is done when its record is there
                         and checks out (what --resume reads; anything else is recomputed)
    outcomes.png         outcome bars with 95% intervals
    stance.png           fan chart of the host's intent to execute the warrant over time
    drivers.png          what each pressure did to the host's intent and the visitor's choice
    provenance.json      scenario hash, seed, package versions, git commit, command line
    summary.json         written last: its presence marks the run as complete
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .agents import DRIVER_KEYS
from .errors import OutputError, SimError, UsageError
from .outcomes import OUTCOMES
from .results import REPLICATIONS, STANCE_SAMPLE, ChunkResult, RunResult
from .scenario import Scenario
from .streams import BLOCK

PACKAGES = ("numpy", "scipy", "mesa", "pandas", "pyarrow", "matplotlib", "pyyaml")
#: The lock file of a claimed output folder; it records the command that claimed it.
LOCK = "run.lock"
PATH_HINT = "check the path and its permissions"
NEW_FOLDER_HINT = "give a new folder with --out, or leave --out out"
WRITE_HINT = "free some disk space or check the output folder"
RESUME_HINT = ("free some disk space or check the output folder, then continue with --resume "
               "on the run folder")
#: OS errors that mean the disk failed us, not that the path was wrong (exit 3, not 2).
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}


class RunSubject(Protocol):
    """What a run folder records of what it runs, and checks on ``--resume``: a
    :class:`~sim.scenario.Scenario`, or an itinerary's identity."""

    @property
    def id(self) -> str: ...

    @property
    def file(self) -> str: ...

    @property
    def content_hash(self) -> str: ...


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


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _path_error(message: str, exc: OSError, hint: str = PATH_HINT) -> SimError:
    """An OS error about an output path: exit 3 when the disk failed us (full, quota, I/O
    error), exit 2 when the path itself is wrong (too long, read-only, no permission)."""
    kind = OutputError if exc.errno in _DISK_ERRNOS else UsageError
    if kind is OutputError:
        hint = WRITE_HINT
    elif exc.errno == errno.ENAMETOOLONG:
        hint = "give a shorter name"
    return kind(f"{message}: {_reason(exc)}", hint=hint)


def _nearest_existing(path: Path) -> tuple[Path, os.stat_result]:
    """The nearest of ``path`` and its parents that exists, and its status."""
    here = path
    while True:
        try:
            return here, os.stat(here)
        except FileNotFoundError:
            if here.parent == here:
                raise
            here = here.parent


def _check_writable_folder(folder: Path, message: str) -> None:
    """Refuse a folder on a read-only file system or without write permission."""
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise UsageError(f"{message}: Read-only file system", hint=PATH_HINT)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{message}: Permission denied", hint=PATH_HINT)


def check_creatable(path: Path, what: str = "output folder") -> None:
    """That ``path``, which does not exist, can be created: its nearest existing parent is a
    writable folder and no name in it is too long.  Creates nothing."""
    message = f"cannot create {what} {path}"
    try:
        parent, status = _nearest_existing(path.parent)
        if not stat.S_ISDIR(status.st_mode):
            raise UsageError(f"{message}: {parent} is not a folder", hint=PATH_HINT)
        try:
            name_max = os.pathconf(parent, "PC_NAME_MAX")
        except (OSError, ValueError):
            name_max = 255
        if any(len(os.fsencode(name)) > name_max for name in path.parts[len(parent.parts):]):
            raise UsageError(f"{message}: File name too long (a name in it is longer than "
                             f"{name_max} bytes)", hint="give a shorter name")
        if len(os.fsencode(str(path.absolute()))) >= 4096:
            raise UsageError(f"{message}: File name too long", hint="give a shorter path")
        _check_writable_folder(parent, message)
    except OSError as exc:
        raise _path_error(message, exc) from None


def read_claim(folder: Path) -> dict | None:
    """The record of the command that claimed ``folder`` (in its lock file), if any."""
    try:
        claim = json.loads((folder / LOCK).read_text() or "null")
    except (OSError, ValueError):
        return None
    return claim if isinstance(claim, dict) else None


def _in_use(folder: Path) -> bool:
    """Whether a live process holds the folder's lock."""
    try:
        fd = os.open(folder / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also releases the lock if it was taken
    return False


def _check_reusable(path: Path, names: list[str], command: str, replace: bool,
                    check_lock: bool = True) -> None:
    """Refuse a folder that holds something, saying what it holds; pass a folder of an
    earlier ``command`` only with ``replace``."""
    # the claim is read before the lock is tested: a writer locks before it writes its
    # claim, so a claim seen here with the lock free is truly left over (not a race)
    claim = read_claim(path) if LOCK in names else None
    if check_lock and LOCK in names and _in_use(path):
        raise UsageError(f"another command is already writing to {path}",
                         hint="wait for it to finish, or give a different folder")
    if "summary.json" in names:
        raise UsageError(f"output path {path} is a folder that is not empty: it holds a "
                         "finished run", hint=NEW_FOLDER_HINT)
    if "run.json" in names:
        raise UsageError(f"output path {path} is a folder that is not empty: it holds an "
                         "interrupted run (no summary.json)",
                         hint=f"finish it with 'python -m sim run SCENARIO --resume {path}', "
                              "or give a new folder with --out")
    if names == [LOCK] and claim is None:
        raise UsageError(f"another command is already claiming {path} (or one that was killed "
                         "left only its lock file there)",
                         hint="wait for it, or give a different folder")
    if claim and claim.get("command") not in (None, "run"):
        earlier, mark = str(claim["command"]), str(claim.get("complete_when"))
        if replace and earlier == command:
            return
        same = earlier == command
        if mark in names:
            raise UsageError(f"output folder {path} already holds a finished {earlier}",
                             hint="give a new folder with --out"
                                  + (", or add --replace to replace it" if same else ""))
        raise UsageError(f"output folder {path} holds an unfinished {earlier} (interrupted "
                         f"or failed: it has no {mark})",
                         hint="remove it" + (f", or re-run the {earlier} with --replace to "
                                             "replace it" if same else "")
                              + ", or give a new folder with --out")
    raise UsageError(f"output path {path} is a folder that is not empty", hint=NEW_FOLDER_HINT)


def check_new_folder(path: Path, command: str = "run", replace: bool = False,
                     _locked: bool = False) -> Path:
    """Refuse an output folder before any computing: a file, a device, a folder that holds
    something (unless ``replace`` and it holds an earlier result of the same ``command``),
    or a path that cannot be created (too long, read-only, no permission).  Creates nothing.
    """
    path = Path(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        check_creatable(path)
        return path
    except OSError as exc:
        raise _path_error(f"cannot create output folder {path}", exc) from None
    if not stat.S_ISDIR(status.st_mode):
        what = ("a file" if stat.S_ISREG(status.st_mode)
                else "a device or special file, not a folder")
        raise UsageError(f"output path {path} is {what}", hint=NEW_FOLDER_HINT)
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise _path_error(f"cannot use output folder {path}", exc) from None
    if names:
        _check_reusable(path, names, command, replace, check_lock=not _locked)
    _check_writable_folder(path, f"cannot write into output folder {path}")
    return path


def new_folder(path: Path) -> Path:
    """Create a new, empty output folder; refuse one that is a file or holds something."""
    check_new_folder(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _path_error(f"cannot create output folder {path}", exc) from None
    return path


def make_folders(path: Path) -> list[Path]:
    """Create ``path`` and its missing parents; returns those created (outermost first),
    for :func:`remove_empty_folders` to undo."""
    missing = []
    here = path
    while True:
        try:
            os.stat(here)
            break
        except FileNotFoundError:
            missing.append(here)
            if here.parent == here:
                break
            here = here.parent
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                continue  # made meanwhile by someone else: not ours to remove
            created.append(folder)
    except BaseException:
        remove_empty_folders(created)
        raise
    return created


def remove_empty_folders(created: list[Path]) -> None:
    """Remove the folders ``make_folders`` created, innermost first, if they are empty."""
    for folder in reversed(created):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def check_new_file(path: str | Path, replace: bool = False, what: str = "output file") -> Path:
    """Refuse an output file before any computing: an existing file (unless ``replace``),
    anything that is not a regular file (a device, pipe, socket or link: never replaced),
    a folder, or a path that cannot be created.  Creates nothing."""
    path = Path(path)
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        check_creatable(path, what)
        return path
    except OSError as exc:
        raise _path_error(f"cannot write {what} {path}", exc) from None
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(f"{what} {path} is a folder", hint="give a file name, e.g. weights.yaml")
    if not stat.S_ISREG(status.st_mode):
        raise UsageError(f"{what} {path} is not a regular file (a device, pipe, socket or "
                         "link): it is never replaced", hint="give a new file name with --out")
    if not replace:
        raise UsageError(f"{what} {path} already exists",
                         hint="give a new file name with --out, or add --replace to "
                              "overwrite it")
    _check_writable_folder(path.parent, f"cannot replace {path}")
    return path


def write_new_file(path: str | Path, data: bytes, replace: bool = False,
                   what: str = "output file") -> Path:
    """Write ``data`` to a new file ``path`` atomically, creating its folder; never over an
    existing file (unless ``replace``, and then only a regular file), never a device.
    Two processes writing the same new path: one succeeds, the other is refused."""
    path = check_new_file(path, replace, what)
    try:
        created = make_folders(path.parent)
    except OSError as exc:
        raise _path_error(f"cannot create the folder of {path}", exc) from None
    try:
        if replace:
            check_new_file(path, replace, what)  # still a regular file, just before
        atomic_write(path, lambda fh: fh.write(data), exclusive=not replace)
    except BaseException:
        remove_empty_folders(created)
        raise
    return path


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a temporary file in the same folder, then a rename."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    atomic_write(path, lambda fh: fh.write(text.encode()))


def save_chart(ax, path: Path, dpi: int = 120) -> None:
    """Save the figure of ``ax`` (an axes, or several of one figure) to ``path`` (PNG,
    atomically) and free it."""
    import matplotlib.pyplot as plt

    if not hasattr(ax, "figure"):
        ax = np.ravel(ax)[0]
    figure = ax.figure
    try:
        atomic_write(path, lambda fh: figure.savefig(fh, format="png", dpi=dpi,
                                                     bbox_inches="tight"))
    finally:
        plt.close(figure)


def write_csv(frame, path: Path) -> None:
    """Write a DataFrame as CSV (without its index), atomically."""
    text = frame.to_csv(index=False)
    atomic_write(path, lambda fh: fh.write(text.encode()))


def scenario_record(scenario: Scenario) -> dict:
    """What identifies a scenario in provenance: id, files and content hash."""
    return {"scenario": scenario.id, "scenario_file": scenario.file,
            "base_scenario": scenario.base, "scenario_sha256": scenario.content_hash,
            "weights": dict(scenario.weights_info)}


def environment_record() -> dict:
    """What identifies the code and the call: versions, commit, command line, time."""
    return {"packages": package_versions(), "git_commit": git_commit(),
            "command_line": sys.argv,
            "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def analysis_provenance(scenarios: list[Scenario], seed: int, **settings) -> dict:
    """provenance.json of an analysis folder (compare, sweep, sensitivity)."""
    return {"scenarios": [scenario_record(s) for s in scenarios], "seed": seed, **settings,
            **environment_record()}


def write_analysis_provenance(folder: Path, scenarios: list[Scenario], seed: int,
                              **settings) -> None:
    """provenance.json for an analysis folder (compare, sweep, sensitivity)."""
    write_json(folder / "provenance.json", analysis_provenance(scenarios, seed, **settings))


# --------------------------------------------------------------------------- claimed folders

def _take_lock(folder: Path, create: bool) -> int:
    """Open the folder's lock file (a new one only, with ``create``) and lock it; the lock
    is released when the file is closed or the process ends, however it ends."""
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_CREAT | (os.O_EXCL if create else 0)
    fd = os.open(folder / LOCK, flags, 0o644)
    try:
        if create:  # a new file: only a momentary check (_in_use) can hold it; wait for that
            fcntl.flock(fd, fcntl.LOCK_EX)
            return fd
        for attempt in range(5):  # a momentary check may hold it; a writer holds it long
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                time.sleep(0.02 * (attempt + 1))
    except OSError:
        pass
    os.close(fd)
    raise UsageError(f"another command is already writing to {folder}",
                     hint="wait for it to finish, or give a different folder")


def _write_claim(fd: int, command: str, mark: str) -> None:
    record = {"command": command, "complete_when": mark, "pid": os.getpid(),
              "claimed_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)


def _is_tmp(name: str) -> bool:
    """A temporary file of :func:`atomic_write`, left behind if the process was killed."""
    return name.startswith(".") and name.endswith(".tmp")


def _holds_files(folder: Path) -> bool:
    """Whether ``folder`` holds any file besides its lock and temporary files."""
    for root, _, files in os.walk(folder):
        if any(not _is_tmp(f) and not (f == LOCK and Path(root) == folder) for f in files):
            return True
    return False


def _clear(folder: Path) -> None:
    """Remove everything in ``folder`` but its lock file."""
    for entry in os.scandir(folder):
        if entry.name == LOCK:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def remove_stray_tmp(*folders: Path) -> None:
    """Delete temporary files that a killed process left in ``folders``."""
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if _is_tmp(name):
                (folder / name).unlink(missing_ok=True)


#: Folders this process claimed and left unfinished (for the command line to report).
_LEFT: list[OutputFolder] = []


def take_left_behind() -> list[OutputFolder]:
    """The unfinished folders this process left (and forget them)."""
    left = list(_LEFT)
    _LEFT.clear()
    return left


class OutputFolder:
    """A folder that one command claimed for its results: one policy for every command.

    * :meth:`claim` checks the path before any computing (:func:`check_new_folder`), then
      creates the folder and claims it atomically: it creates its lock file ``run.lock``
      exclusively and holds a lock on it, so of two commands racing for one folder, one
      wins and the other is refused cleanly.  The lock file records which command claimed
      the folder and which file marks it complete.
    * Every file is written atomically (a temporary file, then a rename), and the file
      that marks completion is written last (:meth:`finish`).
    * If the command fails or is interrupted before writing anything, the folder (and any
      parent the claim created) is removed; otherwise it is left, unfinished, and
      :func:`take_left_behind` reports it; ``replace=True`` then replaces it explicitly.

    Use it as a context manager::

        with OutputFolder.claim(out, "compare", "provenance.json") as folder:
            ...compute...
            write_csv(frame, folder.path / "comparison.csv")
            folder.finish(provenance)           # provenance.json, written last
    """

    def __init__(self, path: Path, command: str, mark: str, fd: int | None,
                 created: list[Path]):
        self.path = path
        self.command = command
        self.mark = mark
        self._fd = fd
        self._created = created
        self.complete = False

    @classmethod
    def claim(cls, path: str | Path, command: str, mark: str, *,
              replace: bool = False) -> OutputFolder:
        """Check, create and lock ``path`` for ``command``, whose completion ``mark`` is the
        name of the file it writes last.  With ``replace``, a folder holding an earlier
        result of the same command (finished or not) is emptied and reused."""
        path = Path(path)
        check_new_folder(path, command, replace)
        try:
            created = make_folders(path)
        except OSError as exc:
            raise _path_error(f"cannot create output folder {path}", exc) from None
        fd = None
        made = False
        try:
            try:
                fd = _take_lock(path, create=True)
                made = True
            except FileExistsError:
                if not replace:
                    raise UsageError(f"another command is already writing to {path}",
                                     hint="wait for it to finish, or give a different "
                                          "folder") from None
                fd = _take_lock(path, create=False)
                check_new_folder(path, command, replace=True, _locked=True)  # still ours
                _clear(path)
            else:
                if any(name != LOCK for name in os.listdir(path)):  # written meanwhile
                    raise UsageError(f"output path {path} is a folder that is not empty",
                                     hint=NEW_FOLDER_HINT)
            _write_claim(fd, command, mark)
        except BaseException as exc:
            if fd is not None:
                if made:
                    (path / LOCK).unlink(missing_ok=True)
                os.close(fd)
            remove_empty_folders(created)
            if isinstance(exc, OSError):
                raise _path_error(f"cannot create output folder {path}", exc) from None
            raise
        return cls(path, command, mark, fd, created)

    @classmethod
    def relock(cls, path: Path, command: str, mark: str) -> OutputFolder:
        """Lock the existing folder of an interrupted ``command`` again (to resume it)."""
        try:
            fd = _take_lock(path, create=False)
        except OSError as exc:
            raise _path_error(f"cannot lock {path}", exc) from None
        try:
            _write_claim(fd, command, mark)
        except OSError:
            pass  # the claim record is informative; the lock is what counts
        return cls(path, command, mark, fd, [])

    def finish(self, record: dict | None = None) -> None:
        """Mark the folder complete: write ``record`` as its completion file (last of all
        its files; already written by the caller when ``record`` is None), then unlock."""
        if record is not None:
            write_json(self.path / self.mark, record)
        self.complete = True
        self.release()

    def fail(self) -> None:
        """After an error or an interrupt: remove the folder if nothing was written into
        it, else leave it (reported by :func:`take_left_behind`); unlock it."""
        if self._fd is None or self.complete:
            return
        try:
            holds = _holds_files(self.path)
            if not holds:
                _clear(self.path)
                (self.path / LOCK).unlink(missing_ok=True)
        except OSError:
            holds = True
        self.release()
        if holds:
            _LEFT.append(self)
        else:
            remove_empty_folders(self._created)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def left_files(self) -> list[str]:
        """What the unfinished folder holds, relative to it."""
        try:
            return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*")
                          if p.is_file() and p.name != LOCK and not _is_tmp(p.name))
        except OSError:
            return []

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.release()
        else:
            self.fail()


class RunFolder:
    """Writes one run's folder; never into a folder that already holds something."""

    _claim: OutputFolder | None = None  # the lock, while held
    precision: float | None = None
    keep_draws = False  # whether the Parquet parts hold the drawn parameters too
    created = False  # made by this run (not reopened to resume)

    def __init__(self, path: Path):
        self.path = path
        self.parts = path / REPLICATIONS
        self.chunks = path / "chunks"  # per-chunk records: what is done, for resuming

    @classmethod
    def create(cls, path: Path) -> RunFolder:
        claim = OutputFolder.claim(path, "run", "summary.json")
        try:
            (path / REPLICATIONS).mkdir()
            (path / "chunks").mkdir()
        except OSError as exc:
            claim.fail()
            raise _path_error(f"cannot create output folder {path}", exc) from None
        folder = cls(path)
        folder._claim = claim
        folder.created = True
        return folder

    def abandon(self) -> None:
        """After an error before any chunk was written: remove the folder this run made,
        so a refused run leaves nothing behind.  A folder holding chunks is kept (resume)."""
        if not self.created or self._claim is None:
            return
        try:
            if any(self.parts.iterdir()) or any(self.chunks.iterdir()):
                return
            (self.path / "run.json").unlink(missing_ok=True)
            self.parts.rmdir()
            self.chunks.rmdir()
        except OSError:
            return
        self._claim.fail()
        self._claim = None

    def start(self, scenario: RunSubject, runs: int, seed: int, chunk_size: int,
              precision: float | None = None, keep_draws: bool = False) -> None:
        self.precision = precision
        self.keep_draws = keep_draws
        with resumable():
            write_json(self.path / "run.json", {
                "scenario": scenario.id, "scenario_file": scenario.file,
                "scenario_sha256": scenario.content_hash, "runs": runs, "seed": seed,
                "chunk_size": chunk_size, "precision": precision, "keep_draws": keep_draws,
            })

    @classmethod
    def reopen(cls, path: Path, scenario: RunSubject, seed: int | None,
               check: Callable[[int, int, int, float | None], None]):
        """Reopen an interrupted run's folder; returns it with the run's own settings
        (folder, seed, runs, chunk_size, precision), which ``check(runs, seed,
        chunk_size, precision)`` must accept (by raising no :class:`UsageError`; the
        engine's own check).  Temporary files that a killed process left are removed."""
        try:
            plan = json.loads((path / "run.json").read_text())
            settings = tuple(_whole(plan[key]) for key in ("seed", "runs", "chunk_size"))
            precision = plan.get("precision")
            if precision is not None and (isinstance(precision, bool)
                                          or not isinstance(precision, int | float)):
                raise TypeError("precision")
            keep_draws = plan.get("keep_draws", True)  # runs begun before lean folders kept them
            if not isinstance(keep_draws, bool):
                raise TypeError("keep_draws")
            digest = plan.get("scenario_sha256")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise UsageError(f"{path} is not a run folder that can be resumed "
                             f"(no readable run.json with seed, runs and chunk_size)",
                             hint="give the folder of an interrupted 'sim run'") from None
        try:
            check(settings[1], settings[0], settings[2], precision)
        except UsageError as exc:
            raise UsageError(f"{path} is not a run folder that can be resumed: its run.json "
                             f"is damaged ({exc})",
                             hint="start a new run in a new folder") from None
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
        folder.precision = None if precision is None else float(precision)
        folder.keep_draws = keep_draws
        try:
            folder.parts.mkdir(exist_ok=True)
            folder.chunks.mkdir(exist_ok=True)
        except OSError as exc:
            folder.release()
            raise _path_error(f"cannot resume in {path}", exc) from None
        remove_stray_tmp(folder.path, folder.parts, folder.chunks)
        return (folder, *settings, folder.precision)

    def lock(self) -> None:
        """Hold an exclusive lock on the folder while writing (released when the process
        ends, however it ends), so two processes never write into one run."""
        self._claim = OutputFolder.relock(self.path, "run", "summary.json")

    def release(self) -> None:
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    def _names(self, first_block: int) -> tuple[Path, Path, Path]:
        stem = f"part-{first_block:06d}"
        return (self.parts / f"{stem}.parquet", self.chunks / f"{stem}.stance.npy",
                self.chunks / f"{stem}.json")

    def write_chunk(self, chunk: ChunkResult) -> None:
        """Table, stance sample, then the small record that marks the chunk as done; the
        record carries checksums of its numbers and of the two files."""
        assert chunk.table is not None, "only a newly simulated chunk (with its table)"
        table, stance, record = self._names(chunk.first_block)
        with resumable():
            atomic_write_table(chunk.table, table)
            atomic_write(stance, lambda fh: np.save(fh, chunk.stance, allow_pickle=False))
            try:
                hashes = {"part_sha256": file_sha256(table),
                          "stance_sha256": file_sha256(stance)}
            except OSError as exc:
                raise OutputError(f"cannot read back {table}: {_reason(exc)}") from None
            info = {"first_block": int(chunk.first_block), "rows": int(chunk.table.num_rows),
                    "counts": [int(c) for c in chunk.counts],
                    "noncompliance": int(chunk.noncompliance),
                    "drivers": [[float(x) for x in row] for row in chunk.drivers], **hashes}
            if chunk.draw_counts is not None:  # a posterior's draws: for credible intervals
                info["draw_counts"] = chunk.draw_counts.tolist()
            info["checksum"] = record_checksum(info)
            write_json(record, info)

    def read_chunk(self, first_block: int, sizes: list[int]):
        """A finished chunk from disk, or None if it is missing or fails any check (then it
        is recomputed): the record must be whole, its numbers must match its checksum and
        make sense (this chunk, its rows, counts >= 0 that add up), and its Parquet part
        and stance sample must match theirs (a part copied from another chunk does not)."""
        table, stance, record = self._names(first_block)
        if not os.path.lexists(record):
            return None  # never finished: simply computed
        try:
            info = json.loads(record.read_text())
            problem = _record_problem(info, first_block, sizes)
            if problem is None:
                if file_sha256(table) != info["part_sha256"]:
                    problem = "its Parquet part does not match its checksum"
                elif file_sha256(stance) != info["stance_sha256"]:
                    problem = "its stance sample does not match its checksum"
            if problem is None:
                problem = _part_problem(table, info, first_block)
            if problem is None:
                sample = np.load(stance, allow_pickle=False)
                keep = max(0, min(info["rows"], STANCE_SAMPLE - first_block * BLOCK))
                if (sample.ndim != 2 or sample.shape[1] != keep
                        or not np.isfinite(sample).all()):
                    problem = "its stance sample is misshapen"
        except (OSError, ValueError, KeyError, TypeError, IndexError,
                pa.ArrowException) as exc:
            problem = f"it cannot be read ({type(exc).__name__})"
        if problem is not None:
            print(f"note: chunk {record.stem} of {self.path} is not used: {problem}; "
                  "recomputing it", file=sys.stderr)
            return None
        draws = info.get("draw_counts")
        return ChunkResult(first_block, np.asarray(info["counts"], dtype=np.int64),
                           int(info["noncompliance"]), sample, None,
                           np.asarray(info["drivers"], dtype=float), None,
                           None if draws is None else np.asarray(draws, dtype=np.int64))

    def finish(self, result: RunResult, scenario: Scenario) -> None:
        """Write provenance.json, then summary.json, which marks the run complete (the
        caller has drawn its charts into the folder before)."""
        with resumable():
            result.folder = self.path
            result.provenance = {**scenario_record(scenario), "seed": result.seed,
                                 "runs": result.runs, **environment_record()}
            write_json(self.path / "provenance.json", result.provenance)
            summary = result.summary()
            if self.precision is not None:
                reached = result.half_width
                summary["precision"] = {"target": self.precision,
                                        "met": reached <= self.precision,
                                        "half_width": reached}
            write_json(self.path / "summary.json", summary)  # last: marks the run complete


class resumable:
    """Turn a failed write of a run's files into an error whose hint is --resume."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, OutputError):
            raise OutputError(str(exc), hint=RESUME_HINT) from None
        return False


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a whole number")
    return value


def record_checksum(info: dict) -> str:
    """sha256 of a chunk record's numbers and file hashes, as canonical JSON."""
    body = {k: v for k, v in info.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_RECORD_KEYS = {"first_block", "rows", "counts", "noncompliance", "drivers", "part_sha256",
                "stance_sha256", "checksum"}


def _record_problem(info, first_block: int, sizes: list[int]) -> str | None:
    """What is wrong with a chunk record, or None."""
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if not isinstance(info, dict):
        return "its record is not a chunk record"
    if "checksum" not in info:
        return "its record has no checksum (written by an older version, or edited)"
    if set(info) - {"draw_counts"} != _RECORD_KEYS:
        return "its record has missing or unexpected fields"
    if info["checksum"] != record_checksum(info):
        return "its record does not match its checksum (edited?)"
    rows = sum(sizes)
    if info["first_block"] != first_block or not whole(info["first_block"]):
        return "its record belongs to another chunk"
    if info["rows"] != rows or not whole(info["rows"]):
        return f"its record has {info['rows']!r} rows, not {rows}"
    counts = info["counts"]
    if (not isinstance(counts, list) or len(counts) != len(OUTCOMES)
            or not all(whole(c) and c >= 0 for c in counts)):
        return f"its counts are not {len(OUTCOMES)} whole numbers >= 0"
    if sum(counts) != rows:
        return "its counts do not add up to its rows"
    if not whole(info["noncompliance"]) or not 0 <= info["noncompliance"] <= rows:
        return "its non-compliance count is out of range"
    drivers = info["drivers"]
    if (not isinstance(drivers, list) or len(drivers) != len(sizes)
            or not all(isinstance(row, list) and len(row) == len(DRIVER_KEYS)
                       and all(isinstance(x, int | float) and not isinstance(x, bool)
                               for x in row) for row in drivers)
            or not np.isfinite(np.asarray(drivers, dtype=float)).all()):
        return "its driver sums are misshapen"
    if not all(isinstance(info[k], str) for k in ("part_sha256", "stance_sha256")):
        return "its file checksums are misshapen"
    draws = info.get("draw_counts", [counts])
    if (not isinstance(draws, list) or not draws
            or not all(isinstance(row, list) and len(row) == len(OUTCOMES)
                       and all(whole(c) and c >= 0 for c in row) for row in draws)
            or sum(map(sum, draws)) != rows):
        return "its posterior draw counts are misshapen"
    return None


def _part_problem(table: Path, info: dict, first_block: int) -> str | None:
    """What in a chunk's Parquet part contradicts its record (rows, replication numbers,
    outcome and non-compliance counts), or None."""
    rows = info["rows"]
    part = pq.read_table(table, columns=["replication", "outcome",
                                         "icc_noncompliance_finding"])
    if part.num_rows != rows:
        return f"its Parquet part has {part.num_rows} rows, not {rows}"
    start = first_block * BLOCK
    replication = part.column("replication").to_numpy()
    if not np.array_equal(replication, np.arange(start, start + rows)):
        return "its Parquet part holds other worlds"
    outcome = part.column("outcome").combine_chunks()
    if not pa.types.is_dictionary(outcome.type) or outcome.null_count:
        return "its Parquet part is misshapen"
    lookup = np.array([OUTCOMES.index(name) for name in outcome.dictionary.to_pylist()],
                      dtype=np.int64)
    codes = lookup[outcome.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    if np.bincount(codes, minlength=len(OUTCOMES)).tolist() != info["counts"]:
        return "its counts do not match its Parquet part"
    found = part.column("icc_noncompliance_finding").to_numpy()
    if int(np.count_nonzero(found)) != info["noncompliance"]:
        return "its non-compliance count does not match its Parquet part"
    return None


def atomic_write(path: Path, write, *, exclusive: bool = False, hint: str = WRITE_HINT) -> None:
    """Call ``write(binary file)`` on a temporary file, then rename it to ``path``.

    With ``exclusive``, ``path`` must not exist: of two processes writing it, one succeeds
    and the other gets a UsageError; nothing is ever written over an existing file.

    Raises
    ------
    OutputError
        When the file cannot be written (disk full, folder gone, no permission).
    """
    try:
        if exclusive:
            _atomic_write(path, write, exclusive=True)
        else:
            _atomic_write(path, write)
    except FileExistsError:
        raise UsageError(f"{path} already exists (written meanwhile by another command)",
                         hint="give a new file name, or add --replace to overwrite it") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}", hint=hint) from None


def _atomic_write(path: Path, write, exclusive: bool = False) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if exclusive:
            _publish_new(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _publish_new(tmp: str, path: Path) -> None:
    """Give the finished temporary file its name, only if nothing has that name."""
    try:
        os.link(tmp, path)  # atomic, and fails if the name exists
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))  # no hard links
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file atomically."""
    atomic_write(path, lambda fh: pq.write_table(table, fh, compression="zstd"))
