"""YAML scenario files to validated, immutable :class:`Scenario` objects.

A scenario file is data: it is read with a safe YAML loader and nothing in it is
executed.  Validation collects every problem in one pass and reports each with
the file, the dotted key path, the offending value and what was expected.

A *counterfactual* file names a ``base`` scenario (a path relative to itself)
and ``overrides`` some of its values; everything else comes from the base.

The package has one module per job, each importing only those before it:

``types``
    the immutable objects (:class:`Scenario`, :class:`Parameter`, :class:`ActorSpec`, ...);
``reader``
    reading one YAML file safely (:func:`read_yaml`);
``inheritance``
    resolving a counterfactual's chain of bases and overrides;
``checker``
    collecting problems while parsing parameters and dates;
``timeline``
    the timeline: day counts and dates, counted from the forecast date;
``validate``
    checking the resolved document against :mod:`sim.catalogue`;
``load``
    :func:`load_scenario`, which reads, resolves and validates.
"""

from ..distributions import KINDS, Distribution
from .checker import PARAM_META
from .inheritance import COUNTERFACTUAL_KEYS, MAX_BASE_CHAIN
from .load import default_weights_file, load_scenario
from .reader import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, read_yaml
from .types import ActorSpec, Correlation, Parameter, Posterior, ReadOnly, Resolution, Scenario
from .validate import (
    ACTOR_KEYS,
    REQUIRED_KEYS,
    SCENARIO_KEYS,
    jointly_possible,
    posterior_from_document,
    weights_from_document,
)

__all__ = ["Scenario", "Parameter", "Posterior", "ActorSpec", "Correlation", "Resolution",
           "ReadOnly", "load_scenario", "read_yaml", "weights_from_document",
           "posterior_from_document", "default_weights_file",
           "jointly_possible", "Distribution", "KINDS", "MAX_FILE_BYTES", "MAX_ALIASES",
           "MAX_DEPTH", "MAX_NODES", "MAX_BASE_CHAIN", "SCENARIO_KEYS", "REQUIRED_KEYS",
           "COUNTERFACTUAL_KEYS", "ACTOR_KEYS", "PARAM_META"]
