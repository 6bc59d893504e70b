"""The forecast ledger's SQLite file: schema, append-only rules, reading and writing.

One file (stdlib :mod:`sqlite3`, rollback journal) holds three tables:

``forecasts``
    one row per forecast: the question, the scenario (file, its sha256 and that of every
    file it inherits from, id, forecast date, resolved content hash), the weights file and
    its sha256, runs and seed, command line, git commit, creation time, and the entry it
    supersedes (if any);
``forecast_outcomes``
    the four outcomes of each forecast: Monte Carlo count and probability, 95% interval,
    and the epistemic ``credible80`` / ``credible95`` intervals when the run gave them;
``resolutions``
    at most one per forecast: the outcome, the date it happened, its source.

The ledger is append-only, and the file itself enforces it: triggers abort any UPDATE or
DELETE of the three tables, a second resolution, a resolution of a superseded entry or of
an entry without its four outcomes, and an outcome added to a resolved entry; an entry can
be superseded once (``supersedes`` is UNIQUE).  A wrong entry is corrected by a new
forecast that supersedes it.

Every write is one ``BEGIN IMMEDIATE`` transaction, and connections wait up to
:data:`BUSY_TIMEOUT` seconds for another writer, so concurrent commands queue instead of
failing or mixing their rows.  The file is marked by ``PRAGMA application_id``
(:data:`APPLICATION_ID`) and its schema version is ``PRAGMA user_version``
(:data:`SCHEMA_VERSION`).  A file that is not SQLite, is damaged, or belongs to another
application is refused with one line naming it (:class:`LedgerError`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UsageError
from ..outcomes import OUTCOMES
from .entries import Entry, NewForecast, OutcomeForecast, Resolution, ScenarioFile

#: ``PRAGMA application_id`` of a forecast ledger ("SIML" in ASCII).
APPLICATION_ID = 0x53494D4C
#: ``PRAGMA user_version``: the schema version this code reads and writes.
SCHEMA_VERSION = 1
#: Seconds a command waits for another one writing to the ledger before giving up.
BUSY_TIMEOUT = 30.0
#: The default ledger: ``forecasts.db`` in the current folder (the project folder).
DEFAULT_LEDGER = Path("forecasts.db")
#: Longest question, source or command line kept, in characters.
MAX_TEXT = 10_000

_TABLES = ("forecasts", "forecast_outcomes", "resolutions")
_APPEND_ONLY = ("forecast ledger entries are append-only: a recorded forecast or resolution "
                "cannot be changed or removed; record a new forecast with --supersedes ID")
_OUTCOME_CHECK = "outcome IN (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")"

SCHEMA = f"""
CREATE TABLE forecasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_utc TEXT NOT NULL,
    question TEXT NOT NULL CHECK (length(trim(question)) > 0),
    scenario_id TEXT NOT NULL,
    scenario_file TEXT NOT NULL,
    scenario_sha256 TEXT NOT NULL,
    scenario_files TEXT NOT NULL,
    scenario_content_sha256 TEXT NOT NULL,
    forecast_date TEXT NOT NULL,
    weights_file TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    runs INTEGER NOT NULL CHECK (runs >= 1),
    seed TEXT NOT NULL,
    command_line TEXT NOT NULL,
    git_commit TEXT NOT NULL,
    supersedes INTEGER UNIQUE REFERENCES forecasts (id)
);
CREATE TABLE forecast_outcomes (
    forecast_id INTEGER NOT NULL REFERENCES forecasts (id),
    outcome TEXT NOT NULL CHECK ({_OUTCOME_CHECK}),
    count INTEGER NOT NULL CHECK (count >= 0),
    probability REAL NOT NULL CHECK (probability BETWEEN 0 AND 1),
    ci95_low REAL NOT NULL,
    ci95_high REAL NOT NULL,
    credible80_low REAL,
    credible80_high REAL,
    credible95_low REAL,
    credible95_high REAL,
    PRIMARY KEY (forecast_id, outcome)
);
CREATE TABLE resolutions (
    forecast_id INTEGER PRIMARY KEY REFERENCES forecasts (id),
    outcome TEXT NOT NULL CHECK ({_OUTCOME_CHECK}),
    resolved_on TEXT NOT NULL,
    source TEXT NOT NULL CHECK (length(trim(source)) > 0),
    recorded_utc TEXT NOT NULL
);
""" + "".join(f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END;
""" for table in _TABLES) + """
CREATE TRIGGER resolutions_once BEFORE INSERT ON resolutions
WHEN EXISTS (SELECT 1 FROM resolutions WHERE forecast_id = NEW.forecast_id)
BEGIN SELECT RAISE(ABORT, 'this forecast is already resolved; a resolution cannot be changed'); END;
CREATE TRIGGER resolutions_not_superseded BEFORE INSERT ON resolutions
WHEN EXISTS (SELECT 1 FROM forecasts WHERE supersedes = NEW.forecast_id)
BEGIN SELECT RAISE(ABORT,
    'a superseded forecast cannot be resolved; resolve the entry that supersedes it'); END;
CREATE TRIGGER resolutions_complete BEFORE INSERT ON resolutions
WHEN (SELECT count(*) FROM forecast_outcomes WHERE forecast_id = NEW.forecast_id) != 4
BEGIN SELECT RAISE(ABORT, 'a forecast without its four outcomes cannot be resolved'); END;
CREATE TRIGGER outcomes_before_resolution BEFORE INSERT ON forecast_outcomes
WHEN EXISTS (SELECT 1 FROM resolutions WHERE forecast_id = NEW.forecast_id)
BEGIN SELECT RAISE(ABORT, 'a resolved forecast cannot be changed'); END;
"""


#: The triggers that keep the ledger append-only; a ledger without them is refused.
_TRIGGERS = {line.split()[2] for line in SCHEMA.splitlines()
             if line.startswith("CREATE TRIGGER")}


class LedgerError(UsageError):
    """The ledger file cannot be used (missing, damaged, foreign, busy) or an entry
    cannot be written as asked (unknown id, already resolved, superseded)."""


# --------------------------------------------------------------------------- the file

class Ledger:
    """An open forecast ledger file.

    Use :meth:`open`; as a context manager it closes the connection on exit.

    Parameters
    ----------
    path : path
        The SQLite file.
    write : bool
        Open for writing (the file must exist); without it, read-only.
    create : bool
        Open for writing, creating the ledger if the file does not exist (its folder
        must) or is an empty database.  Without it a file that does not exist is refused,
        and an empty database reads as a ledger without entries.
    """

    def __init__(self, path: str | Path, write: bool = False, create: bool = False):
        self.path = Path(path)
        write = write or create
        _check_path(self.path, create)
        mode = "rwc" if create else "rw" if write else "ro"
        uri = self.path.resolve().as_uri() + f"?mode={mode}"
        with self._guard():
            self._db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT,
                                       isolation_level=None)
        try:
            with self._guard():
                self._db.execute("PRAGMA foreign_keys = ON")
                self._check_integrity()
                if create:
                    with self._transaction():  # two first writers: one creates the tables
                        if self._identify() == "empty":
                            self._initialise()
                    self.initialised = True
                else:
                    self.initialised = self._identify() == "ledger"
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, path: str | Path = DEFAULT_LEDGER, write: bool = False,
             create: bool = False) -> Ledger:
        return cls(path, write=write, create=create)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing

    def add_forecast(self, forecast: NewForecast) -> int:
        """Append a forecast (its four outcomes with it, in one transaction); its id."""
        _check_new_forecast(forecast)
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        files = json.dumps([{"file": f.file, "sha256": f.sha256}
                            for f in forecast.scenario_files])
        with self._guard(), self._transaction():
            if self._identify() == "empty":  # opened with write=True on an empty database
                self._initialise()
                self.initialised = True
            if forecast.supersedes is not None:
                self._check_supersedable(forecast.supersedes)
            cursor = self._db.execute(
                "INSERT INTO forecasts (created_utc, question, scenario_id, scenario_file, "
                "scenario_sha256, scenario_files, scenario_content_sha256, forecast_date, "
                "weights_file, weights_sha256, runs, seed, command_line, git_commit, "
                "supersedes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (created, forecast.question.strip(), forecast.scenario_id,
                 forecast.scenario_file, forecast.scenario_sha256, files,
                 forecast.scenario_content_sha256, forecast.forecast_date.isoformat(),
                 forecast.weights_file, forecast.weights_sha256, forecast.runs,
                 str(forecast.seed), forecast.command_line[:MAX_TEXT], forecast.git_commit,
                 forecast.supersedes))
            entry_id = cursor.lastrowid
            assert entry_id is not None
            for o in OUTCOMES:
                f = forecast.outcomes[o]
                self._db.execute(
                    "INSERT INTO forecast_outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (entry_id, o, f.count, f.probability, *f.ci95,
                     *(f.credible80 or (None, None)), *(f.credible95 or (None, None))))
        return entry_id

    def resolve(self, entry_id: int, outcome: str, resolved_on: dt.date, source: str) -> Entry:
        """Record what happened to entry ``entry_id``; the entry, resolved.

        Refused (:class:`LedgerError`) for an unknown id, an entry already resolved or
        superseded, an outcome that is not one of the four, an empty source, or a date
        before the forecast date or after today.
        """
        if outcome not in OUTCOMES:
            raise LedgerError(f"unknown outcome {outcome!r}",
                              hint="one of " + ", ".join(OUTCOMES))
        source = source.strip()
        address = urlsplit(source)
        if address.scheme not in ("http", "https") or not address.netloc or \
                len(source) > MAX_TEXT or any(c.isspace() for c in source):
            raise LedgerError(f"a resolution needs its source as a web address, got "
                              f"{source[:80]!r}",
                              hint="give the http:// or https:// address of the report that "
                                   "settles the outcome")
        recorded = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._guard(), self._transaction():
            entry = self.entry(entry_id)
            if entry.resolution is not None:
                r = entry.resolution
                raise LedgerError(
                    f"entry {entry_id} is already resolved ({r.outcome} on "
                    f"{r.resolved_on.isoformat()}, source {r.source}); a resolution cannot be "
                    "changed",
                    hint=f"if it is wrong, record a new forecast with --supersedes "
                         f"{entry_id} and resolve that one")
            if entry.superseded_by is not None:
                raise LedgerError(f"entry {entry_id} is superseded by entry "
                                  f"{entry.superseded_by}",
                                  hint=f"resolve the entry that supersedes it: "
                                       f"{entry.superseded_by}")
            if resolved_on < entry.forecast_date:
                raise LedgerError(f"resolution date {resolved_on.isoformat()} is before entry "
                                  f"{entry_id}'s forecast date "
                                  f"{entry.forecast_date.isoformat()}",
                                  hint="a forecast resolves on or after its forecast date")
            if resolved_on > dt.date.today():
                raise LedgerError(f"resolution date {resolved_on.isoformat()} is in the future",
                                  hint="resolve an entry once its outcome has happened")
            self._db.execute("INSERT INTO resolutions VALUES (?, ?, ?, ?, ?)",
                             (entry_id, outcome, resolved_on.isoformat(), source, recorded))
        return self.entry(entry_id)

    # -- reading

    def entry(self, entry_id: int) -> Entry:
        """The entry with id ``entry_id`` (:class:`LedgerError` if there is none)."""
        found = self._entries("WHERE f.id = ?", (entry_id,))
        if not found:
            raise LedgerError(f"{self.path} has no entry {entry_id}",
                              hint="list the entries with 'python -m sim ledger'")
        return found[0]

    def entries(self) -> list[Entry]:
        """Every entry, by id."""
        return self._entries("", ())

    def _entries(self, where: str, params: tuple) -> list[Entry]:
        if not self.initialised:  # an empty database opened read-only
            return []
        with self._guard():
            rows = self._db.execute(
                "SELECT f.id, f.created_utc, f.question, f.scenario_id, f.scenario_files, "
                "f.scenario_content_sha256, f.forecast_date, f.weights_file, f.weights_sha256, "
                "f.runs, f.seed, f.command_line, f.git_commit, f.supersedes, "
                "(SELECT s.id FROM forecasts s WHERE s.supersedes = f.id), "
                "r.outcome, r.resolved_on, r.source, r.recorded_utc "
                "FROM forecasts f LEFT JOIN resolutions r ON r.forecast_id = f.id "
                f"{where} ORDER BY f.id", params).fetchall()
            outcomes: dict[int, dict[str, OutcomeForecast]] = {}
            for row in self._db.execute(
                    "SELECT forecast_id, outcome, count, probability, ci95_low, ci95_high, "
                    "credible80_low, credible80_high, credible95_low, credible95_high "
                    "FROM forecast_outcomes" + (" WHERE forecast_id = ?" if params else ""),
                    params):
                outcomes.setdefault(row[0], {})[row[1]] = OutcomeForecast(
                    row[1], row[2], row[3], (row[4], row[5]), _pair(row[6], row[7]),
                    _pair(row[8], row[9]))
        return [self._entry(row, outcomes.get(row[0], {})) for row in rows]

    def _entry(self, row: tuple, outcomes: dict[str, OutcomeForecast]) -> Entry:
        (entry_id, created, question, scenario_id, files, content, date, weights_file,
         weights_sha, runs, seed, command, commit, supersedes, superseded_by,
         outcome, resolved_on, source, recorded) = row
        try:
            scenario_files = tuple(ScenarioFile(f["file"], f["sha256"])
                                   for f in json.loads(files))
            forecast_date = dt.date.fromisoformat(date)
            resolution = None if outcome is None else Resolution(
                outcome, dt.date.fromisoformat(resolved_on), source, recorded)
        except (ValueError, TypeError, KeyError) as exc:
            raise self._damaged(f"entry {entry_id} cannot be read ({exc})") from None
        if set(outcomes) != set(OUTCOMES):
            raise self._damaged(f"entry {entry_id} lacks some of its four outcomes")
        return Entry(question=question, scenario_id=scenario_id, scenario_files=scenario_files,
                     scenario_content_sha256=content, forecast_date=forecast_date,
                     weights_file=weights_file, weights_sha256=weights_sha, runs=runs,
                     seed=int(seed), outcomes={o: outcomes[o] for o in OUTCOMES},
                     command_line=command, git_commit=commit, supersedes=supersedes,
                     id=entry_id, created_utc=created, resolution=resolution,
                     superseded_by=superseded_by)

    # -- checks

    def _check_supersedable(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry.superseded_by is not None:
            raise LedgerError(f"entry {entry_id} is already superseded by entry "
                              f"{entry.superseded_by}",
                              hint=f"supersede the newest entry instead: "
                                   f"--supersedes {self._newest(entry_id)}")

    def check_supersedable(self, entry_id: int) -> None:
        """Refuse (:class:`LedgerError`) to supersede an unknown or superseded entry."""
        with self._guard():
            self._check_supersedable(entry_id)

    def _newest(self, entry_id: int) -> int:
        while True:
            row = self._db.execute("SELECT id FROM forecasts WHERE supersedes = ?",
                                   (entry_id,)).fetchone()
            if row is None:
                return entry_id
            entry_id = row[0]

    def _check_integrity(self) -> None:
        rows = self._db.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            raise self._damaged(f"SQLite's integrity check reports: {rows[0][0]}")

    def _identify(self) -> str:
        """``ledger`` (ours, this schema) or ``empty`` (no tables yet); else refuse."""
        app = self._db.execute("PRAGMA application_id").fetchone()[0]
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = sorted(r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'"))
        if app != APPLICATION_ID:
            if not tables and version == 0 and app == 0:
                return "empty"
            shown = ", ".join(tables[:5]) + (" ..." if len(tables) > 5 else "")
            raise LedgerError(
                f"{self.path} is an SQLite database of another application, not a forecast "
                f"ledger (application id {app}, tables: {shown or 'none'})",
                hint="give a ledger file with --ledger PATH, or a new file name to start one")
        if version > SCHEMA_VERSION:
            raise LedgerError(f"{self.path} is a forecast ledger of a newer version (schema "
                              f"{version}; this code reads schema {SCHEMA_VERSION})",
                              hint="update the code (git pull) to use this ledger")
        if version != SCHEMA_VERSION or not set(_TABLES) <= set(tables):
            raise self._damaged(f"schema version {version}, tables: {', '.join(tables)}")
        triggers = {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        missing = sorted(_TRIGGERS - triggers)
        if missing:  # without them nothing keeps the entries append-only
            raise self._damaged(f"its append-only triggers are missing ({', '.join(missing)})")
        return "ledger"

    def _initialise(self) -> None:
        for statement in _statements(SCHEMA):
            self._db.execute(statement)
        self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _damaged(self, detail: str) -> LedgerError:
        return LedgerError(f"{self.path} is a damaged forecast ledger: {detail}",
                           hint=_DAMAGED_HINT)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction; ``BEGIN IMMEDIATE`` takes the write lock at once, so a
        second writer waits (up to :data:`BUSY_TIMEOUT`) rather than failing later."""
        if self._db.in_transaction:  # nested: part of the enclosing one
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's errors into one-line :class:`LedgerError` naming the file."""
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise LedgerError(f"{self.path}: refused: {exc}",
                              hint="the ledger is append-only; see 'python -m sim ledger'"
                              ) from None
        except sqlite3.DatabaseError as exc:
            raise _sqlite_error(self.path, exc) from None


def _pair(low: float | None, high: float | None) -> tuple[float, float] | None:
    return None if low is None or high is None else (low, high)


def _statements(script: str) -> list[str]:
    """Split the schema into statements (a trigger's body holds semicolons)."""
    out: list[str] = []
    current = ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return out


_DAMAGED_HINT = ("restore the ledger from a backup or version control, or give another file "
                 "with --ledger PATH")
_FIRST_FORECAST_HINT = ("record a first forecast with 'python -m sim forecast SCENARIO "
                        "--question ...', or give the ledger's file with --ledger PATH")


def _sqlite_error(path: Path, exc: sqlite3.DatabaseError) -> LedgerError:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return LedgerError(f"{path} is not a forecast ledger: not an SQLite database "
                           "(damaged, or another kind of file)", hint=_DAMAGED_HINT)
    if name.startswith("SQLITE_CORRUPT"):
        return LedgerError(f"{path} is a damaged forecast ledger: {exc}", hint=_DAMAGED_HINT)
    if name.startswith("SQLITE_BUSY") or "locked" in str(exc):
        return LedgerError(f"{path} is busy: another command held it for more than "
                           f"{BUSY_TIMEOUT:g} s", hint="try again when it has finished")
    if name.startswith("SQLITE_READONLY"):
        return LedgerError(f"cannot write the ledger {path}: {exc}",
                           hint="check the permissions of the file and its folder")
    return LedgerError(f"cannot use the ledger {path}: {exc}",
                       hint="check the file, its folder and their permissions")


def _check_path(path: Path, create: bool) -> None:
    """A clear error for a ledger path that cannot be used, before SQLite opens it."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise LedgerError(f"no forecast ledger at {path}", hint=_FIRST_FORECAST_HINT
                              ) from None
        folder = path.parent
        if not folder.is_dir():
            raise LedgerError(f"cannot create the ledger {path}: its folder {folder} does not "
                              "exist", hint="create the folder first, or give another "
                                            "--ledger PATH") from None
        return
    except OSError as exc:
        raise LedgerError(f"cannot use the ledger {path}: {exc.strerror or exc}",
                          hint="check the path and its permissions") from None
    if stat.S_ISDIR(status.st_mode):
        raise LedgerError(f"the ledger {path} is a folder",
                          hint="give a file name, e.g. --ledger forecasts.db")
    if not stat.S_ISREG(status.st_mode):
        raise LedgerError(f"the ledger {path} is not a regular file (a device, pipe or socket)",
                          hint="give a file name, e.g. --ledger forecasts.db")


def _check_new_forecast(forecast: NewForecast) -> None:
    question = forecast.question.strip()
    if not question or len(question) > MAX_TEXT:
        raise LedgerError(f"a forecast needs a question of 1 to {MAX_TEXT:,} characters",
                          hint='e.g. --question "Will Mongolia arrest Putin during his visit?"')
    if not forecast.scenario_files:
        raise LedgerError("a forecast needs its scenario file")
    if set(forecast.outcomes) != set(OUTCOMES):
        raise LedgerError("a forecast needs a probability for each of the four outcomes, "
                          f"got {sorted(forecast.outcomes)}")


def check_writable(path: str | Path, supersedes: int | None = None) -> None:
    """Refuse, before a forecast is computed, a ledger it could not be recorded in.

    A file that exists must be a ledger (or an empty database) this code can read, and
    it and its folder writable (SQLite writes its journal next to the file); a new file's
    folder must exist and be writable.  ``supersedes`` must name an entry not yet
    superseded.  Creates nothing.
    """
    path = Path(path)
    _check_path(path, create=True)
    exists = path.exists()
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LedgerError(f"cannot write the ledger {path}: its folder {folder} is not "
                          "writable", hint="check the folder's permissions, or give another "
                                           "--ledger PATH")
    if exists and not os.access(path, os.W_OK):
        raise LedgerError(f"cannot write the ledger {path}: the file is read-only",
                          hint="check the file's permissions, or give another --ledger PATH")
    if exists:
        with Ledger(path) as ledger:
            if supersedes is not None:
                ledger.check_supersedable(supersedes)
    elif supersedes is not None:
        raise LedgerError(f"no forecast ledger at {path}, so no entry {supersedes} to "
                          "supersede", hint="give the ledger's file with --ledger PATH")
