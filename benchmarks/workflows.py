"""Wall time of the analysis workflows of issue 11, each as a user runs it from the command
line with its defaults, next to its target:

* ``sim calibrate scenarios/cases`` (target 15 s), and with ``--mcmc-steps 200`` (the shipped
  weights' settings; no target);
* ``sim backtest scenarios/cases --loo`` (target 3 minutes);
* ``sim backtest scenarios/cases --as-of`` (target 5 minutes, with an empty fit cache);
* ``sim sensitivity scenarios/mongolia_2024.yaml`` (target 60 s).

    python benchmarks/workflows.py [--only calibrate,loo,as_of,sensitivity,mcmc] [--out DIR]

Every output goes to a temporary folder, or with ``--out`` to ``DIR/<workflow>`` (kept).
The machine may be shared: the load average is printed with each figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "scenarios" / "cases"
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"

#: name: (arguments after ``python -m sim``, given the temporary folder; target seconds)
WORKFLOWS = {
    "calibrate": (lambda d: ["calibrate", str(CASES), "--out", str(d / "w.yaml")], 15.0),
    "mcmc": (lambda d: ["calibrate", str(CASES), "--mcmc-steps", "200",
                        "--out", str(d / "w.yaml")], None),
    "loo": (lambda d: ["backtest", str(CASES), "--loo", "--out", str(d / "loo")], 180.0),
    "as_of": (lambda d: ["backtest", str(CASES), "--as-of", "--cache", str(d / "cache"),
                         "--out", str(d / "as_of")], 300.0),
    "sensitivity": (lambda d: ["sensitivity", str(BASELINE), "--out", str(d / "s")], 60.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="calibrate,loo,as_of,sensitivity",
                        help="comma-separated workflows (of: " + ", ".join(WORKFLOWS) + ")")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep each workflow's output in OUT/<workflow> (a new folder)")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKFLOWS]
    if unknown:
        parser.error(f"unknown workflow(s) {unknown}; choose from {list(WORKFLOWS)}")
    print(f"{'workflow':<12}{'wall s':>9}{'target s':>10}{'ratio':>8}   load   command")
    for name in names:
        command, target = WORKFLOWS[name]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) if args.out is None else args.out / name
            folder.mkdir(parents=True, exist_ok=args.out is None)
            argv = [sys.executable, "-m", "sim", *command(folder), "--quiet"]
            if name == "sensitivity":
                argv.remove("--quiet")  # it has no progress bar to silence
            start = time.perf_counter()
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - start
        if done.returncode:
            print(f"{name}: failed (exit {done.returncode})\n{done.stderr[-2000:]}")
            continue
        ratio = f"{seconds / target:.2f}" if target else "-"
        shown = " ".join(a if not a.startswith(("/", str(ROOT))) else Path(a).name
                         for a in argv[3:])
        print(f"{name:<12}{seconds:>9.1f}{target or float('nan'):>10.0f}{ratio:>8}   "
              f"{os.getloadavg()[0]:.1f}   sim {shown}")


if __name__ == "__main__":
    main()
