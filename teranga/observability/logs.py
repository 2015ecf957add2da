"""JSON log lines for log collectors (`TERANGA_LOG_FORMAT=json`): one object per line, with
the time (ISO 8601, UTC), level, logger, message, the process ("rasa", "actions", "desk",
"teranga") and, when the line is about one, the conversation, masked like every log line
(teranga/privacy/logs.py: a phone-number id shows its last two digits only).

A line is about a conversation when its record carries one (`extra={"conversation": id}`)
or when it is logged while that conversation's turn, delivery or action runs
(`about_conversation`, a context variable: it follows the turn's awaits, Rasa's code
included).

Rasa, rasa_sdk and Sanic install their own handlers as they start; `use_log_format` sets
the JSON formatter on every handler there is, so the servers call it again once started.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from teranga.privacy.logs import masked

JSON, TEXT = "json", "text"

_conversation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "teranga_conversation", default=None)


@contextmanager
def about_conversation(conversation_id: str | None) -> Iterator[None]:
    """Lines logged inside are about this conversation."""
    token = _conversation.set(conversation_id)
    try:
        yield
    finally:
        _conversation.reset(token)


def set_conversation(conversation_id: str | None) -> None:
    """Lines logged from here to the end of the current task (or request) are about this
    conversation: for a request's middleware, which cannot wrap its handler."""
    _conversation.set(conversation_id)


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc)
                .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), "process": self.process}
        conversation = getattr(record, "conversation", None) or _conversation.get()
        if conversation:
            line["conversation"] = masked(str(conversation))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_log_format(log_format: str, process: str) -> None:
    """With `json`, every handler of this process writes JSON lines (one on stderr if
    there is none yet); with `text`, nothing changes."""
    if log_format not in (JSON, TEXT):
        raise ValueError(f"TERANGA_LOG_FORMAT must be {TEXT} or {JSON}, not {log_format!r}")
    if log_format == TEXT:
        return
    formatter = JsonFormatter(process)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    loggers = [root, *(logger for logger in logging.Logger.manager.loggerDict.values()
                       if isinstance(logger, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            handler.setFormatter(formatter)
