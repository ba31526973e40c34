r"""Logging that a request cannot forge: one physical line per record, no request text.

- :class:`OneLine` (a filter) escapes control characters in a record's message and arguments.
- :class:`OneLineHandler` writes each formatted record, traceback included, as one line: CR, LF
  and the other line breaks become ``\r``, ``\n``…, exception messages are cut short, Pydantic's
  ``input_value='…'`` is masked, and a record is capped at :data:`MAX_RECORD_CHARS`.
- :func:`qa.web.gradio.route_gradio_output` sends what Gradio prints straight to the terminal
  through logging, hence through the above.
- :class:`AccessPath` (a filter on uvicorn's access log) writes a request's path without its
  query, ids and unknown paths masked: no visitor text reaches the access log either.
"""

from __future__ import annotations

import copy
import logging
import re
import traceback

import uvicorn

MAX_RECORD_CHARS = 4000  # a whole record, traceback included
MAX_EXCEPTION_MESSAGE = 200  # the "KeyError: …" part of a traceback may hold request text
LINE_BREAKS = {
    "\r": "\\r",
    "\n": "\\n",
    "\x0b": "\\x0b",
    "\x0c": "\\x0c",
    "\x1c": "\\x1c",
    "\x1d": "\\x1d",
    "\x1e": "\\x1e",
    "\x85": "\\x85",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
BREAKS = str.maketrans(LINE_BREAKS)
CONTROLS = str.maketrans(
    {**{chr(c): f"\\x{c:02x}" for c in [*range(32), *range(127, 160)] if chr(c) != "\t"}, **LINE_BREAKS}
)
INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|$)", re.MULTILINE)  # Pydantic's errors
# Path segments a client chooses: sessions, events, article ids (other paths: a 404 is masked).
ENDPOINT = re.compile(r"(/gradio_api/(?:call/v2|call|run|api)/)[^/]+/?$")
CHOSEN = re.compile(r"(/(?:heartbeat|articles)/).+|(/call/(?:v2/)?(?!v2/)[^/]+/)[^/]+$")


def one_line(text: str) -> str:
    r"""Return ``text`` with CR, LF and the other line breaks written as ``\r``, ``\n``…."""
    return text.translate(BREAKS)


def no_controls(text: str) -> str:
    r"""Return ``text`` with every control character (tab excepted) written as ``\xNN``."""
    return text.translate(CONTROLS)


class OneLine(logging.Filter):
    """Escapes control characters in log messages, so that text from a request cannot forge a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Escape the message and its string arguments; always keep the record."""
        if isinstance(record.msg, str):
            record.msg = no_controls(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(no_controls(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: no_controls(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


class AccessPath(logging.Filter):
    """On uvicorn's access log: the path without its query, ids and unknown paths masked.

    ``GET /api/articles/<id>?article=<id>`` is logged as ``GET /api/articles/…?…``; a path that
    is no route of the app (or answered 404) as ``/…``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the path argument of an access record; always keep the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], loggable_path(str(args[1]), args[2], args[4]), args[3], args[4])
        return True


def loggable_path(method: str, full_path: str, status: object) -> str:
    """What the access log may say of a request's path (see :class:`AccessPath`)."""
    from qa.web.gradio.routes import allowed  # the route table; imported late: it imports Starlette

    path, _, query = full_path.partition("?")
    if allowed(method, path) and status != 404:
        path = CHOSEN.sub(lambda m: (m.group(1) or m.group(2)) + "…", path)
        if isinstance(status, int) and status >= 400:  # an endpoint's name, if it was refused
            path = ENDPOINT.sub(r"\1…", path)
    else:
        path = "/…"  # no route of the app: the whole path is the client's
    return path + ("?…" if query else "")


class OneLineHandler(logging.StreamHandler):
    """A stream handler that writes every record, its traceback included, as one bounded line."""

    def format(self, record: logging.LogRecord) -> str:
        """Format with the configured formatter, then escape line breaks and cap the length."""
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = short_traceback(record.exc_info[1])
        text = INPUT_VALUE.sub("input_value=…", super().format(record))
        if len(text) > MAX_RECORD_CHARS:
            text = text[:MAX_RECORD_CHARS] + " […]"
        return one_line(text)


def short_traceback(error: BaseException) -> str:
    """The traceback of ``error`` with each exception message cut to a few hundred characters."""
    lines: list[str] = []
    for part in traceback.TracebackException.from_exception(error).format():
        if part.startswith("  "):
            lines.append(part)
        else:  # "Traceback (most recent call last):", "KeyError: …", "During handling …"
            cut = len(part) > MAX_EXCEPTION_MESSAGE
            lines.append(part[:MAX_EXCEPTION_MESSAGE] + (" […]\n" if cut else ""))
    return "".join(lines).rstrip("\n")


def log_config() -> dict:
    """Uvicorn's logging set-up plus the app's and Gradio's loggers, every handler one line a record."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"one_line": {"()": OneLine}}
    config["formatters"]["app"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(levelprefix)s %(name)s: %(message)s",
    }
    config["handlers"]["app"] = {
        "formatter": "app",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["filters"]["access_path"] = {"()": AccessPath}
    for handler in config["handlers"].values():
        handler["class"] = f"{OneLineHandler.__module__}.{OneLineHandler.__qualname__}"
        handler["filters"] = ["one_line"]
    config["loggers"]["uvicorn.access"]["filters"] = ["access_path"]
    config["root"] = {"handlers": ["app"], "level": "INFO"}
    return config
