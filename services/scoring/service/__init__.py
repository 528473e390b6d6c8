"""Scoring's use cases and the components behind them: scorer, recompute, explanations, snapshots."""
