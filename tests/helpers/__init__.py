"""Helpers shared by more than one test folder (``tests/conftest.py`` puts ``tests/`` on ``sys.path``)."""
