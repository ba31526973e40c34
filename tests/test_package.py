"""The package door: ``from qa import ...`` hands out the main classes, and ``import qa`` stays cheap."""

from __future__ import annotations

import subprocess
import sys

from support.paths import REPO


def test_the_door_hands_out_the_main_classes() -> None:
    from qa import Answer, Citation, Engine, Settings, Status
    from qa.answer import Answer as AnswerItself
    from qa.engine import Engine as EngineItself

    assert Engine is EngineItself and Answer is AnswerItself
    assert {Citation.__name__, Settings.__name__, Status.__name__} == {"Citation", "Settings", "Status"}


def test_import_qa_loads_nothing_else() -> None:
    code = "import sys, qa; print(sorted(m for m in sys.modules if m.startswith(('qa.', 'numpy'))))"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "[]"
