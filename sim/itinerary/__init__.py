"""Itineraries: several visits of one visitor in one world, where states learn from each
other's precedents (issue 14; docs/itineraries.md).

One module per job: :mod:`.spec` reads and validates itinerary files, :mod:`.precedent`
holds the precedent weights and carries the earlier visits' outcomes over to a later one,
:mod:`.simulate` runs the worlds, :mod:`.result` holds the paths and the numbers drawn from
them, :mod:`.chart` draws the path chart, :mod:`.report` writes the results folder chunk by
chunk (so that ``--resume`` can finish it), :mod:`.commands` hands ``sim run ITINERARY`` to
them, and :mod:`.calibrate` fits the precedent weights on the resolved itineraries.
"""

# Loaded on first use, so that the command line (which reads ``commands``) starts fast.
_WHERE = {"PRECEDENT_PARAMS": "precedent", "PrecedentWeights": "precedent",
          "load_precedent_weights": "precedent", "NOT_REACHED_NAME": "result",
          "STATES": "result", "ItineraryChunk": "result", "ItineraryResult": "result",
          "run_itinerary": "simulate", "simulate_itinerary_chunk": "simulate",
          "simulate_worlds": "simulate", "Itinerary": "spec", "Visit": "spec",
          "is_itinerary": "spec", "load_itinerary": "spec"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
