"""Analyses built on the engine: comparison, sweeps, sensitivity, calibration, backtest."""
