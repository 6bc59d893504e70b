"""The forecast ledger: forecast, resolve and score from the command line; append-only in
the file itself; concurrent writers; damaged and foreign files; scores by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT

from sim.cli import main
from sim.ledger import Ledger, LedgerError, NewForecast, OutcomeForecast, ScenarioFile, score
from sim.ledger.forecast import outcome_forecasts
from sim.outcomes import OUTCOMES

COUNTERFACTUAL = ROOT / "scenarios" / "counterfactuals" / "mongolia_2024_fuel_threat.yaml"
SOURCE = "https://example.org/report"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def forecast(counts, *, date=dt.date(2024, 1, 1), supersedes=None, question="q?"):
    """A forecast with the given outcome counts, recorded without running the model."""
    runs = sum(counts)
    outcomes = {o: OutcomeForecast(o, c, c / runs, (0.0, 1.0))
                for o, c in zip(OUTCOMES, counts, strict=True)}
    return NewForecast(question=question, scenario_id="s",
                       scenario_files=(ScenarioFile("s.yaml", "0" * 64),),
                       scenario_content_sha256="0" * 64, forecast_date=date,
                       weights_file="w.yaml", weights_sha256="1" * 64, runs=runs, seed=1,
                       outcomes=outcomes, command_line="test", git_commit="unknown",
                       supersedes=supersedes)


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse refusing an argument
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "forecasts.db"


# --------------------------------------------------------------------------- the workflow

def test_forecast_resolve_and_score_from_the_command_line(db, tmp_path, capsys):
    import sim

    code, out, _ = cli(capsys, "forecast", BASELINE, "--question", "Will Mongolia arrest Putin?",
                       "--runs", 10_000, "--seed", 5, "--ledger", db, "--quiet")
    assert code == 0
    assert out.strip().splitlines()[-1] == "id: 1"
    code, out, _ = cli(capsys, "forecast", COUNTERFACTUAL, "--question", "And with a fuel threat?",
                       "--runs", 10_000, "--seed", 5, "--ledger", db, "--quiet")
    assert code == 0 and out.strip().endswith("id: 2")

    with Ledger.open(db) as ledger:
        first, second = ledger.entries()
    expected = sim.run(sim.load_scenario(BASELINE), runs=10_000, seed=5, progress=False)
    assert first.question == "Will Mongolia arrest Putin?"
    assert first.scenario_id == "mongolia_2024" and first.forecast_date == dt.date(2024, 9, 2)
    assert first.scenario_sha256 == sha256(BASELINE)
    assert first.weights_sha256 == sha256(ROOT / "sim" / "data" / "weights.yaml")
    assert (first.runs, first.seed) == (10_000, 5)
    assert first.git_commit and first.command_line and first.created_utc
    for o in OUTCOMES:
        assert first.outcomes[o].probability == expected.probabilities[o]
        assert first.outcomes[o].ci95 == pytest.approx(expected.intervals[o])
        assert first.outcomes[o].credible80 is None or len(first.outcomes[o].credible80) == 2
    # a counterfactual records its own file and the base it inherits from
    assert [f.sha256 for f in second.scenario_files] == [sha256(COUNTERFACTUAL),
                                                         sha256(BASELINE)]

    code, out, _ = cli(capsys, "resolve", 1, "hosted_no_arrest", "--date", "2024-09-03",
                       "--source", SOURCE, "--ledger", db)
    assert code == 0 and "resolved entry 1" in out

    chart = tmp_path / "scores.png"
    code, out, _ = cli(capsys, "ledger", "--ledger", db, "--plot", chart)
    assert code == 0
    assert "2 entries, 1 resolved" in out and "open" in out
    counts = [first.outcomes[o].count for o in OUTCOMES]
    p = [(c + 0.5) / (10_000 + 2) for c in counts]
    brier = sum((pk - (k == 1)) ** 2 for k, pk in enumerate(p))
    assert (f"mean over 1: Brier {brier:.3f} (base rate 0.750, skill {1 - brier / 0.75:.3f}); "
            f"log {-math.log(p[1]):.3f} (base rate {math.log(4):.3f}") in out
    assert chart.stat().st_size > 0


def test_credible_intervals_are_stored_when_the_run_reports_them(db):
    summary = {"outcomes": {o: {"probability": 0.25, "count": 5, "ci95": [0.2, 0.3]}
                            for o in OUTCOMES}}
    summary["outcomes"]["hosted_no_arrest"] |= {"credible80": [0.1, 0.4],
                                                "credible95": [0.05, 0.5]}
    outcomes = outcome_forecasts(summary)
    new = forecast([5, 5, 5, 5])
    with Ledger.open(db, create=True) as ledger:
        entry = ledger.entry(ledger.add_forecast(
            NewForecast(**{**vars(new), "outcomes": outcomes})))
    assert entry.outcomes["hosted_no_arrest"].credible80 == (0.1, 0.4)
    assert entry.outcomes["hosted_no_arrest"].credible95 == (0.05, 0.5)
    assert entry.outcomes["left_early"].credible80 is None
    assert entry.outcomes["left_early"].credible95 is None


# --------------------------------------------------------------------------- append-only

def test_a_resolved_forecast_cannot_be_resolved_again(db, capsys):
    with Ledger.open(db, create=True) as ledger:
        ledger.add_forecast(forecast([1, 2, 3, 4]))
    resolve = ("resolve", 1, "left_early", "--date", "2024-02-01", "--source", SOURCE,
               "--ledger", db)
    assert cli(capsys, *resolve)[0] == 0
    code, _, err = cli(capsys, *resolve[:2], "visit_cancelled", *resolve[3:])
    assert code == 2
    assert "entry 1 is already resolved (left_early on 2024-02-01" in err
    assert "Traceback" not in err
    with Ledger.open(db) as ledger:
        assert ledger.entry(1).resolution.outcome == "left_early"


def test_the_file_itself_refuses_edits_and_deletions(db):
    with Ledger.open(db, create=True) as ledger:
        ledger.add_forecast(forecast([1, 2, 3, 4]))
        ledger.add_forecast(forecast([1, 2, 3, 4]))
        ledger.resolve(1, "left_early", dt.date(2024, 2, 1), SOURCE)
    raw = sqlite3.connect(db, isolation_level=None)
    for statement in ("UPDATE resolutions SET outcome = 'visit_cancelled'",
                      "DELETE FROM resolutions",
                      "UPDATE forecasts SET question = 'other'",
                      "DELETE FROM forecasts WHERE id = 1",
                      "UPDATE forecast_outcomes SET probability = 0.9",
                      "DELETE FROM forecast_outcomes WHERE forecast_id = 2",
                      "INSERT INTO resolutions VALUES (1, 'arrest_surrender', '2024-02-02', "
                      "'x', 't')",
                      "INSERT INTO forecast_outcomes VALUES (1, 'left_early', 1, 0.1, 0, 1, "
                      "NULL, NULL, NULL, NULL)"):
        with pytest.raises(sqlite3.DatabaseError):
            raw.execute(statement)
    raw.close()
    with Ledger.open(db) as ledger:
        first, second = ledger.entries()
    assert first.resolution.outcome == "left_early" and first.question == "q?"
    assert second.resolution is None


def test_an_entry_is_superseded_once_and_only_its_successor_can_be_resolved(db, capsys):
    with Ledger.open(db, create=True) as ledger:
        ledger.add_forecast(forecast([1, 2, 3, 4]))
        ledger.resolve(1, "left_early", dt.date(2024, 2, 1), SOURCE)
        assert ledger.add_forecast(forecast([4, 3, 2, 1], supersedes=1)) == 2
        with pytest.raises(LedgerError, match="already superseded by entry 2"):
            ledger.add_forecast(forecast([4, 3, 2, 1], supersedes=1))
        assert ledger.entry(1).superseded_by == 2 and ledger.entry(2).supersedes == 1
        # until its successor is resolved, the superseded entry keeps its score
        assert [r.entry_id for r in score(ledger.entries()).rows] == [1]
        ledger.add_forecast(forecast([1, 1, 1, 1]))
        ledger.add_forecast(forecast([1, 1, 1, 1], supersedes=3))
        with pytest.raises(LedgerError, match="entry 3 is superseded by entry 4"):
            ledger.resolve(3, "left_early", dt.date(2024, 2, 1), SOURCE)
        ledger.resolve(2, "left_early", dt.date(2024, 2, 2), SOURCE)
        assert [r.entry_id for r in score(ledger.entries()).rows] == [2]
    code, _, err = cli(capsys, "forecast", BASELINE, "--question", "q", "--supersedes", 9,
                       "--ledger", db)
    assert code == 2 and "has no entry 9" in err  # refused before running the model


@pytest.mark.parametrize("date, source, message", [
    ("2023-12-31", SOURCE, "before entry 1's forecast date 2024-01-01"),
    ((dt.date.today() + dt.timedelta(days=2)).isoformat(), SOURCE, "is in the future"),
    ("2024-02-01", "a newspaper", "as a web address"),
    ("2024-2-1", SOURCE, "expected a date YYYY-MM-DD"),
])
def test_a_resolution_needs_a_possible_date_and_a_source(db, capsys, date, source, message):
    with Ledger.open(db, create=True) as ledger:
        ledger.add_forecast(forecast([1, 2, 3, 4]))
    code, _, err = cli(capsys, "resolve", 1, "left_early", "--date", date, "--source", source,
                       "--ledger", db)
    assert code == 2 and message in err
    with Ledger.open(db) as ledger:
        assert ledger.entry(1).resolution is None


# --------------------------------------------------------------------------- concurrency

WRITER = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from sim.ledger import Ledger, NewForecast, OutcomeForecast, ScenarioFile
    from sim.outcomes import OUTCOMES

    path, name, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    go = path.with_name("go")
    while not go.exists():
        time.sleep(0.005)
    for i in range(n):
        outcomes = {o: OutcomeForecast(o, k + i, (k + i) / (6 + 4 * i), (0.0, 1.0))
                    for k, o in enumerate(OUTCOMES)}
        new = NewForecast(question=f"{name} {i}", scenario_id=name,
                          scenario_files=(ScenarioFile("s.yaml", "0" * 64),),
                          scenario_content_sha256="0" * 64, forecast_date=dt.date(2024, 1, 1),
                          weights_file="w.yaml", weights_sha256="1" * 64, runs=6 + 4 * i,
                          seed=i, outcomes=outcomes, command_line="test",
                          git_commit="unknown")
        with Ledger.open(path, create=True) as ledger:  # a new command each time
            entry = ledger.add_forecast(new)
            if i % 2:
                ledger.resolve(entry, OUTCOMES[i % 4], dt.date(2024, 2, 1),
                               "https://example.org")
""")


def test_two_concurrent_writers_leave_every_entry_in_a_consistent_file(db):
    n = 40
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, str(n)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("alpha", "beta")]
    (db.parent / "go").touch()  # both start together, on a file neither has created yet
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()
    with Ledger.open(db) as ledger:
        entries = ledger.entries()
    assert [e.id for e in entries] == list(range(1, 2 * n + 1))
    for name in ("alpha", "beta"):
        mine = [e for e in entries if e.scenario_id == name]
        assert [e.question for e in mine] == [f"{name} {i}" for i in range(n)]
        assert all(e.runs == sum(f.count for f in e.outcomes.values()) for e in mine)
        assert [e.resolution is not None for e in mine] == [bool(i % 2) for i in range(n)]


# --------------------------------------------------------------------------- bad files

def _truncated(path: Path) -> None:
    with Ledger.open(path, create=True) as ledger:
        for _ in range(60):
            ledger.add_forecast(forecast([1, 2, 3, 4], question="x" * 500))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _foreign(path: Path) -> None:
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (number INTEGER, amount REAL)")
    other.commit()
    other.close()


@pytest.mark.parametrize("spoil, message", [
    (lambda p: p.write_bytes(bytes(range(256)) * 16), "is not a forecast ledger: not an SQLite"),
    (lambda p: p.write_text("id,question\n1,arrest?\n"), "is not a forecast ledger: not an SQLite"),
    (_truncated, "is a damaged forecast ledger"),
    (_foreign, "is an SQLite database of another application, not a forecast ledger"),
])
def test_a_damaged_or_foreign_file_is_refused_in_one_line(db, capsys, spoil, message):
    spoil(db)
    before = db.read_bytes()
    for argv in (("ledger",), ("resolve", 1, "left_early", "--date", "2024-09-03",
                               "--source", SOURCE),
                 ("forecast", BASELINE, "--question", "q", "--runs", 10_000)):
        code, out, err = cli(capsys, *argv, "--ledger", db)
        assert code == 2, argv
        first = err.splitlines()[0]
        assert first.startswith(f"error: {db} ") and message in first, err
        assert "Traceback" not in err and out == ""  # the forecast was refused before its run
    assert db.read_bytes() == before


@pytest.mark.parametrize("tampering, message", [
    ("PRAGMA user_version = 2", "newer version"),  # a ledger of a newer schema
    ("DROP TRIGGER resolutions_no_update", "damaged.*triggers are missing"),  # not append-only
])
def test_a_newer_or_tampered_ledger_is_refused(db, tampering, message):
    with Ledger.open(db, create=True):
        pass
    raw = sqlite3.connect(db)
    raw.execute(tampering)
    raw.close()
    with pytest.raises(LedgerError, match=message):
        Ledger.open(db)


def test_a_missing_folder_or_ledger_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "forecasts.db"
    code, _, err = cli(capsys, "forecast", BASELINE, "--question", "q", "--ledger", missing)
    assert code == 2 and f"its folder {missing.parent} does not exist" in err
    code, _, err = cli(capsys, "ledger", "--ledger", tmp_path / "none.db")
    assert code == 2 and "no forecast ledger at" in err
    assert not (tmp_path / "none.db").exists()
    code, _, err = cli(capsys, "ledger", "--ledger", tmp_path)
    assert code == 2 and "is a folder" in err


# --------------------------------------------------------------------------- scores

def test_scores_match_hand_computed_values(db):
    """Three resolved entries of 8 runs each (smoothed p = (count + 1/2) / 10):

    1. p = (.45, .25, .15, .15), hosted on 10 Jan: Brier .2025 + .5625 + .0225 + .0225 = .81,
       log -ln .25; base rate uniform: Brier .75, log ln 4.
    2. p = (.05, .65, .05, .25), hosted on 1 Feb: Brier .0025 + .1225 + .0025 + .0625 = .19,
       log -ln .65; base rate (1, 2, 1, 1) / 5: Brier .04 + .36 + .04 + .04 = .48, log -ln .4.
    3. p = .25 each, cancelled on 1 Feb (the same day: entry 2 is not in its base rate):
       Brier .75, log ln 4; base rate (1, 2, 1, 1) / 5: Brier .04 + .16 + .04 + .64 = .88,
       log -ln .2.
    An open entry is not scored.
    """
    with Ledger.open(db, create=True) as ledger:
        for counts in ([4, 2, 1, 1], [0, 6, 0, 2], [2, 2, 2, 2], [8, 0, 0, 0]):
            ledger.add_forecast(forecast(counts))
        ledger.resolve(3, "visit_cancelled", dt.date(2024, 2, 1), SOURCE)
        ledger.resolve(2, "hosted_no_arrest", dt.date(2024, 2, 1), SOURCE)
        ledger.resolve(1, "hosted_no_arrest", dt.date(2024, 1, 10), SOURCE)
        scores = score(ledger.entries())
    rows = scores.rows
    assert [r.entry_id for r in rows] == [1, 2, 3]
    assert list(scores.frame().entry_id) == [1, 2, 3]
    assert len(scores.plot(score="log").lines) == 2  # the model and the base rate
    # recorded today, resolved in 2024: scored, and marked as not made in advance
    assert all(r.late for r in rows) and "* 3 of them recorded after" in scores.table()
    assert [r.brier for r in rows] == pytest.approx([0.81, 0.19, 0.75])
    assert [r.log for r in rows] == pytest.approx([-math.log(.25), -math.log(.65), math.log(4)])
    assert [r.base_brier for r in rows] == pytest.approx([0.75, 0.48, 0.88])
    assert [r.base_log for r in rows] == pytest.approx([math.log(4), -math.log(.4),
                                                        -math.log(.2)])
    assert [r.mean_brier for r in rows] == pytest.approx([0.81, 0.5, 1.75 / 3])
    assert [r.mean_base_brier for r in rows] == pytest.approx([0.75, 0.615, 2.11 / 3])
    assert rows[-1].brier_skill == pytest.approx(1 - 1.75 / 2.11)
    assert rows[-1].log_skill == pytest.approx(
        1 - (-math.log(.25) - math.log(.65) + math.log(4)) / (math.log(4) - math.log(.4)
                                                             - math.log(.2)))
