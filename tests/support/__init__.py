"""Helpers shared by the test modules; no test here (pytest collects only ``test_*.py``).

- :mod:`support.paths`: where the repository, its articles and the test data are;
- :mod:`support.fakes`: the fake encoder and engines built on it (no model to load);
- :mod:`support.samples`: sample inputs several test modules use (an HTML page, an XSS string);
- :mod:`support.questions`: questions that put the encoders to the test (varied, fuzzed);
- :mod:`support.web`: the app served on a free port; the fixture ``live_app``;
- :mod:`support.browser`: headless Chromium and the chat in it; the fixtures ``browser``, ``session``.

``tests/conftest.py`` holds the fixtures and registers those of the other support modules.
"""
