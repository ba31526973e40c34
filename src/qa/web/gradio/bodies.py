"""Gradio's POST bodies checked and bounded before Gradio validates, runs or stores them.

Gradio answers many malformed bodies with a 500 and a traceback in the log (an unknown event or
endpoint, ``data`` of the wrong shape, an unknown component), and keeps whatever an event sends
(the whole chat history) in the session's memory. :class:`GradioBodies` reads each body (size and
time bounded), checks its shape against the event it names (Gradio's ``blocks.fns``: ``inputs``,
``api_name``, ``_id``, ``targets``; ``get_api_info()``), cuts the chat and the history to their
bounds (:mod:`qa.web.gradio.chat`, :mod:`qa.web.history`), and hands Gradio a rebuilt body with
known keys only. Every refusal is a 4xx :class:`qa.web.errors.Refusal` (French JSON).

Longer than 250 lines on purpose: one idea, the shape of each of Gradio's POST routes, and
splitting it would put a route's check away from the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.validation import DEFAULT_MAX_CHARS
from qa.web.errors import Refusal
from qa.web.gradio.chat import bound_chat
from qa.web.gradio.routes import SESSION_ID
from qa.web.history import DEFAULT_TURNS, parse_history
from qa.web.limits import COUNTED_EVENTS, GRADIO_MAX_BODY, RateLimiter, charge, read_body

GRADIO_POST = re.compile(
    r"^(?P<mount>/staff)?/gradio_api/(?P<route>queue/join|cancel|reset"
    r"|component_server|(?P<kind>call/v2|call|run|api)/(?P<api>[^/]+))/?$"
)
MAX_TEXT_CHARS = 10_000  # a question typed in the page (the engine refuses over QA_MAX_CHARS)
MAX_VALUE_BYTES = 16 * 1024  # any other input value, as JSON
MAX_EVENT_DATA_BYTES = 64 * 1024  # an event's data (a vote carries the message voted on)
NOT_JSON = "Requête invalide : un objet JSON est attendu."
UNKNOWN_EVENT = "Requête invalide : événement inconnu."
UNKNOWN_ENDPOINT = "Point d'accès inconnu."
UNKNOWN_FUNCTION = "Fonction inconnue."
BAD_SESSION = "Requête invalide : identifiant de session manquant ou invalide."
BAD_DATA = "Requête invalide : « data » doit être une liste d'au plus {} valeur(s)."
BAD_TEXT = "Requête invalide : un texte est attendu."
BAD_VALUE = "Requête invalide : valeur trop volumineuse."
BAD_FIELDS = "Requête invalide : paramètre inconnu."
BAD_IDS = "Requête invalide : identifiants d'événement manquants ou invalides."
BAD_PARAMETER = "Requête invalide : « {} » manque ou n'a pas le type attendu."
BAD_EVENT_DATA = "Requête invalide : données de l'événement invalides."
# Parameters the endpoint checks itself: its French error, in the event stream, lists the articles.
CHECKED_BY_ENDPOINT = frozenset({"article"})


class GradioBodies:
    """Reads, checks and bounds the body of every Gradio POST, then replays it to Gradio.

    ``pages`` maps a mount (``""`` for the public page, ``"/staff"``) to its ``gr.Blocks``;
    ``max_chars`` is the question length limit (history items are cut to it), ``max_history``
    the number of earlier questions kept.
    """

    def __init__(
        self,
        app: ASGIApp,
        pages: Mapping[str, Any],
        max_body: int = GRADIO_MAX_BODY,
        read_timeout: float = 30,
        max_chars: int = DEFAULT_MAX_CHARS,
        limiter: RateLimiter | None = None,
        max_history: int = DEFAULT_TURNS,
    ) -> None:
        """Wrap ``app``; ``limiter`` (:class:`qa.web.limits.RateLimit`'s) counts the events that run work."""
        self.app = app
        self.pages = pages
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.max_chars = max_chars
        self.limiter = limiter
        self.max_history = max_history

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check a Gradio POST; refuse it with a 4xx or pass Gradio a bounded body."""
        match = GRADIO_POST.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST" or (match["mount"] or "") not in self.pages:
            await self.app(scope, receive, send)
            return
        try:
            raw = await read_body(receive, self.max_body, self.read_timeout)
            body = self._check(match, self.pages[match["mount"] or ""], raw, scope)
        except Refusal as refused:
            await refused.answer(scope, receive, send)
            return
        except ClientDisconnect:
            return  # no one left to answer
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type")]
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await self.app({**scope, "headers": headers}, _replay(body, receive), send)

    def _check(self, match: re.Match, blocks: Any, raw: bytes, scope: Scope) -> bytes:
        payload = _json_object(raw)
        route = match["route"]
        if route == "queue/join":
            return _dump(self._join(blocks, payload, scope))
        if route == "cancel":
            return _dump(_cancel(payload))
        if route == "reset":
            return _dump({"event_id": _event_id(payload.get("event_id"))})
        if route.startswith("component_server"):
            body = _component_call(blocks, payload)
            if self.limiter is not None:
                charge(self.limiter, scope)  # a component's server function runs
            return _dump(body)
        return _dump(self._call(blocks, match["kind"], match["api"], payload))

    def _join(self, blocks: Any, payload: dict, scope: Scope) -> dict:
        fn = blocks.fns.get(payload.get("fn_index")) if _is_int(payload.get("fn_index")) else None
        if fn is None:
            raise Refusal(422, UNKNOWN_EVENT)
        if self.limiter is not None and fn.name in COUNTED_EVENTS:
            charge(self.limiter, scope)  # before its data is checked: a 429 is a 429
        data = payload.get("data")
        if not isinstance(data, list) or len(data) != len(fn.inputs):
            raise Refusal(422, BAD_DATA.format(len(fn.inputs)))
        names = _parameter_names(blocks, fn)
        body = {
            "data": [
                self._bound(block, name, value)
                for block, name, value in zip(fn.inputs, names, data, strict=True)
            ],
            "fn_index": fn._id,
            "session_hash": _session(payload.get("session_hash")),
            "event_data": _event_data(fn, payload.get("event_data")),
        }
        if _is_int(payload.get("trigger_id")):
            body["trigger_id"] = payload["trigger_id"]
        return body

    def _call(self, blocks: Any, kind: str, api: str, payload: dict) -> dict:
        fn = next(
            (
                f
                for f in blocks.fns.values()
                if f.api_name == api and getattr(f, "api_visibility", "public") == "public"
            ),
            None,
        )
        if fn is None:
            raise Refusal(404, UNKNOWN_ENDPOINT)
        names = _parameter_names(blocks, fn)
        parameters = _parameters(blocks, fn)
        if kind == "call/v2":  # named parameters: {"question": "…"}
            payload.pop("oauth_token", None)
            if not set(payload) <= set(names):
                raise Refusal(422, BAD_FIELDS)
            by_name = dict(zip(names, fn.inputs, strict=True))
            for parameter in parameters:  # a required one left out: Gradio's 500
                if not parameter.get("parameter_has_default") and parameter["parameter_name"] not in payload:
                    raise Refusal(422, BAD_PARAMETER.format(parameter["parameter_name"]))
            typed = {p["parameter_name"]: p for p in parameters}
            return {
                name: self._typed(typed.get(name), self._bound(by_name[name], name, value))
                for name, value in payload.items()
            }
        data = payload.get("data")
        if not isinstance(data, list) or not 0 < len(data) <= len(fn.inputs):
            raise Refusal(422, BAD_DATA.format(len(fn.inputs)))
        values = [
            self._bound(block, name, value)
            for block, name, value in zip(fn.inputs, names, data, strict=False)
        ]
        # Optional parameters left out ({"data": ["question"]}) take their defaults, as with
        # gradio_client: Gradio itself refuses fewer values than inputs.
        values += _padding(blocks, fn, len(values))
        if parameters and len(values) < len(parameters):
            raise Refusal(422, BAD_DATA.format(len(fn.inputs)))
        body = {"data": [self._typed(p, v) for p, v in zip(parameters, values, strict=False)] or values}
        if payload.get("session_hash") is not None:
            body["session_hash"] = _session(payload["session_hash"])
        return body

    def _typed(self, parameter: dict | None, value: object) -> object:
        """A named endpoint's value checked against the type Gradio documents for it."""
        if parameter is None or parameter.get("parameter_name") in CHECKED_BY_ENDPOINT:
            return value
        name = parameter.get("parameter_name") or ""
        if value is None and not parameter.get("parameter_has_default"):
            raise Refusal(422, BAD_PARAMETER.format(name))
        if not _matches(parameter.get("type") or {}, value):
            raise Refusal(422, BAD_PARAMETER.format(name))
        return value

    def _bound(self, block: Any, name: str, value: object) -> object:
        """One input value checked and cut by the kind of component that receives it."""
        kind = type(block).__name__
        if kind == "Chatbot":
            return bound_chat(value)
        if name == "history":
            return parse_history(value, self.max_history, self.max_chars)
        if kind == "State":
            return None  # the server keeps the state; a client's value is never read
        if isinstance(value, str):
            return value[:MAX_TEXT_CHARS]
        if kind in ("Textbox", "Dropdown") and value is not None:
            raise Refusal(422, BAD_TEXT)
        return _small(value)


def _json_object(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise Refusal(400, NOT_JSON) from error
    if not isinstance(payload, dict):
        raise Refusal(400, NOT_JSON)
    return payload


def _dump(payload: dict) -> bytes:
    return json.dumps(payload).encode("ascii")  # \uXXXX escapes: a lone surrogate survives


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _session(value: object) -> str:
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise Refusal(422, BAD_SESSION)
    return value


def _event_id(value: object) -> str:
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise Refusal(422, BAD_IDS)
    return value


def _small(value: object, limit: int = MAX_VALUE_BYTES) -> object:
    if len(json.dumps(value, ensure_ascii=False)) > limit:
        raise Refusal(422, BAD_VALUE)
    return value


def _matches(schema: dict, value: object) -> bool:
    """Whether ``value`` has the JSON schema type Gradio documents for a parameter (simple types)."""
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices:
        return any(_matches(choice, value) for choice in choices)
    kind = schema.get("type")
    checks = {
        "string": lambda: isinstance(value, str),
        "null": lambda: value is None,
        "boolean": lambda: isinstance(value, bool),
        "integer": lambda: _is_int(value),
        "number": lambda: isinstance(value, int | float) and not isinstance(value, bool),
        "object": lambda: isinstance(value, dict),
        "array": lambda: (
            isinstance(value, list) and all(_matches(schema.get("items") or {}, item) for item in value)
        ),
    }
    return checks[kind]() if kind in checks else True


def _event_data(fn: Any, value: object) -> object:
    """An event's data, bounded; a vote's (``like``) shaped as Gradio's ``LikeData`` reads it."""
    value = _small(value, MAX_EVENT_DATA_BYTES)
    if not any(target[1] == "like" for target in getattr(fn, "targets", [])):
        return value
    index = value.get("index") if isinstance(value, dict) else None
    if not (
        isinstance(value, dict)
        and "value" in value
        and (_is_int(index) or (isinstance(index, list) and 0 < len(index) <= 2 and all(map(_is_int, index))))
        and (value.get("liked") is None or isinstance(value.get("liked"), bool | str))
    ):
        raise Refusal(422, BAD_EVENT_DATA)
    return value


def _cancel(payload: dict) -> dict:
    if not _is_int(payload.get("fn_index")):
        raise Refusal(422, BAD_IDS)
    return {
        "session_hash": _session(payload.get("session_hash")),
        "fn_index": payload["fn_index"],
        "event_id": _event_id(payload.get("event_id")),
    }


def _component_call(blocks: Any, payload: dict) -> dict:
    """A component's server function: only an existing one, on an existing component."""
    block = blocks.blocks.get(payload.get("component_id")) if _is_int(payload.get("component_id")) else None
    name = payload.get("fn_name")
    function = getattr(block, name, None) if block is not None and isinstance(name, str) else None
    if not getattr(function, "_is_server_fn", False):
        raise Refusal(404, UNKNOWN_FUNCTION)
    return {
        "component_id": payload["component_id"],
        "fn_name": name,
        "session_hash": _session(payload.get("session_hash")),
        "data": _small(payload.get("data")),
    }


def _parameter_names(blocks: Any, fn: Any) -> list[str]:
    """The names of an event's inputs: its API parameters for a named endpoint, else ``""``."""
    names = [p.get("parameter_name") or "" for p in _parameters(blocks, fn)]
    return names if len(names) == len(fn.inputs) else [""] * len(fn.inputs)


def _padding(blocks: Any, fn: Any, given: int) -> list[object]:
    """The defaults of a named endpoint's parameters after the first ``given``.

    ``[]`` when one of them has no default: Gradio then refuses the call, as before.
    """
    rest = _parameters(blocks, fn)[given:]
    if not all(parameter.get("parameter_has_default") for parameter in rest):
        return []
    return [parameter.get("parameter_default") for parameter in rest]


def _parameters(blocks: Any, fn: Any) -> list[dict]:
    """A public named endpoint's parameters as Gradio documents them (cached), else ``[]``."""
    if not fn.api_name or getattr(fn, "api_visibility", "public") != "public":
        return []
    cache = blocks.__dict__.setdefault("_qa_parameters", {})
    if fn.api_name not in cache:
        info = blocks.get_api_info()["named_endpoints"].get("/" + fn.api_name, {})
        cache[fn.api_name] = list(info.get("parameters", []))
    return cache[fn.api_name]


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as Starlette does

    return replay
