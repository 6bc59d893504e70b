"""Start-up time of the command line: ``--help`` and ``validate`` (target: under 0.5 s each).

Prints the wall time (median of ``--repeat`` fresh processes, and the fastest) of

* ``python -m sim --help``
* ``python -m sim validate scenarios/mongolia_2024.yaml``

for the current code and, side by side, for the code of ``--reference`` (a git commit,
default the one before issue 11's lazy imports; its ``sim/`` is exported with
``git archive`` to a temporary folder), with the floors they cannot beat: the interpreter
alone, and the interpreter importing numpy and scipy.special (which ``validate`` needs to
check the laws).

    python benchmarks/startup.py [--repeat 5] [--reference 883f65d | --reference none]

``python -X importtime -m sim --help 2>&1 | sort -t'|' -k2 -n | tail`` shows what is left.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"
REFERENCE = "883f65d"  # before issue 11: `import sim` loaded the engine, Mesa, pandas, ...


def wall(command: list[str], cwd: Path, repeat: int) -> list[float]:
    """Seconds each of ``repeat`` fresh runs of ``command`` took (after one warm-up run,
    which leaves the bytecode compiled, as for the current code)."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        if i:
            times.append(elapsed)
    return times


def export(commit: str, into: Path) -> Path | None:
    """``sim/`` of ``commit`` written under ``into`` (None if git cannot give it)."""
    try:
        data = subprocess.run(["git", "archive", "--format=tar", commit, "sim"], cwd=ROOT,
                              check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per figure")
    parser.add_argument("--reference", default=REFERENCE,
                        help=f"git commit to compare with (default {REFERENCE}; 'none' to skip)")
    args = parser.parse_args()
    py = sys.executable
    commands = {"python -m sim --help": [py, "-m", "sim", "--help"],
                "python -m sim validate mongolia_2024.yaml":
                    [py, "-m", "sim", "validate", str(BASELINE)]}
    floors = {"python -c pass": [py, "-c", "pass"],
              "python -c 'import numpy, scipy.special'": [py, "-c",
                                                          "import numpy, scipy.special"]}
    with tempfile.TemporaryDirectory() as tmp:
        reference = None if args.reference == "none" else export(args.reference,
                                                                   Path(tmp) / "reference")
        columns = ["current"] + ([f"reference {args.reference}"] if reference else [])
        print(f"wall time, median of {args.repeat} runs [fastest], seconds "
              f"(machine load {os.getloadavg()[0]:.1f})")
        print(f"{'':<44}" + "".join(f"{c:>24}" for c in columns))
        for label, command in commands.items():
            cells = []
            for cwd in [ROOT] + ([reference] if reference else []):
                t = wall(command, cwd, args.repeat)
                cells.append(f"{statistics.median(t):>15.3f} [{min(t):.3f}]")
            print(f"{label:<44}" + "".join(cells))
        for label, command in floors.items():
            t = wall(command, ROOT, args.repeat)
            print(f"{label:<44}{statistics.median(t):>15.3f} [{min(t):.3f}]")
        if args.reference != "none" and reference is None:
            print(f"(no reference: git archive {args.reference} failed)")
    print("target: under 0.5 s for --help and validate")


if __name__ == "__main__":
    main()
