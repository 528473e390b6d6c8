"""Scoring engine (计分引擎): pure, deterministic functions from inputs to scores, ranks and traces.

No I/O here: the scoring service loads inputs, calls these functions and stores what they return.
Modules: `rules` (one leaf, 评价标准), `rollup` (leaf → level → unit total), `periods` (month → quarter →
year), `ranking` (rank and grade, 等次), `pace` (序时进度 warnings) and `trace` (得分反查).
"""
