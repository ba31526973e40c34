"""Logging that a request cannot forge (qa.web.logs): one line per record, tracebacks included,
input values masked, control characters escaped, Gradio's prints through logging, the filter on
the server's log; and on the app served in a subprocess (``running``), a forged line sent in a
body never shows as a line of the log.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time

import httpx
import pytest
from support.hardening import Running

from qa.web import logs
from qa.web.gradio import output
from qa.web.server import OneLine


def handler_output(record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logs.OneLineHandler(stream)
    handler.addFilter(logs.OneLine())
    handler.handle(record)
    return stream.getvalue()


def test_a_traceback_is_written_as_one_line_with_its_message_cut():
    try:
        {}['zz\nINFO:     127.0.0.1:1234 - "GET /staff/export.csv HTTP/1.1" 200 OK\nFORGED' + "x" * 5000]
    except KeyError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in ASGI application\n",
            None,
            sys.exc_info(),
        )
    written = handler_output(record)
    assert written.count("\n") == 1 and written.endswith("\n")
    assert "Traceback" in written and "\\nFORGED" in written
    assert len(written) < logs.MAX_RECORD_CHARS + 100


def test_pydantic_input_values_are_masked_and_records_capped():
    message = (
        "1 validation error\n  Input should be a valid list [type=list_type, "
        "input_value='ma question secrète', input_type=str]" + "y" * 10_000
    )
    written = handler_output(logging.LogRecord("gradio", logging.ERROR, __file__, 1, message, None, None))
    assert "secrète" not in written and "input_value=…" in written
    assert written.count("\n") == 1 and len(written) < logs.MAX_RECORD_CHARS + 100


def test_control_characters_in_messages_are_escaped():
    record = logging.LogRecord("qa", logging.INFO, __file__, 1, "q %s", ("a\x1b[31m\u2028b",), None)
    written = handler_output(record)
    assert "\x1b" not in written and "\u2028" not in written and written.count("\n") == 1


def test_gradio_print_exc_goes_through_logging(monkeypatch: pytest.MonkeyPatch):
    import gradio.queueing
    import gradio.routes

    stream = io.StringIO()
    handler = logs.OneLineHandler(stream)
    monkeypatch.setattr(output.log, "handlers", [handler])
    monkeypatch.setattr(output.log, "propagate", False)
    output.route_gradio_output()
    try:
        raise ValueError("a\nINFO: faux")
    except ValueError:
        gradio.queueing.traceback.print_exc()
        gradio.routes.traceback.print_exc()
    gradio.queueing.print("x\ny")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "ValueError: a\\nINFO: faux" in lines[0]
    assert gradio.queueing.traceback.format_exc  # the rest of the module is still there


def test_log_config_uses_the_one_line_handler_everywhere():
    config = logs.log_config()
    assert all(h["class"] == "qa.web.logs.OneLineHandler" for h in config["handlers"].values())


def test_log_lines_cannot_be_forged():
    record = logging.LogRecord(
        "qa", logging.INFO, __file__, 1, "question %s %r", ("a\r\nINFO: faux", "b\nc"), None
    )
    assert OneLine().filter(record)
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert message.startswith("question a\\r\\nINFO: faux")


FORGED = {'zz\nINFO:     127.0.0.1:1234 - "GET /staff/export.csv HTTP/1.1" 200 OK\nFORGED': 1}
FORGED_LINE = re.compile(r"^(?:INFO:\s+127\.0\.0\.1:1234|FORGED)", re.MULTILINE)


def test_forged_log_line_does_not_appear_as_a_line(running: Running):
    offset = running.log_size()
    for path in (
        "gradio_api/call/v2/ask",
        "gradio_api/queue/join",
        "gradio_api/run/predict",
        "staff/gradio_api/call/v2/ask",
    ):
        response = httpx.post(running.url + path, json=FORGED, timeout=30)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.json()["error"]
    time.sleep(0.3)
    written = running.log_since(offset)
    assert FORGED_LINE.search(written) is None, written
    assert "Traceback" not in written
