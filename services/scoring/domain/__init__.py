"""Scoring's pure rules (计分引擎): deterministic functions from inputs to scores, ranks and traces.

No I/O here: the service loads inputs, calls these functions and stores what they return. One concept a
module: `rules` (one leaf, 评价标准), `rollup` (leaf → level → unit total), `composition` (month → quarter
→ year, 月调度、季研判、年考核), `ranking` (rank and grade, 等次), `pace` (序时进度 warnings), `trace`
(得分反查), `book` (a book's compiled scheme, roster and config: BookModel), `batch` (vectorised scoring of
one period for many units) and `rows` (quarter/year composition, rankings and schedule checks of result rows).
"""
