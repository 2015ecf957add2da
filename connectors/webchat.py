"""The web chat channel: Rasa's socket.io protocol (events `session_request`,
`session_confirm`, `user_uttered`, `bot_uttered`), so existing Rasa web-chat widgets work,
plus the project's own widget (`/webhooks/socketio/widget.js`, one script tag) and a demo page
(`/webhooks/socketio/demo`).

Two differences from Rasa's own channel: every socket joins the room of its session (Rasa
3.6.21 forgets to await `enter_room`, so with session persistence no bot message reached the
widget), and sockets are managed through Redis (socket.io's AsyncRedisManager), so an
agent's reply sent by any Rasa process reaches the customer's socket."""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import response
from sanic.request import Request
from socketio import AsyncRedisManager, AsyncServer

from teranga.channels import flood
from teranga.channels.inbound import InboundError
from teranga.channels.shared import redis_client
from teranga.channels.webchat import (
    STATIC,
    WebChatSessions,
    read_user_message,
    requested_session_id,
)
from teranga.settings import Settings

logger = logging.getLogger(__name__)


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, telling an agent's messages apart (`agent`, `agent_name`)."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        who = {key: kwargs[key] for key in ("agent", "agent_name") if kwargs.get(key)}
        for part in text.strip().split("\n\n"):  # as Rasa's: one bubble per paragraph
            await self._send_message(recipient_id, {"text": part, **who})


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "socketio"  # Rasa's name: widgets and `output_channel=latest` find it

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(**(credentials or {}))

    def __init__(self, user_message_evt: str = "user_uttered",
                 bot_message_evt: str = "bot_uttered", socketio_path: str = "/socket.io",
                 **_ignored: Any) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.sio: AsyncServer | None = None
        self._sessions: WebChatSessions | None = None

    def get_output_channel(self) -> OutputChannel | None:
        return WebChatOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message) -> SocketBlueprint:
        manager = AsyncRedisManager(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") \
            else None
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[],
                          client_manager=manager)
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "teranga_socketio_webhook",
                                  __name__)
        max_chars = Settings.from_env().max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @webhook.route("/widget.js", methods=["GET"])
        async def widget(_: Request):
            return response.text((STATIC / "widget.js").read_text("utf-8"),
                                 content_type="text/javascript; charset=utf-8")

        @webhook.route("/demo", methods=["GET"])
        async def demo(_: Request):
            return response.html((STATIC / "demo.html").read_text("utf-8"))

        # A client may emit an event with no argument or several: take the first, if any.
        @sio.on("session_request")
        async def session_request(sid: str, *args: Any) -> None:
            await self._confirm_session(sid, requested_session_id(args[0] if args else None))

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, *args: Any) -> None:
            data = args[0] if args else None
            try:
                text, metadata = read_user_message(data, max_chars)
            except InboundError as error:
                logger.warning("Ignored a web chat event: %s", error.reason)
                return
            session_id = await self._session_of(sid, data)
            if session_id is None:
                return
            if not (await flood.check(self._sessions.client, session_id)).allowed:
                return  # logged by the flood guard; no person types this fast
            await on_new_message(UserMessage(
                text, WebChatOutput(sio, self.bot_message_evt), session_id,
                input_channel=self.name(), metadata=metadata))

        return webhook

    async def _confirm_session(self, sid: str, requested: str | None) -> str:
        """Bind the socket to the conversation it may speak in: the one it asked for if
        this server issued it, else a new one."""
        if self._sessions is None:  # made in the server's event loop, on first use
            self._sessions = WebChatSessions(redis_client())
        session_id = await self._sessions.resume_or_issue(requested)
        await self.sio.save_session(sid, {"session_id": session_id})
        await self.sio.enter_room(sid, session_id)
        await self.sio.emit("session_confirm", session_id, room=sid)
        return session_id

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
