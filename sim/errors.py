"""The project's own error types: what a user did wrong, said precisely."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    path: str  # dotted key path inside the document; "" for the document itself
    value: object
    expected: str

    def __str__(self) -> str:
        path = self.path if len(self.path) <= 200 else self.path[:197] + "..."
        where = f"{self.file}: {path}" if path else self.file
        if self.value is ABSENT:
            return f"{where}: missing; expected {self.expected}"
        return f"{where}: got {_show(self.value)}; expected {self.expected}"


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


#: Marks a key that should be there and is not.
ABSENT = _Absent()


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class SimError(Exception):
    """Base class for errors caused by user input; the CLI prints them without a traceback."""

    hint: str = ""


class ScenarioError(SimError):
    """A scenario (or weights) file is invalid; carries every problem found in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(f"{len(lines)} problem(s):\n  " + "\n  ".join(lines))


class UsageError(SimError):
    """A bad argument to the API or the command line."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class NonFiniteError(UsageError):
    """A run's drawn parameter values, or the host's intent, hold NaN or infinity.

    The run stops instead of reporting probabilities computed from them; the message
    names the parameter (or the host's intent).  The command line exits 2.
    """


class OutputError(SimError):
    """Results could not be written (disk full, folder removed, no permission).

    Raised before any summary is written, so a run that fails this way never
    looks complete; the chunks already written stay resumable.
    """

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint
