"""The forecast ledger: forecasts recorded before the event, resolved after, scored.

One SQLite file (default ``forecasts.db``) holds every forecast made with
``python -m sim forecast``: the question, the scenario and weights files with their
sha256, the probabilities with their Monte Carlo and epistemic intervals, the command and
the commit.  ``python -m sim resolve`` records what happened; ``python -m sim ledger``
lists the entries and scores the resolved ones against the base rate, over time.
Entries are append-only (see :mod:`sim.ledger.store`); the scores are described in
:mod:`sim.ledger.scoring`.

>>> from sim.ledger import Ledger, make_forecast, score
>>> forecast, result = make_forecast("scenarios/mongolia_2024.yaml", "Arrest?", runs=20_000)
>>> with Ledger.open("forecasts.db", create=True) as ledger:
...     entry_id = ledger.add_forecast(forecast)
...     print(score(ledger.entries()).table())

The modules: ``entries`` (the records), ``store`` (the file), ``forecast`` (running a
scenario into an entry), ``scoring`` (Brier and log scores against the base rate),
``commands`` (the command line).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .entries import Entry, NewForecast, OutcomeForecast, Resolution, ScenarioFile
    from .forecast import make_forecast
    from .scoring import LedgerScores, ScoredForecast, score
    from .store import DEFAULT_LEDGER, Ledger, LedgerError

#: Each public name and the module that holds it, loaded on first use (so that the
#: command line's ``--help``, which imports :mod:`sim.ledger.commands`, stays light).
_LAZY = {"make_forecast": ".forecast", "LedgerScores": ".scoring",
         "ScoredForecast": ".scoring", "score": ".scoring", "DEFAULT_LEDGER": ".store",
         "Ledger": ".store", "LedgerError": ".store", "Entry": ".entries",
         "NewForecast": ".entries", "OutcomeForecast": ".entries", "Resolution": ".entries",
         "ScenarioFile": ".entries"}

__all__ = ["DEFAULT_LEDGER", "Entry", "Ledger", "LedgerError", "LedgerScores", "NewForecast",
           "OutcomeForecast", "Resolution", "ScenarioFile", "ScoredForecast", "make_forecast",
           "score"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
