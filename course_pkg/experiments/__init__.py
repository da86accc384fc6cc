"""Reusable experiment helpers for the book's chapters.

Each module serves one chapter (``sgd``, ``momentum``, ``adaptive``, ``adam`` ...): small, seeded, CPU-sized
experiments whose numbers the chapters quote. Nothing here prints; every function returns plain data.
"""
