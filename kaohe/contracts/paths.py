"""Materialised org paths (`/14/1405/140502/`) and the one way to select a subtree.

A subtree is the half-open range [path, upper(path)) compared byte-wise (COLLATE "C"): '/' is 0x2F and
'0' is 0x30, so bumping the trailing slash bounds every descendant and nothing else. A range is one
index scan and, unlike `LIKE path || '%'`, has no wildcards (`_`, `%`) that unit ids could contain.
"""

from __future__ import annotations


def check(path: str) -> str:
    """Return `path` if it is a materialised path (starts and ends with '/'), else raise ValueError."""
    if not (path.startswith("/") and path.endswith("/")):
        raise ValueError(f"not a materialised path: {path!r}")
    return path


def upper(path: str) -> str:
    """Exclusive upper bound of the subtree under `path`."""
    return check(path)[:-1] + "0"


def bounds(path: str) -> tuple[str, str]:
    """(lower, upper) for `col COLLATE "C" >= lower AND col COLLATE "C" < upper`."""
    return path, upper(path)


def sql(column: str, lo: str, hi: str) -> str:
    """The subtree predicate on `column` with bind parameters named or numbered `lo` and `hi`."""
    return f'({column} COLLATE "C" >= {lo} AND {column} COLLATE "C" < {hi})'


def within(path: str, root: str) -> bool:
    """True when `path` lies in the subtree under `root` (root included)."""
    return path.startswith(check(root))
