"""Helpers shared by the test modules; no test here (pytest collects only ``test_*.py``).

- :mod:`support.paths`: where the repository, its articles and the test data are;
- :mod:`support.fakes`: the fake encoder and engines built on it (no model to load).

``tests/conftest.py`` holds the fixtures and registers those of the other support modules.
"""
