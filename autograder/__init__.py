"""Hardened, parallel grading of the course's nbgrader assignments (see README, "Instructors: grading")."""

__version__ = "0.1.0"
