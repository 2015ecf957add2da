"""The web chat's shared logic and its static files (the widget and the demo page).

Web-chat conversation ids are issued by the server (`web:` and 128 random bits) and kept in
Redis, so a widget coming back after a reload resumes its conversation, while an id the
server never issued, or one of another channel, gets a new conversation instead.

Each conversation has a transcript (an `Outbox` stream, `teranga:webchat:transcript:<id>`):
every message sent to the widget is recorded there before it is emitted with its transcript
id, and so is every message of the customer's that was accepted (with the widget's client
message id). A widget coming back (a reload, a new socket) asks for what it missed after the
last id it has, or for the recent conversation when it has none.

The widget's texts are data, one file per language (`chat_labels/<code>.yml` at the project
root); `widget_script` writes them into widget.js as it is served, so that the widget is one
request, and fills a text a language lacks with the default language's (config.yml).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import redis.asyncio as aioredis
import yaml
from redis.exceptions import RedisError, ResponseError
from socketio import AsyncRedisManager

from teranga import conversation_ids, redis_keys
from teranga.channels.inbound import (
    SENT_AFTER_ITS_NAME,
    InboundError,
    client_metadata,
    parse_json_object,
    prepare_text,
)
from teranga.channels.outbox import DELIVERED_FIELDS, Outbox, Retention, outbox_position
from teranga.languages import default_language
from teranga.redis_connections import async_redis, still_on_master
from teranga.settings import PROJECT_ROOT
from teranga.web_origins import checked_origins

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent
LABELS = PROJECT_ROOT / "chat_labels"  # the widget's texts: <code>.yml, one per language
LABELS_MARK = "{/*labels*/}"  # where widget.js gets them
SESSION_DAYS = 90  # a visitor who comes back within this finds their conversation
# The transcript lives as long as the session and is never trimmed by reading (it is what a
# reload shows); 1000 messages is far more than a web-chat conversation holds.
TRANSCRIPT_RETENTION = Retention(max_age_seconds=SESSION_DAYS * 86400, hard_cap=1000,
                                 read_grace_seconds=None)
RECENT_MESSAGES = 50  # what a widget with nothing shown gets: the recent conversation
MISSED_MESSAGES = 200  # at most this many after the widget's last id, oldest first
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_INTENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")  # ISO 639-1 (or -3), as languages.yml names them
_MARKDOWN = re.compile(r"[\\`*_{}\[\]()#+.!|<>~-]")  # what rasa-webchat's Markdown would read


def transcript(client: aioredis.Redis) -> Outbox:
    return Outbox(client=client, prefix=redis_keys.WEBCHAT_TRANSCRIPT,
                  retention=TRANSCRIPT_RETENTION, name="web-chat transcript")


async def missed(messages: Outbox, session_id: str, after: Any) -> list[dict]:
    """What a widget coming back has not seen: the messages after the transcript id it
    names, or the recent conversation when it names none (or one that is not an id)."""
    try:
        position = outbox_position(after) if isinstance(after, str) and after else None
    except ValueError:
        position = None
    if position is not None:
        try:
            return await messages.read(session_id, position, count=MISSED_MESSAGES)
        except ResponseError:  # shaped like an id, but none Redis can have (over 64 bits)
            pass
    return await messages.latest(session_id, RECENT_MESSAGES)


def bot_entry(message: dict[str, Any]) -> dict[str, Any]:
    """A message to the widget as the transcript keeps it: from the bot or an agent."""
    entry = {k: message[k] for k in DELIVERED_FIELDS if message.get(k)}
    return {"from": "agent" if message.get("agent") else "bot", **entry}


def customer_entry(text: str, metadata: dict, data: dict,
                   client_id: str | None) -> dict[str, Any]:
    """A customer's accepted message as the transcript keeps it: what the widget showed (a
    button's title rather than its payload, the whole of a long message) and the widget's
    client message id."""
    notes = metadata.get("teranga") or {}
    shown = data.get("shown")
    # what the widget showed, unless it is a secret the message before named (then: the mask)
    if isinstance(shown, str) and shown.strip() and not notes.get(SENT_AFTER_ITS_NAME):
        text, _notes = prepare_text(shown, 200)
    else:
        text = notes.get("full_text") or text
        if notes.get("slash_escaped"):
            text = "/" + text[1:]  # escaped for Rasa only
    entry: dict[str, Any] = {"from": "customer", "text": text}
    if client_id:
        entry["client_id"] = client_id
    return entry


def client_message_id(data: Any) -> str | None:
    """The widget's id for this message (random, so that a resend is recognised), if it
    sent a well-formed one; other widgets send none."""
    value = data.get("client_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and _CLIENT_ID.fullmatch(value) else None


def intake_message_id(session_id: str, client_id: str | None) -> str:
    """The id the pipeline dedupes on: the client's within its conversation (so no
    conversation can take another's), or a new one when the widget sent none."""
    return f"{session_id}:{client_id or 'server-' + uuid.uuid4().hex}"


def requested_session_id(data: Any) -> str | None:
    """The session id a widget asks to resume (Rasa widgets send {"session_id": ...})."""
    session_id = data.get("session_id") if isinstance(data, dict) else None
    return session_id if conversation_ids.belongs_to(session_id, conversation_ids.WEBCHAT) \
        else None


class WebChatSessions:
    """The web-chat ids this assistant issued."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    @staticmethod
    def _key(session_id: str) -> str:
        return redis_keys.webchat_session(session_id)

    async def resume_or_issue(self, requested: str | None) -> str:
        """The requested session if this server issued it, else a new one."""
        ttl = SESSION_DAYS * 86400
        if requested and await self.client.expire(self._key(requested), ttl):
            return requested
        session_id = conversation_ids.new_webchat_id()
        try:
            await self.client.set(self._key(session_id), 1, ex=ttl)
        except RedisError:  # the conversation works; only a later resume will not
            logger.exception("Could not record web-chat session %s", session_id)
        return session_id


def read_user_message(data: Any, max_chars: int,
                      client_intents: frozenset[str] = frozenset()) -> tuple[str, dict]:
    """(text, metadata) of a widget's `user_uttered`, cleaned like every channel's input.
    An intent payload (`/greet`) stays one for the `client_intents` only; the language the
    page says it is in (rasa-webchat's `customData: {"language": "wo"}`) is noted as
    `page_language`, where the language detector starts from."""
    if not isinstance(data, dict):
        raise InboundError("a user_uttered event carries a JSON object")
    raw = data.get("message")
    text, notes = prepare_text(raw if isinstance(raw, str) else "", max_chars, client_intents)
    metadata = _client_metadata(data.get("metadata") or data.get("customData") or {})
    language = metadata.get("language")
    if isinstance(language, str) and _LANGUAGE_CODE.fullmatch(language.strip().lower()):
        notes["page_language"] = language.strip().lower()
    if notes:
        metadata["teranga"] = notes
    return text, metadata


def checked_client_intents(intents: Any) -> frozenset[str]:
    """credentials.yml's `client_intents` for the web chat: the intents a client may send as
    a payload (`/greet`); anything else stops the server at start."""
    if intents is None:
        return frozenset()
    if isinstance(intents, str) or not isinstance(intents, list | tuple) or not all(
            isinstance(name, str) and _INTENT_NAME.fullmatch(name) for name in intents):
        raise ValueError(f"client_intents must be a list of intent names, such as [greet], "
                         f"not {intents!r}")
    return frozenset(intents)


def allowed_origins(configured: Iterable[str]) -> set[str] | None:
    """TERANGA_WEBCHAT_ORIGINS checked: None when any site may open the web chat (`*`), else
    the origins listed (the server's own pages always may: `origin_allowed`). A value that
    is not an origin raises ValueError, which stops the server at start."""
    values = [value.strip() for value in configured if value.strip()]
    if "*" in values:
        if len(values) > 1:
            raise ValueError("TERANGA_WEBCHAT_ORIGINS: `*` (any site) or a list of origins, "
                             f"not both: {', '.join(values)}")
        return None
    return checked_origins(values, "TERANGA_WEBCHAT_ORIGINS")


def origin_allowed(origin: str | None, environ: dict, allowed: set[str]) -> bool:
    """Whether a page at `origin` may open the web chat: one of `allowed`, or the server's
    own origin (its Host, or the X-Forwarded-Proto and -Host a proxy sets, as python-engineio
    defines the same origin). A request without an Origin is not a browser's page."""
    if not origin:
        return True
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return True
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    own = {f"{scheme}://{host}".lower()}
    if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
        proxied = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
        proxied_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        own.add(f"{proxied}://{proxied_host}".lower())
    return origin in own


def opens_with_polling(environ: dict) -> bool:
    """Whether a socket opened with Engine.IO long-polling, as socket.io-client does, which
    every library-built Rasa widget uses (rasa-webchat, Chatroom, Botfront's). The project's
    widget, and clients that speak the protocol themselves, open a WebSocket at once."""
    return parse_qs(environ.get("QUERY_STRING", "")).get("transport") == ["polling"]


def rasa_widget_room(session_id: str) -> str:
    """The socket.io room of a conversation's sockets that get `for_rasa_widgets` messages;
    the others are in the room named by the conversation id."""
    return f"rasa-widgets:{session_id}"


def for_rasa_widgets(message: dict[str, Any], entry_id: str | None) -> dict[str, Any]:
    """A message to the customer as Rasa's socket.io channel sends it, which rasa-webchat
    draws only so: its own keys alone at the top (a text is `{"text"}`; with choices
    `{"text", "quick_replies"}`; an image `{"attachment"}`), and the project's under
    `metadata`, which it passes over (the transcript `id`; an agent's `agent`, `agent_name`).
    An agent's name also starts the text, in bold: the customer sees that a person writes."""
    ours = {key: message[key] for key in ("agent", "agent_name") if message.get(key)}
    shown = {key: value for key, value in message.items()
             if key not in ("agent", "agent_name", "id")}
    name = ours.get("agent_name") or ours.get("agent")
    if name and isinstance(shown.get("text"), str):
        escaped = _MARKDOWN.sub(r"\\\g<0>", str(name))
        shown["text"] = f"**{escaped}**: {shown['text']}"
    metadata = {**({"id": entry_id} if entry_id else {}), **ours}
    return {**shown, "metadata": metadata} if metadata else shown


def _client_metadata(metadata: Any) -> dict:
    """What the widget attached, as every channel accepts it; some widgets send a JSON
    string. Anything else is dropped: the message itself is fine, so it is kept."""
    try:
        if isinstance(metadata, str):
            metadata = parse_json_object(metadata.encode("utf-8", "surrogatepass"), "{...}")
        return client_metadata(metadata if isinstance(metadata, dict) else {})
    except InboundError:
        return {}


def read_labels(folder: Path = LABELS, default: str | None = None) -> dict[str, Any]:
    """The widget's texts: {"default": <code>, "languages": {<code>: {key: text}}}, each
    language's texts completed with the default language's (config.yml)."""
    default = default or default_language(folder.parent)
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected `key: text` lines")
        found[path.stem] = {str(key): str(text) for key, text in data.items()
                            if isinstance(text, str | int | float)}
    base = found.get(default, {})
    return {"default": default,
            "languages": {code: {**base, **texts} for code, texts in found.items()}}


_script_cache: dict[tuple, str] = {}


def widget_script(folder: Path = LABELS, default: str | None = None) -> str:
    """widget.js as served: with every language's texts written in (read again when a
    labels file, widget.js or config.yml changes)."""
    source = STATIC / "widget.js"
    files = [source, folder.parent / "config.yml", *sorted(folder.glob("*.yml"))]
    stamp = (str(folder), default, *((str(f), f.stat().st_mtime_ns) for f in files
                                     if f.exists()))
    if stamp not in _script_cache:
        labels = json.dumps(read_labels(folder, default), ensure_ascii=False,
                            separators=(",", ":"))
        _script_cache.clear()
        _script_cache[stamp] = source.read_text("utf-8").replace(LABELS_MARK, labels, 1)
    return _script_cache[stamp]


LISTEN_CHECK_SECONDS = 1.0
LISTEN_RETRY_SECONDS = 0.2


class SocketManager(AsyncRedisManager):
    """socket.io's Redis manager (which lets any Rasa process emit to a socket another one
    holds) over Teranga's own Redis client, so that it follows a Sentinel failover too:
    python-socketio's own sentinel URL has no place for the sentinels' password."""

    def _redis_connect(self) -> None:  # python-socketio 5.x; called again on each retry
        self.redis = async_redis(self.redis_url, **self.redis_options)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def _redis_listen_with_retries(self):  # python-socketio 5.x's listening loop
        """python-socketio's loop with two changes. What is published while no process
        listens is lost (pub/sub keeps nothing), so a lost subscription is made again after
        LISTEN_RETRY_SECONDS, where python-socketio waits 1 s, then 2, 4... up to 60. And
        with Sentinel, each second without a message, the subscription checks that its
        server is still the master: one that went silent sends no reset. Once subscribed
        again, this process's sockets are closed, so that their widgets, reconnecting, ask
        for what they missed (bench/cluster.py lost 15 web-chat replies, published to a
        master cut off the network, without it)."""
        lost = False
        while True:
            # Its own: a failed publish reconnects, replacing self.pubsub (python-socketio).
            self._redis_connect()
            pubsub = self.pubsub
            try:
                await pubsub.subscribe(self.channel)
                if lost:
                    lost = False
                    asyncio.get_running_loop().create_task(self._send_sockets_back())
                while True:
                    message = await pubsub.get_message(timeout=LISTEN_CHECK_SECONDS)
                    if message is not None:
                        yield message
                    elif not await still_on_master(pubsub):
                        raise RedisError("the subscription's server is no longer the master")
            except Exception as error:  # noqa: BLE001 - python-socketio's loop does the same
                logger.warning("The web chat's subscription to Redis failed (%s): subscribing "
                               "again", error)
                try:  # its connection back to nothing (a silent server's would hang on)
                    await pubsub.reset()
                except Exception:  # noqa: BLE001 - the connection is already broken
                    pass
                lost = True
                await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _send_sockets_back(self) -> None:
        """Close this process's sockets (here only, not through Redis): a widget comes back
        with `session_request` `after` its last transcript id and gets what it missed."""
        closed = 0
        for namespace in list(self.get_namespaces()):
            for sid, _eio_sid in list(self.get_participants(namespace, None)):
                await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
                closed += 1
        logger.warning("The web chat's subscription was lost for a while: %d socket(s) "
                       "closed, to come back for what they missed", closed)
