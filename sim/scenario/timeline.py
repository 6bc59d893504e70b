"""The timeline: day counts, dates, or both, counted from the forecast date (day 0)."""

from __future__ import annotations

import datetime as dt

from .. import catalogue as cat
from ..distributions import Distribution
from ..errors import ABSENT
from .checker import Checker, Dated
from .inheritance import file_for
from .types import ARRIVAL, COMMITMENT, LENGTH, Parameter, count, timeline_dates


def _derived(path: str, days: int, *origins: Dated | Parameter, note: str = "") -> Parameter:
    """A day count computed from dates, carrying their sources and assumptions."""
    sources, assumptions = [], []
    for o in origins:
        sources += [f"from {o.path}: {s}" for s in o.source]
        if o.assumption:
            assumptions.append(f"from {o.path}: {o.assumption}")
    if note:
        assumptions.append(note)
    spec = cat.TIMELINE_PARAMS[path.removeprefix("timeline.")]
    return Parameter(path, Distribution.fixed(float(days)), spec, tuple(sources),
                     "; ".join(assumptions))


def check_timeline(node: object, forecast: dt.date | None, check: Checker,
                   params: dict[str, Parameter],
                   moves: dict[str, set[str]]) -> dict[str, dt.date]:
    """Check the timeline and put its three day counts into ``params``.

    Each count may be given as itself (``days_before_visit``, ``visit_days``,
    ``days_before_commitment``), through dates (``arrival``, ``departure``,
    ``commitment``) counted from ``forecast`` (day 0), or both, which must then
    agree.  The commitment defaults to the arrival day and is never after it; a
    commitment date before the forecast date (already committed) counts as day 0.

    ``moves`` receives, for each timeline key, the counts computed from it.

    Returns
    -------
    dict
        ``arrival``, ``departure`` and ``commitment`` dates: the file's, or those
        the counts imply (empty when the timeline is invalid).
    """
    node = check.mapping(node, "timeline")
    if node is None:
        return {}
    check.keys(node, "timeline", {**cat.TIMELINE_PARAMS, **cat.TIMELINE_DATES})
    counts: dict[str, Parameter] = {}
    for name, spec in cat.TIMELINE_PARAMS.items():
        if name in node:
            par = check.parameter(node[name], f"timeline.{name}", spec)
            if par:
                counts[par.path] = par
    dates: dict[str, Dated] = {}
    for name in cat.TIMELINE_DATES:
        if name in node:
            dated = check.date(node[name], f"timeline.{name}")
            if dated:
                dates[name] = dated

    def missing(path: str, date_key: str, expected: str, needs: str | None) -> bool:
        """Report an absent count (or date), unless something given stands for it."""
        if path.removeprefix("timeline.") in node or date_key in node:
            return False
        if needs and needs in node:  # a date given without its partner
            check.add(f"timeline.{date_key}", ABSENT,
                      f"the {date_key} date to go with timeline.{needs} (or the count {path})")
        else:
            check.add(path, ABSENT, expected)
        return True

    def agree(path: str, derived: int, explained: str, related: str) -> bool:
        """Whether a count given beside a date says the same; a problem if not."""
        if path in counts and count(counts[path]) != derived:
            apart = file_for(path, check.origin) != file_for(related, check.origin)
            check.add(path, count(counts[path]),
                      f"the count the dates give: {explained} (give the count or the date, or "
                      "make them agree" + ("; a counterfactual that overrides one can remove "
                                           "the other with null)" if apart else ")"),
                      related=(related,))
            return False
        return True

    def within(path: str, derived: int, dated: Dated, expected: str) -> bool:
        spec = cat.TIMELINE_PARAMS[path.removeprefix("timeline.")]
        if spec.admits(derived, derived):
            return True
        check.add(dated.path, str(dated.day),
                  f"{expected} ({path} would be {derived}; expected {spec.expected()})")
        return False

    def derive(path: str, days: int, *origins: Dated | Parameter, note: str = "") -> Parameter:
        for o in origins:
            moves.setdefault(o.path, set()).add(path)
        return _derived(path, days, *origins, note=note)

    if forecast is None:  # forecast_date itself is wrong: nothing can be counted from it
        return {}
    out: dict[str, Parameter] = {}

    # arrival: days_before_visit
    arrival = dates.get("arrival")
    if arrival is not None:
        derived = (arrival.day - forecast).days
        if derived < 0:
            check.add(arrival.path, str(arrival.day), f"a date on or after forecast_date "
                      f"{forecast} (the clock starts at the forecast date)",
                      related=("forecast_date",))
        elif within(ARRIVAL, derived, arrival, "a date closer to forecast_date "
                    f"{forecast}") and agree(
                ARRIVAL, derived, f"{arrival.path} {arrival.day} is {derived} days after "
                f"forecast_date {forecast}", arrival.path):
            out[ARRIVAL] = counts.get(ARRIVAL) or derive(ARRIVAL, derived, arrival)
    elif ARRIVAL in counts:
        out[ARRIVAL] = counts[ARRIVAL]
    else:
        missing(ARRIVAL, "arrival", "this key (days from forecast_date to the arrival), or "
                "the date timeline.arrival", needs="departure")
    arrival_day = (forecast + dt.timedelta(days=count(out[ARRIVAL]))) if ARRIVAL in out else None

    # departure: visit_days, arrival and departure days included
    departure = dates.get("departure")
    if departure is not None and arrival_day is not None:
        derived = (departure.day - arrival_day).days + 1
        start = (f"{arrival.path} {arrival.day}" if arrival is not None
                 else f"the arrival {arrival_day} (forecast_date + {ARRIVAL})")
        if derived < 1:
            check.add(departure.path, str(departure.day),
                      f"a date on or after the arrival {arrival_day}",
                      related=(arrival.path if arrival is not None else ARRIVAL,))
        elif within(LENGTH, derived, departure, f"a date closer to the arrival {arrival_day}") \
                and agree(LENGTH, derived, f"{start} to {departure.path} {departure.day} is "
                          f"{derived} days, both included", departure.path):
            origins = (arrival or out[ARRIVAL], departure)
            out[LENGTH] = counts.get(LENGTH) or derive(LENGTH, derived, *origins)
    elif departure is None and LENGTH in counts:
        out[LENGTH] = counts[LENGTH]
    elif departure is None:
        missing(LENGTH, "departure", "this key (days of the visit, arrival and departure "
                "days included), or the date timeline.departure", needs="arrival")

    # commitment: days_before_commitment, at most days_before_visit
    commitment = dates.get("commitment")
    if arrival_day is not None:
        arrival_count = count(out[ARRIVAL])
        if commitment is not None:
            derived = max(0, (commitment.day - forecast).days)
            if commitment.day > arrival_day:
                check.add(commitment.path, str(commitment.day),
                          f"a date on or before the arrival {arrival_day} (the visitor commits "
                          "at the latest on the day it arrives)",
                          related=(arrival.path if arrival is not None else ARRIVAL,))
            elif agree(COMMITMENT, derived, f"{commitment.path} {commitment.day} is "
                       + (f"{derived} days after forecast_date {forecast}"
                          if commitment.day >= forecast else
                          f"before forecast_date {forecast} (already committed: counted as 0)"),
                       commitment.path):
                note = ("before forecast_date: the visitor had already committed, counted as "
                        "day 0" if commitment.day < forecast else "")
                out[COMMITMENT] = counts.get(COMMITMENT) or derive(
                    COMMITMENT, derived, commitment, note=note)
        elif COMMITMENT in counts:
            if count(counts[COMMITMENT]) > arrival_count:
                check.add(COMMITMENT, count(counts[COMMITMENT]),
                          f"a whole number at most {ARRIVAL} ({arrival_count}): the visitor "
                          "commits at the latest on the day it arrives", related=(ARRIVAL,))
            else:
                out[COMMITMENT] = counts[COMMITMENT]
        elif "days_before_commitment" not in node and "commitment" not in node:
            moves.setdefault(ARRIVAL, set()).add(COMMITMENT)
            out[COMMITMENT] = Parameter(
                COMMITMENT, Distribution.fixed(float(arrival_count)),
                cat.TIMELINE_PARAMS["days_before_commitment"], (),
                f"default: the arrival day ({ARRIVAL}); the visitor can call the trip off "
                "until it arrives", defaulted=True)

    params.update(out)
    if len(out) < len(cat.TIMELINE_PARAMS):
        return {}
    implied = timeline_dates(forecast, count(out[ARRIVAL]), count(out[LENGTH]),
                             count(out[COMMITMENT]))
    return {key: dates[key].day if key in dates else day for key, day in implied.items()}
