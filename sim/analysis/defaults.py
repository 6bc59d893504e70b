"""Default settings of calibration and backtest, in a module of their own so that the
command line's ``--help`` can show them without loading the model."""

#: The weights fitted by default: every drive and the visitor's and host's spreads.  Each
#: is pulled towards its prior, so a weight the cases do not inform comes back with its
#: prior's width (docs/calibration.md lists which ones the cases identify).  The rest
#: (stance inertia, the weight of a visit's value, the courts' ruling rate) keep their
#: prior distributions, which forecasts draw from.
FITTED: tuple[str, ...] = ("legal", "court", "western", "lobbying", "litigation",
                           "public_position", "energy", "economic", "partner", "regional",
                           "neutrality", "security", "risk_tolerance", "perception_sd",
                           "disposition_sd")
#: Worlds per case and candidate, and the seed of their common random numbers.
DEFAULT_RUNS = 3000
DEFAULT_SEED = 20240902
#: Cap on likelihood evaluations per fit.
DEFAULT_MAX_EVALS = 500
#: Replications of each case's forecast in a backtest.
DEFAULT_FORECAST_RUNS = 20_000
