"""Benchmarks: speed and size budgets, each printed as a ratio against a reference measured in the same run."""
