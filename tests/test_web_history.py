"""Histories a client sends with each question, bounded before anything stores them: the earlier
questions (qa.web.history) and the chat (qa.web.gradio.chat); on the app served in a subprocess
(``running``), a huge history is cut with little log and 50 sessions with maximal histories take
bounded memory.
"""

from __future__ import annotations

import json
import time

import pytest
from support.hardening import Running, chat_event, history_of

from qa.web.errors import Refusal
from qa.web.gradio.chat import MAX_CHAT_CHARS, MAX_CHAT_MESSAGES, MAX_MESSAGE_CHARS, bound_chat
from qa.web.history import bound_history, parse_history


def test_bound_history_keeps_the_last_items_each_within_the_limit():
    history = [f"question {i}" for i in range(20)] + ["é" * 900]
    bounded = bound_history(history, max_items=5, max_chars=500)
    assert bounded == ["question 16", "question 17", "question 18", "question 19", "é" * 500]
    assert bound_history(history, max_items=0) == []
    assert parse_history(None) == [] and parse_history(["a"]) == ["a"]
    for bad in ("une chaîne", {"a": 1}, [1], ["a", None], [["a"]]):
        with pytest.raises(Refusal, match="history"):
            parse_history(bad)


def test_bound_chat_keeps_text_only_and_fits_the_budget():
    chat = [
        {"role": "user", "content": "q" * 50_000, "metadata": {"x": 1}, "options": [1]},
        {"role": "assistant", "content": [{"type": "text", "text": "r"}] * 10},
    ]
    bounded = bound_chat(chat, max_chars=1000)
    assert bounded[0] == {"role": "user", "content": [{"type": "text", "text": "q" * 1000}]}
    assert len(bounded[1]["content"]) == 4
    assert len(bound_chat([chat[0]] * 500, max_messages=40, max_chars=30_000, max_total=100_000)) == 3
    for bad in (
        "x",
        [1],
        [{"role": "system", "content": "x"}],
        [{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}],
        [{"role": "user", "content": {"text": "x"}}],
    ):
        with pytest.raises(Refusal):
            bound_chat(bad)


def test_huge_history_is_cut_adds_little_log_and_no_question(running: Running):
    history = history_of(20_000, "question secrète numéro " + "x" * 20)
    assert len(json.dumps(history)) > 1_500_000
    offset = running.log_size()
    status, messages = chat_event(running, "huge1", history)
    assert status == 200
    done = messages[-1]
    assert done["msg"] == "process_completed" and done["success"], done
    chat = next(value for value in done["output"]["data"] if isinstance(value, list))
    assert len(chat) <= MAX_CHAT_MESSAGES + 2
    malformed = [{"role": "user", "content": {"question secrète": i}} for i in range(20_000)]
    refused, _ = chat_event(running, "huge2", malformed)
    assert refused == 422
    time.sleep(0.3)
    written = running.log_since(offset)
    assert len(written.encode()) < 10 * 1024, len(written)
    assert "secrète" not in written and "input_value" not in written


MEMORY_BOUND_MIB = 100  # docs/reliability.md: 2 MiB a session at most (measured: 0.8)


def test_memory_of_50_sessions_with_maximal_histories_is_bounded(running: Running):
    # Maximal: messages at their size limit, more than the chat's budget of characters, in
    # 4-byte characters (emoji); Gradio keeps each session's last chat value in memory.
    history = history_of(20, "😀" * MAX_MESSAGE_CHARS)
    assert sum(len(m["content"]) for m in history) > MAX_CHAT_CHARS
    chat_event(running, "warm", history)
    before = running.rss_mib()
    for n in range(50):
        status, messages = chat_event(running, f"memory{n}", history)
        assert status == 200 and messages[-1]["success"]
    grown = running.rss_mib() - before
    print(f"50 sessions with maximal histories: +{grown:.1f} MiB RSS")  # noqa: T201
    assert grown < MEMORY_BOUND_MIB
