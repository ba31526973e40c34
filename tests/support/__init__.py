"""Helpers shared by the test modules; no test here (pytest collects only ``test_*.py``).

- :mod:`support.paths`: where the repository, its articles, the test data and ``qa`` are;
- :mod:`support.fakes`: the fake encoder and engines built on it (no model to load);
- :mod:`support.samples`: sample inputs several test modules use (an HTML page, an XSS string) and
  an answer's keys;
- :mod:`support.questions`: questions that put the encoders to the test (varied, fuzzed);
- :mod:`support.web`: the app served on a free port or in a TestClient, Gradio events sent to it;
  the fixtures ``live_app``, ``api``;
- :mod:`support.hardening`: the app of ``tests/hardening_app.py`` in a subprocess, with its log;
  the fixture ``running``;
- :mod:`support.faults`: a full disk, truncated files; the fixture ``small_disk``;
- :mod:`support.browser`: headless Chromium and the chat in it; the fixtures ``browser``, ``session``.

``tests/conftest.py`` holds the fixtures and registers those of the other support modules.
"""
