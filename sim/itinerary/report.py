"""The results folder of an itinerary's run."""

from __future__ import annotations

from ..output import OutputFolder, environment_record, save_chart, scenario_record, write_csv
from .result import ItineraryResult
from .spec import Itinerary

FILES = ("summary.json", "provenance.json", "visits.csv", "paths.csv", "paths.png")


def provenance(result: ItineraryResult, itinerary: Itinerary) -> dict:
    """Which itinerary, scenarios, weights, precedent weights, seed and code made the run."""
    return {"itinerary": itinerary.id, "itinerary_file": itinerary.file,
            "visits": [{"id": v.id, "region": v.region, "blocs": list(v.blocs),
                        **scenario_record(v.scenario)} for v in itinerary.visits],
            "seed": result.seed, "runs": result.runs,
            "precedent_weights": dict(result.precedent),
            "precedent_weights_file": result.precedent_file, **environment_record()}


def write_folder(folder: OutputFolder, result: ItineraryResult, itinerary: Itinerary,
                 given: ItineraryResult | None = None, precision: float | None = None) -> None:
    """Write the tables, the chart(s) and the provenance, then ``summary.json`` last (with
    the numbers in the worlds meeting the conditions of ``given``, if any)."""
    from ..output import write_json

    out = folder.path
    write_csv(result.frame(), out / "visits.csv")
    write_csv(result.paths_frame(), out / "paths.csv")
    save_chart(result.plot(), out / "paths.png")
    summary = result.summary()
    if precision is not None:
        reached = result.half_width
        summary["precision"] = {"target": precision, "met": reached <= precision,
                                "half_width": reached}
    if given is not None:
        save_chart(given.plot(), out / "paths_given.png")
        summary["given_result"] = given.summary(conditional=False)
    write_json(out / "provenance.json", provenance(result, itinerary))
    folder.finish(summary)
