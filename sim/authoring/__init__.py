"""Scenario authoring: a new visit forecast from a blank page, with every number sourced.

``library``
    how the resolved historical cases (``scenarios/cases/*.yaml``) scored each parameter;
``laws``
    a parameter's value or range in words;
``skeleton``
    ``sim new``: a commented scenario skeleton whose values are TODO markers;
``screen``
    a quick one-at-a-time screen on common random numbers: which uncertain inputs move
    the forecast most;
``explain``
    ``sim explain``: a scenario read back as prose, with flags and the screen's top inputs;
``commands``
    the two commands' argument parsers and handlers.
"""
