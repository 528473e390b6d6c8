"""Contracts shared by producers, consumers and tests: scheme, standards, periods, events, pages, paths."""
