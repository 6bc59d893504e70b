"""The outcome set of a warrant visit: mutually exclusive and exhaustive."""

from __future__ import annotations

#: Primary outcomes in a fixed order; their index is the code stored per replication.
OUTCOMES: tuple[str, ...] = ("arrest_surrender", "hosted_no_arrest", "left_early",
                             "visit_cancelled")

ARREST, HOSTED, LEFT_EARLY, CANCELLED = range(len(OUTCOMES))
#: Code of a world whose visit is still in progress (never present in finished results).
PENDING = -1

LABELS: dict[str, str] = {
    "arrest_surrender": "Arrested and\nsurrendered",
    "hosted_no_arrest": "Hosted, no arrest",
    "left_early": "Left early",
    "visit_cancelled": "Visit cancelled",
}

#: One colour per outcome, shared by every chart (Okabe-Ito, colour-blind safe).
COLOURS: dict[str, str] = {
    "arrest_surrender": "#D55E00",
    "hosted_no_arrest": "#0072B2",
    "left_early": "#E69F00",
    "visit_cancelled": "#009E73",
}
