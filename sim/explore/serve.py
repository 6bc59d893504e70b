"""Serve the explorer as a web page with Voilà.

Voilà runs a notebook and shows only its widgets: no code, no cells.  The notebook is
written here, to a temporary folder, with one cell that builds :func:`sim.explore.page.page`.
Each browser tab gets its own kernel, so one visitor's settings never reach another's, and
its kernel is shut down when the tab closes.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError

INSTALL_HINT = 'install the explorer\'s extra: pip install -e ".[explore]"'


def page_notebook(scenarios: Path, initial: Path, runs: int, seed: int):
    """The notebook that Voilà runs: one code cell that shows the page."""
    import nbformat

    package_root = Path(__file__).resolve().parents[2]  # so that `import sim` finds this copy
    source = (f"import sys\n"
              f"sys.path.insert(0, {str(package_root)!r})\n"
              f"from sim.explore.page import page\n"
              f"page({str(scenarios.resolve())!r}, {str(initial.resolve())!r}, "
              f"runs={runs}, seed={seed})")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def voila_command(notebook: Path, host: str, port: int) -> list[str]:
    """The command that serves ``notebook`` on ``host:port`` (that port or none)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser",
            f"--Voila.ip={host}", f"--port={port}", "--Voila.port_retries=0",
            "--strip_sources=True", "--show_tracebacks=False",
            "--theme=light",
            # a visitor's kernel that was left (tab closed without notice) goes after 15 min
            "--MappingKernelManager.cull_idle_timeout=900",
            "--MappingKernelManager.cull_interval=60"]


def serve(scenarios: Path, initial: Path, host: str, port: int, runs: int, seed: int) -> int:
    """Serve the page until interrupted; returns Voilà's exit code (0 after Ctrl-C)."""
    if importlib.util.find_spec("voila") is None:
        raise UsageError("the explorer's page needs Voila, which is not installed",
                         hint=INSTALL_HINT)
    import nbformat

    with tempfile.TemporaryDirectory(prefix="sim-explore-") as folder:
        notebook = Path(folder) / "explore.ipynb"
        nbformat.write(page_notebook(scenarios, initial, runs, seed), notebook)
        shown = f"[{host}]" if ":" in host else host
        print(f"serving the explorer on http://{shown}:{port}/ ({runs:,} runs per update, "
              f"seed {seed}); Ctrl-C stops it", flush=True)
        child = subprocess.Popen(voila_command(notebook, host, port), cwd=folder)
        # a SIGTERM (a service manager, a test) stops Voila too, as Ctrl-C does
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            return child.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
