"""The web chat channel: Rasa's socket.io protocol (events `session_request`,
`session_confirm`, `user_uttered`, `bot_uttered`), so existing Rasa web-chat widgets work,
plus the project's own widget (`/webhooks/socketio/widget.js`, one script tag) and a demo page
(`/webhooks/socketio/demo`).

Two differences from Rasa's own channel: every socket joins the room of its session (Rasa
3.6.21 forgets to await `enter_room`, so with session persistence no bot message reached the
widget), and sockets are managed through Redis (socket.io's AsyncRedisManager), so an
agent's reply sent by any Rasa process reaches the customer's socket.

Nothing is lost while the customer is away (teranga/channels/widget/__init__.py):

- `user_uttered` may carry `client_id` (the widget's random id for the message) and ask for
  a Socket.IO acknowledgement. The message goes to the durable pipeline
  (teranga/channels/pipeline.py) and the ack says `{"status": "sent", "id": <transcript id>}`
  once it is stored, also for a resend of an id already accepted (which is not processed
  again); `{"status": "retry", "after": <seconds>}` when it could not be stored now or the
  conversation writes too fast; `{"status": "refused", "reason": ...}` when it never will be.
- Every message to the widget is recorded in the conversation's transcript, then emitted
  with its transcript id (`bot_uttered` `{"id", "text", ...}`).
- `session_request` `{"session_id", "after"}`: with an `after` key (null or the last
  transcript id the widget has), a resumed conversation's missed messages, both sides, come
  back to that socket only as `transcript` `{"session_id", "messages": [...]}`. Widgets that
  send no `after` (rasa-webchat) get no replay, as before.

For widgets embedded in other sites (rasa-webchat), as docs/configuration.md says:

- TERANGA_WEBCHAT_ORIGINS (default `*`) says which sites' pages may open the socket; the
  server's own pages always may, and no cookie is involved.
- A socket that opens with long-polling (socket.io-client's way, rasa-webchat's) and asks for
  no transcript gets messages as Rasa's own channel sends them (`for_rasa_widgets`: the
  transcript id and an agent's identity under `metadata`, the agent's name in bold before
  the text); the others get them as before.
- `client_intents` (credentials.yml) lists the intents a client may send as payloads
  (`/greet`: an initPayload, a button); any other leading slash stays escaped. The page's
  language (`customData: {"language": "wo"}`) is where the language detector starts."""

from __future__ import annotations

import html
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from redis.exceptions import RedisError
from sanic import response
from sanic.request import Request
from socketio import AsyncServer

from connectors.outputs import QueuedOutput, RasaTurns
from teranga import languages
from teranga.channels import flood
from teranga.channels.inbound import InboundError
from teranga.channels.outbox import Outbox
from teranga.channels.pipeline import Pipeline
from teranga.channels.secret_context import remove_secret_sent_after_its_name
from teranga.channels.shared import redis_client
from teranga.channels.widget import (
    STATIC,
    SocketManager,
    WebChatSessions,
    allowed_origins,
    bot_entry,
    checked_client_intents,
    client_message_id,
    customer_entry,
    for_rasa_widgets,
    intake_message_id,
    missed,
    opens_with_polling,
    origin_allowed,
    rasa_widget_room,
    read_user_message,
    requested_session_id,
    transcript,
    widget_script,
)
from teranga.observability import metrics
from teranga.settings import Settings

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5  # what a widget is told to wait when its message could not be stored


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, telling an agent's messages apart (`agent`, `agent_name`),
    recording each message in the conversation's transcript before emitting it with its
    transcript id. This is the channel's direct output: the pipeline's delivery worker sends
    through it (a RedisError makes the worker try again later).

    Each message goes out in two forms, each to its room: with the transcript `id`, `agent`
    and `agent_name` beside the text (the project's widget, clients that speak the protocol
    themselves), and as Rasa's own channel sends it, those under `metadata`, for Rasa's
    widgets (rasa-webchat draws a text only when it is alone): `for_rasa_widgets`."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, messages: Outbox) -> None:
        super().__init__(sio, bot_message_evt)
        self.messages = messages

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        who = {key: kwargs[key] for key in ("agent", "agent_name") if kwargs.get(key)}
        for part in text.strip().split("\n\n"):  # as Rasa's: one bubble per paragraph
            await self._send_message(recipient_id, {"text": part, **who})

    async def _send_message(self, socket_id: str, response: Any) -> None:
        entry_id = await self.messages.put(socket_id, bot_entry(response))
        await self.sio.emit(self.bot_message_evt, {**response, "id": entry_id}, room=socket_id)
        await self.sio.emit(self.bot_message_evt, for_rasa_widgets(response, entry_id),
                            room=rasa_widget_room(socket_id))


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "socketio"  # Rasa's name: widgets and `output_channel=latest` find it

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(**(credentials or {}))

    def __init__(self, user_message_evt: str = "user_uttered",
                 bot_message_evt: str = "bot_uttered", socketio_path: str = "/socket.io",
                 client_intents: list[str] | None = None, **_ignored: Any) -> None:
        # The intents a widget may send as Rasa payloads (`/greet`: rasa-webchat's
        # initPayload, buttons); any other leading slash is escaped, so it stays text.
        self.client_intents = checked_client_intents(client_intents)
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.sio: AsyncServer | None = None
        self._sessions: WebChatSessions | None = None
        self._transcript: Outbox | None = None

    @property
    def pipeline(self) -> Pipeline:
        return Pipeline.shared()  # the process's one pipeline, made on first use

    @property
    def sessions(self) -> WebChatSessions:
        if self._sessions is None:  # made in the server's event loop, on first use
            self._sessions = WebChatSessions(redis_client())
        return self._sessions

    @property
    def transcript(self) -> Outbox:
        if self._transcript is None:
            self._transcript = transcript(self.sessions.client)
        return self._transcript

    def get_output_channel(self) -> OutputChannel:
        return QueuedOutput(self.pipeline, self.name())

    def direct_output(self) -> WebChatOutput:
        return WebChatOutput(self.sio, self.bot_message_evt, self.transcript)

    async def send(self, recipient: str, message: dict[str, Any]) -> None:
        """The delivery queue's sender for this channel: the socket and the transcript."""
        await self.direct_output().send_response(recipient, message)
        metrics.delivery(self.name(), "sent")

    def blueprint(self, on_new_message) -> SocketBlueprint:
        settings = Settings.from_env()
        # Timeouts as the channels' own client: a publish to a master gone silent fails after
        # 5 s and python-socketio tries it again on a new connection (the new master).
        manager = SocketManager(settings.redis_url, redis_options={
            "socket_timeout": 5, "socket_connect_timeout": 2}) if settings.redis_url else None
        # TERANGA_WEBCHAT_ORIGINS: which sites' pages may open the socket (a wrong value
        # stops the server here). No cookie is ever involved: the conversation id is the
        # page's own, sent in `session_request`.
        allowed = allowed_origins(settings.webchat_origins)
        sio = AsyncServer(async_mode="sanic", client_manager=manager, cors_credentials=False,
                          cors_allowed_origins="*" if allowed is None else
                          (lambda origin, environ: origin_allowed(origin, environ, allowed)))
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "teranga_socketio_webhook",
                                  __name__)
        self.pipeline.register(self.name(), self.send)
        self.pipeline.attach(webhook, RasaTurns.maker(on_new_message))
        max_chars = settings.max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @webhook.route("/widget.js", methods=["GET"])
        async def widget(_: Request):
            # The widget's texts in every language are written into it: one request.
            return response.text(widget_script(),
                                 content_type="text/javascript; charset=utf-8")

        @webhook.route("/demo", methods=["GET"])
        async def demo(_: Request):
            # The languages come from data (data/nlu/ and languages.yml), not the page.
            page = (STATIC / "demo.html").read_text("utf-8")
            return response.html(page.replace("{{languages}}",
                                              html.escape(languages.spoken_in_english())))

        @sio.on("connect")
        async def connect(sid: str, environ: dict, *_auth: Any) -> None:
            await sio.save_session(sid, {"rasa_widget": opens_with_polling(environ)})

        # A client may emit an event with no argument or several: take the first, if any.
        @sio.on("session_request")
        async def session_request(sid: str, *args: Any) -> None:
            data = args[0] if args else None
            requested = requested_session_id(data)
            # A widget that asks for the transcript (`after`) is the project's.
            keeps_history = isinstance(data, dict) and "after" in data
            session_id = await self._confirm_session(sid, requested, not keeps_history)
            if isinstance(data, dict) and "after" in data:  # a widget that keeps no history
                await self._replay(sid, session_id, data["after"],
                                   resumed=session_id == requested)

        # The return value is the Socket.IO acknowledgement, for widgets that ask for one.
        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, *args: Any) -> dict:
            data = args[0] if args else None
            try:
                text, metadata = read_user_message(data, max_chars, self.client_intents)
            except InboundError as error:
                logger.warning("Ignored a web chat event: %s", error.reason)
                return {"status": "refused", "reason": error.reason}
            session_id = await self._session_of(sid, data)
            if session_id is None:
                return {"status": "refused", "reason": "not this socket's conversation"}
            verdict = await flood.check(self.sessions.client, session_id)
            if not verdict.allowed:  # logged by the flood guard; no person types this fast
                return {"status": "retry", "after": verdict.retry_after}
            client_id = client_message_id(data)
            try:
                text, metadata = await remove_secret_sent_after_its_name(
                    self.sessions.client, session_id, text, metadata)
                accepted = await self.pipeline.accept(
                    self.name(), session_id, intake_message_id(session_id, client_id), text,
                    metadata)
            except RedisError:  # not stored: the widget keeps it and sends it again
                logger.exception("Could not accept a web chat message of %s", session_id)
                return {"status": "retry", "after": RETRY_SECONDS}
            entry_id = None
            if accepted:
                try:
                    entry_id = await self.transcript.put(
                        session_id, customer_entry(text, metadata, data, client_id))
                except RedisError:  # accepted all the same: only a reload will not show it
                    logger.exception("Could not record a message of %s in its transcript",
                                     session_id)
            return {"status": "sent", "id": entry_id}

        return webhook

    async def _confirm_session(self, sid: str, requested: str | None,
                               may_be_rasa_widget: bool = True) -> str:
        """Bind the socket to the conversation it may speak in: the one it asked for if
        this server issued it, else a new one. A socket that opened with long-polling, as
        socket.io-client does, and asks for no transcript, is a Rasa widget's (rasa-webchat):
        it joins the room of the messages in Rasa's own form."""
        session_id = await self.sessions.resume_or_issue(requested)
        session = await self.sio.get_session(sid)
        rasa_widget = may_be_rasa_widget and session.get("rasa_widget", False)
        room = rasa_widget_room(session_id) if rasa_widget else session_id
        if session.get("room") not in (None, room):
            await self.sio.leave_room(sid, session["room"])
        await self.sio.save_session(sid, {**session, "session_id": session_id, "room": room})
        await self.sio.enter_room(sid, room)
        await self.sio.emit("session_confirm", session_id, room=sid)
        return session_id

    async def _replay(self, sid: str, session_id: str, after: Any, resumed: bool) -> None:
        """What this socket's widget missed, to this socket only; nothing for a new
        conversation."""
        messages: list[dict] = []
        if resumed:
            try:
                messages = await missed(self.transcript, session_id, after)
            except RedisError:
                logger.exception("Could not read the transcript of %s", session_id)
        await self.sio.emit("transcript", {"session_id": session_id, "messages": messages},
                            room=sid)

    async def _session_of(self, sid: str, data: Any) -> str | None:
        """The conversation this socket holds; a message naming another one is refused
        (a socket speaks only in the conversation the server gave it)."""
        bound = (await self.sio.get_session(sid)).get("session_id")
        if bound is None:  # a widget that never asked for a session: give it one
            bound = await self._confirm_session(sid, None)
        named = data.get("session_id") if isinstance(data, dict) else None
        if named and named != bound:
            logger.warning("Refused a web chat message for %r from a socket bound to %s",
                           str(named)[:40], bound)
            return None
        return bound
