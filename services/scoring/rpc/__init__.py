"""Scoring's RPC handlers: reads (scores, rankings, board, warnings, explanations), admin, results."""
