"""Hardening II (issue 15), items 1, 6 and 7: output paths, resume checks, truthful messages.

One output policy for every command (run, compare, sweep, sensitivity, calibrate, backtest):
the target is checked before any computing and claimed atomically with the folder lock;
nothing is written over an existing file or a device; every file is written atomically and
the completion mark last; a refusal leaves no folder behind; OS errors are one line with
exit 2 or 3; an interrupted analysis says what it left and ``--replace`` replaces it.
Resume recomputes any chunk whose record or files fail their checks.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

import sim
from sim import output
from sim.cli import main
from sim.output import OutputFolder, RunFolder, record_checksum

pytestmark = pytest.mark.robustness

FUEL = "actors.mongolia.ties.russia.fuel_import_share"
OTHER = ROOT / "scenarios" / "counterfactuals" / "mongolia_2024_fuel_threat.yaml"
LONG = "x" * 300



def _args(command: str, out: Path, cases: Path) -> list[str]:
    """A small command line of ``command`` writing to ``out``."""
    return {
        "run": ["run", str(BASELINE), "--runs", "1000", "--seed", "1", "--quiet"],
        "compare": ["compare", str(BASELINE), str(OTHER), "--runs", "1000", "--seed", "1"],
        "sweep": ["sweep", str(BASELINE), "--vary", f"{FUEL}=0:1:2", "--runs", "1000",
                  "--seed", "1"],
        "sensitivity": ["sensitivity", str(BASELINE), "--method", "morris", "--samples", "2",
                        "--runs-per-point", "20", "--seed", "1"],
        "calibrate": ["calibrate", str(cases), "--fit", "legal", "--runs", "100",
                      "--max-evals", "4", "--quiet"],
        "backtest": ["backtest", str(cases), "--forecast-runs", "100", "--quiet"],
    }[command] + ["--out", str(out)]


def _forbid_computing(monkeypatch):
    """Make every command's computation fail the test if it is reached."""
    from sim import engine
    from sim.analysis import backtest, calibration, compare, sensitivity, sweep

    def never(*args, **kwargs):
        raise AssertionError("computed before the output path was checked")

    monkeypatch.setattr(engine, "simulate_chunk", never)
    monkeypatch.setattr(compare, "compare", never)
    monkeypatch.setattr(sweep, "sweep", never)
    monkeypatch.setattr(sensitivity, "sensitivity", never)
    monkeypatch.setattr(calibration, "calibrate", never)
    monkeypatch.setattr(backtest, "_score", never)


def _one_clean_error(err: str, fragment: str = "") -> None:
    assert "Traceback" not in err
    assert err.count("error:") == 1, err
    assert fragment.lower() in err.lower(), err


COMMANDS = ["run", "compare", "sweep", "sensitivity", "calibrate", "backtest"]


# --------------------------------------------------------------------------- item 1: targets

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("target", ["file", "folder", "device", "long", "long-nested"])
def test_every_command_refuses_a_bad_target_before_computing(tmp_path, few_cases, monkeypatch,
                                                              capsys, command, target):
    precious = tmp_path / "precious"
    if target == "file":
        out = tmp_path / "scenario.yaml"
        shutil.copy(BASELINE, out)
        precious = out
    elif target == "folder":
        out = tmp_path / "theirs"
        out.mkdir()
        (out / "notes.txt").write_text("precious")
        precious = out / "notes.txt"
    elif target == "device":
        out = Path("/dev/null")
    elif target == "long":
        out = tmp_path / LONG
    else:
        out = tmp_path / "new" / LONG / "inner"
    before = precious.read_bytes() if precious.exists() else None
    listing = sorted(os.listdir(tmp_path))
    _forbid_computing(monkeypatch)
    assert main(_args(command, out, few_cases)) == 2
    _one_clean_error(capsys.readouterr().err)
    assert sorted(os.listdir(tmp_path)) == listing, "a refusal leaves nothing behind"
    if before is not None:
        assert precious.read_bytes() == before
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_name_too_long_is_one_line_without_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "compare", BASELINE, OTHER, "--runs",
                           "100", "--out", tmp_path / LONG], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    _one_clean_error(proc.stderr, "File name too long")
    assert not os.listdir(tmp_path)


def test_calibrate_never_overwrites_a_file_or_a_device(tmp_path, few_cases, monkeypatch,
                                                       capsys):
    from sim.analysis.calibration import check_weights_path

    _forbid_computing(monkeypatch)
    scenario = tmp_path / "mine.yaml"
    shutil.copy(BASELINE, scenario)
    assert main(_args("calibrate", scenario, few_cases)) == 2
    _one_clean_error(capsys.readouterr().err, "already exists")
    assert scenario.read_bytes() == BASELINE.read_bytes()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.yaml"
    link.symlink_to(scenario)
    for path in (fifo, link, Path("/dev/null")):
        assert main(_args("calibrate", path, few_cases) + ["--replace"]) == 2
        _one_clean_error(capsys.readouterr().err, "not a regular file")
        with pytest.raises(sim.UsageError, match="not a regular file"):
            check_weights_path(path, replace=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # the default path is checked without creating its folder
    with pytest.raises(sim.UsageError, match="already exists"):
        check_weights_path(scenario)
    check_weights_path(tmp_path / "a" / "b" / "w.yaml")
    assert not (tmp_path / "a").exists()


def test_a_weights_file_is_written_new_or_replaced_only_when_asked(tmp_path):
    path = tmp_path / "deep" / "w.yaml"
    output.write_new_file(path, b"one\n")
    with pytest.raises(sim.UsageError, match="already exists"):
        output.write_new_file(path, b"two\n")
    assert path.read_bytes() == b"one\n"
    output.write_new_file(path, b"two\n", replace=True)
    assert path.read_bytes() == b"two\n"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def race(n: int, act) -> list[object]:
    """Run ``act(k)`` for k in 0..n-1 on n threads released together; returns what each
    returned, or the UsageError it raised."""
    results: list[object] = []
    barrier = threading.Barrier(n)

    def one(k):
        barrier.wait()
        try:
            results.append(act(k))
        except sim.UsageError as exc:
            results.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_writers_of_one_new_file_one_wins(tmp_path):
    for trial in range(10):
        path = tmp_path / f"w{trial}.yaml"

        def write(k, path=path):
            output.write_new_file(path, f"writer {k}\n".encode() * 1000)
            return k

        results = race(6, write)
        winners = [r for r in results if isinstance(r, int)]
        assert len(winners) == 1 and len(results) == 6, results
        assert path.read_text() == f"writer {winners[0]}\n" * 1000


# --------------------------------------------------------------------------- item 1: claims

def test_threads_racing_for_one_folder_one_claims_it(tmp_path):
    for trial in range(20):
        out = tmp_path / f"t{trial}" / "shared"
        results = race(8, lambda _, out=out: OutputFolder.claim(out, "compare",
                                                                   "provenance.json"))
        winners = [r for r in results if isinstance(r, OutputFolder)]
        assert len(winners) == 1 and len(results) == 8, results
        assert all("already" in str(r) for r in results if not isinstance(r, OutputFolder)), [
            str(r) for r in results if not isinstance(r, OutputFolder)]
        winners[0].finish({"done": True})
        assert sorted(os.listdir(out)) == ["provenance.json", "run.lock"]


def test_two_compares_racing_for_one_folder_give_one_winner(tmp_path):
    out = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, "-m", "sim", "compare", BASELINE, OTHER,
                               "--runs", "2000", "--seed", str(seed), "--out", out],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for seed in (1, 2)]
    results = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], results
    winner, loser = codes.index(0), codes.index(2)
    _one_clean_error(results[loser][1], "already")
    assert sorted(os.listdir(out)) == ["comparison.csv", "comparison.png", "provenance.json",
                                       "run.lock"]
    seed = (1, 2)[winner]
    assert json.loads((out / "provenance.json").read_text())["seed"] == seed
    assert json.loads((out / "run.lock").read_text())["pid"] == procs[winner].pid
    from sim.analysis.compare import compare

    expected = compare(sim.load_scenario(BASELINE), [sim.load_scenario(OTHER)], runs=2000,
                       seed=seed).frame()
    written = pd.read_csv(out / "comparison.csv")
    assert np.allclose(written.probability, expected.probability), "one run's files only"


# --------------------------------------------------------------------------- item 1: writes

def _record_writes(monkeypatch) -> list[Path]:
    written: list[Path] = []
    real = output._atomic_write

    def recording(path, write, *args, **kwargs):
        real(path, write, *args, **kwargs)
        written.append(Path(path))

    monkeypatch.setattr(output, "_atomic_write", recording)
    return written


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and p.name != "run.lock"}


@pytest.mark.parametrize("command, mark", [("compare", "provenance.json"),
                                           ("sweep", "provenance.json"),
                                           ("sensitivity", "provenance.json"),
                                           ("backtest", "backtest.json"),
                                           ("run", "summary.json")])
def test_every_file_is_written_atomically_and_the_mark_last(tmp_path, few_cases, monkeypatch,
                                                            capsys, command, mark):
    written = _record_writes(monkeypatch)
    out = tmp_path / "out"
    assert main(_args(command, out, few_cases)) == 0, capsys.readouterr().err
    assert _files(out) == set(written), "every file went through an atomic write"
    assert written[-1] == out / mark, "the completion mark is written last"
    assert not list(out.rglob("*.tmp"))
    claim = json.loads((out / "run.lock").read_text())
    assert claim["command"] == command and claim["complete_when"] == mark


def test_calibrate_writes_its_file_atomically(tmp_path, few_cases, monkeypatch, capsys):
    written = _record_writes(monkeypatch)
    out = tmp_path / "new" / "w.yaml"
    assert main(_args("calibrate", out, few_cases)) == 0, capsys.readouterr().err
    assert written == [out] and out.read_text().startswith("# Global behavioural weights")
    assert main(_args("calibrate", out, few_cases)) == 2  # never over it ...
    assert "already exists" in capsys.readouterr().err
    assert main(_args("calibrate", out, few_cases) + ["--replace"]) == 0  # ... unless asked


def test_bad_input_found_late_removes_the_claimed_folder(tmp_path, capsys):
    out = tmp_path / "a" / "b" / "sweep"
    assert main(["sweep", str(BASELINE), "--vary", "timeline.visit_days=1:4:3", "--out",
                 str(out)]) == 2
    _one_clean_error(capsys.readouterr().err, "whole number")
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- item 1: OS errors

@pytest.mark.parametrize("code, fragment, exit_code", [
    (errno.EROFS, "Read-only file system", 3), (errno.ENOSPC, "No space left", 3)])
def test_an_os_error_while_writing_is_one_line(tmp_path, monkeypatch, capsys, code, fragment,
                                               exit_code):
    def fail(path, write, *args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(output, "_atomic_write", fail)
    out = tmp_path / "out"
    assert main(_args("compare", out, tmp_path)) == exit_code
    _one_clean_error(capsys.readouterr().err, fragment)
    assert not out.exists(), "nothing was written, so nothing is left"


@pytest.mark.parametrize("code, exit_code", [(errno.EROFS, 2), (errno.ENOSPC, 3),
                                             (errno.EACCES, 2)])
def test_an_os_error_while_creating_the_folder_is_one_line(tmp_path, monkeypatch, capsys,
                                                           code, exit_code):
    def fail(path, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(os, "mkdir", fail)
    assert main(_args("sweep", tmp_path / "out", tmp_path)) == exit_code
    _one_clean_error(capsys.readouterr().err, os.strerror(code))
    assert not os.listdir(tmp_path)


def test_a_read_only_file_system_is_refused_before_computing(tmp_path, few_cases, monkeypatch,
                                                             capsys):
    real = os.statvfs

    class ReadOnly:
        def __init__(self, path):
            self.f_flag = real(path).f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", ReadOnly)
    _forbid_computing(monkeypatch)
    for command in COMMANDS:
        assert main(_args(command, tmp_path / "out" / "x.yaml", few_cases)) == 2
        _one_clean_error(capsys.readouterr().err, "Read-only file system")
    assert os.listdir(tmp_path) == ["cases"]


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_a_read_only_folder_is_refused(tmp_path, few_cases, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        for command in COMMANDS:
            assert main(_args(command, locked / "out", few_cases)) == 2
            _one_clean_error(capsys.readouterr().err, "Permission denied")
    finally:
        locked.chmod(0o755)


def test_an_unexpected_os_error_is_one_line_exit_3(tmp_path, monkeypatch, capsys):
    from sim.analysis import compare

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", "/some/file")

    monkeypatch.setattr(compare, "compare", fail)
    assert main(_args("compare", tmp_path / "out", tmp_path)) == 3
    _one_clean_error(capsys.readouterr().err, "Input/output error")
    assert not os.listdir(tmp_path)


# --------------------------------------------------------------------------- item 1: interrupts

def test_an_interrupted_analysis_says_what_it_left_and_replace_replaces_it(tmp_path,
                                                                          monkeypatch, capsys):
    out = tmp_path / "out"
    real = output.save_chart

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "save_chart", interrupt)
    assert main(_args("compare", out, tmp_path)) == 130
    err = capsys.readouterr().err
    assert str(out) in err and "comparison.csv" in err and "--replace" in err
    assert "Traceback" not in err
    assert (out / "comparison.csv").exists() and not (out / "provenance.json").exists()
    monkeypatch.setattr(output, "save_chart", real)
    assert main(_args("compare", out, tmp_path)) == 2
    _one_clean_error(capsys.readouterr().err, "unfinished compare")
    assert main(_args("sweep", out, tmp_path) + ["--replace"]) == 2  # only the same command
    _one_clean_error(capsys.readouterr().err, "unfinished compare")
    assert main(_args("compare", out, tmp_path) + ["--replace"]) == 0
    assert sorted(os.listdir(out)) == ["comparison.csv", "comparison.png", "provenance.json",
                                       "run.lock"]
    assert main(_args("compare", out, tmp_path)) == 2  # finished: never over it
    assert "finished compare" in capsys.readouterr().err


def test_an_analysis_interrupted_before_writing_leaves_nothing(tmp_path, monkeypatch, capsys):
    from sim.analysis import compare

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "compare", interrupt)
    assert main(_args("compare", tmp_path / "a" / "out", tmp_path)) == 130
    assert "wrote no results" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_a_folder_in_use_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    folder = OutputFolder.claim(out, "compare", "provenance.json")
    (out / "comparison.csv").write_text("half")
    assert main(_args("compare", out, tmp_path) + ["--replace"]) == 2
    _one_clean_error(capsys.readouterr().err, "already writing")
    assert (out / "comparison.csv").read_text() == "half"
    folder.release()


def test_an_interrupted_run_folder_points_to_resume(tmp_path, capsys):
    out = tmp_path / "run"
    sim.run(sim.load_scenario(BASELINE), runs=10_000, seed=1, out=out, progress=False)
    (out / "summary.json").unlink()
    assert main(_args("run", out, tmp_path)) == 2
    _one_clean_error(capsys.readouterr().err, "interrupted run")


# --------------------------------------------------------------------------- item 6: resume

RUNS, CHUNK, SEED = 30_000, 10_000, 11


@pytest.fixture(scope="module")
def finished_run(baseline, tmp_path_factory):
    out = tmp_path_factory.mktemp("pristine") / "run"
    result = sim.run(baseline, runs=RUNS, seed=SEED, chunk_size=CHUNK, out=out, progress=False)
    return out, result.counts


@pytest.fixture
def interrupted(finished_run, tmp_path):
    """A copy of a finished run, made to look interrupted (no summary.json)."""
    pristine, counts = finished_run
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    (out / "summary.json").unlink()
    return out, counts


def _record(out: Path, first_block: int) -> Path:
    return out / "chunks" / f"part-{first_block:06d}.json"


def _edit(out: Path, first_block: int, change, reseal: bool) -> None:
    path = _record(out, first_block)
    info = json.loads(path.read_text())
    info = change(info)
    if reseal and isinstance(info, dict):
        info["checksum"] = record_checksum(info)
    path.write_text(json.dumps(info))


def _move_one(info):
    info["counts"][0] -= 1
    info["counts"][1] += 1
    return info


def _negative(info):
    info["counts"][1] += info["counts"][2] + 1
    info["counts"][2] = -1
    return info


def _short_drivers(info):
    info["drivers"] = info["drivers"][:-1] or [[0.0]]
    return info


def _other_block(info):
    info["first_block"] = 0
    return info


def _old_format(info):
    return {k: v for k, v in info.items()
            if k not in ("checksum", "part_sha256", "stance_sha256")}


@pytest.mark.parametrize("change, reseal, why", [
    (_move_one, False, "does not match its checksum"),      # an edit that keeps the sums
    (_move_one, True, "do not match its Parquet part"),     # even with its checksum redone
    (_negative, True, "whole numbers >= 0"),
    (_short_drivers, True, "driver sums are misshapen"),
    (_other_block, True, "another chunk"),
    (lambda info: [info], False, "not a chunk record"),
    (lambda info: {**info, "rows": "10000"}, True, "rows"),
    (_old_format, False, "no checksum"),
])
def test_a_tampered_chunk_record_is_recomputed_not_summed(baseline, interrupted, capsys,
                                                          change, reseal, why):
    out, counts = interrupted
    _edit(out, 1, change, reseal)
    resumed = sim.run(baseline, resume=out, progress=False)
    err = capsys.readouterr().err
    assert "part-000001" in err and why in err, err
    assert np.array_equal(resumed.counts, counts)
    assert RunFolder(out).read_chunk(1, [CHUNK]) is not None, "rewritten, and valid again"


def test_a_part_copied_from_another_chunk_is_recomputed(baseline, interrupted, capsys):
    out, counts = interrupted
    shutil.copy(out / "replications" / "part-000000.parquet",
                out / "replications" / "part-000002.parquet")
    resumed = sim.run(baseline, resume=out, progress=False)
    assert "part-000002" in capsys.readouterr().err
    assert np.array_equal(resumed.counts, counts)
    frame = pd.read_parquet(out / "replications")
    assert sorted(frame.replication) == list(range(RUNS)), "every world once"


def test_a_whole_chunk_copied_from_another_is_recomputed(baseline, interrupted, capsys):
    out, counts = interrupted
    for folder, suffix in (("replications", ".parquet"), ("chunks", ".stance.npy"),
                           ("chunks", ".json")):
        shutil.copy(out / folder / f"part-000000{suffix}", out / folder / f"part-000001{suffix}")
    resumed = sim.run(baseline, resume=out, progress=False)
    assert "another chunk" in capsys.readouterr().err
    assert np.array_equal(resumed.counts, counts)


def test_an_edited_stance_sample_is_recomputed(baseline, interrupted, capsys):
    out, counts = interrupted
    path = out / "chunks" / "part-000000.stance.npy"
    sample = np.load(path)
    np.save(path, sample * 0.5)
    resumed = sim.run(baseline, resume=out, progress=False)
    assert "stance sample" in capsys.readouterr().err
    assert np.array_equal(resumed.counts, counts)
    whole = sim.run(baseline, runs=RUNS, seed=SEED, chunk_size=CHUNK, progress=False)
    assert np.array_equal(resumed.stance_sample, whole.stance_sample)


def test_chunk_records_carry_checksums(finished_run):
    out, _ = finished_run
    info = json.loads(_record(out, 0).read_text())
    assert info["checksum"] == record_checksum(info)
    assert info["part_sha256"] == output.file_sha256(out / "replications" / "part-000000.parquet")
    assert len(info["stance_sha256"]) == 64


def test_stray_temporary_files_are_removed_on_resume(baseline, interrupted):
    out, counts = interrupted
    strays = [out / ".summary.json.k2j3h4.tmp", out / "chunks" / ".part-000001.json.abc.tmp",
              out / "replications" / ".part-000002.parquet.q1w2.tmp"]
    for path in strays:
        path.write_text("{half")
    resumed = sim.run(baseline, resume=out, progress=False)
    assert np.array_equal(resumed.counts, counts)
    assert not any(p.exists() for p in strays)
    assert not list(out.rglob("*.tmp")) and (out / "summary.json").exists()


@pytest.mark.parametrize("key, value", [("runs", -5), ("chunk_size", 0), ("seed", 2.5),
                                        ("precision", 7), ("runs", True)])
def test_resume_refuses_impossible_settings(baseline, interrupted, key, value):
    out, _ = interrupted
    plan = json.loads((out / "run.json").read_text())
    plan[key] = value
    (out / "run.json").write_text(json.dumps(plan))
    with pytest.raises(sim.UsageError, match="can be resumed"):
        sim.run(baseline, resume=out, progress=False)


# --------------------------------------------------------------------------- item 7: messages

def test_a_precision_target_not_met_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--runs", "10000", "--precision", "0.001", "--seed", "1",
                 "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "not met" in captured.err and "NOT met" in captured.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["precision"]["met"] is False
    reached = summary["precision"]["half_width"]
    assert reached > 0.001 and f"{reached:.4f}" in captured.out
    assert main(["run", str(BASELINE), "--precision", "0.02", "--seed", "1", "--out",
                 str(tmp_path / "met"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "not met" not in captured.out + captured.err and "widest half-width" in captured.out
    assert json.loads((tmp_path / "met" / "summary.json").read_text())["precision"]["met"]


@pytest.mark.parametrize("files, expected", [(["good"], 0), (["good", "bad"], 2)])
def test_validate_into_a_closed_pipe_still_reports_invalid_files(tmp_path, files, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    paths = {"good": str(BASELINE), "bad": str(bad)}
    command = (f"{sys.executable} -m sim validate "
               + " ".join([paths[f] for f in files] * 5) + " | head -0; exit ${PIPESTATUS[0]}")
    proc = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == expected, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_compare_labels_scenarios_with_the_same_id_apart(tmp_path, capsys, baseline):
    from sim.analysis.compare import compare, labels

    copy = tmp_path / "copy.yaml"
    shutil.copy(BASELINE, copy)
    out = tmp_path / "out"
    assert main(["compare", str(BASELINE), str(copy), str(BASELINE), "--runs", "1000",
                 "--seed", "1", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    expected = ["mongolia_2024", "mongolia_2024 (copy.yaml)", "mongolia_2024 #3"]
    assert all(label in table for label in expected)
    assert list(pd.read_csv(out / "comparison.csv").scenario.unique()) == expected
    other = baseline.with_values({FUEL: 0.5})
    assert labels([baseline, other]) == ["mongolia_2024", "mongolia_2024 #2"]
    frame = compare(baseline, [other], runs=1000, seed=1).frame()
    assert frame.scenario.nunique() == 2


def test_a_run_refused_before_its_first_chunk_leaves_no_folder(baseline, tmp_path):
    """A run stopped by bad input after claiming its folder (a non-finite intent) removes
    the folder it made: a refusal leaves nothing behind."""
    import math

    import numpy as np

    from sim import catalogue as cat
    from sim.errors import NonFiniteError

    huge = {f"weights.{n}": 1e308 for n, spec in cat.WEIGHT_PARAMS.items()
            if spec.high == math.inf}
    out = tmp_path / "nested" / "run"
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError):
        sim.run(baseline.with_values(huge), runs=10_000, seed=1, out=out, progress=False)
    assert not out.exists()
    assert not (tmp_path / "nested").exists()
