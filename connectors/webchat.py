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
import uuid
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import response
from sanic.request import Request
from socketio import AsyncRedisManager, AsyncServer

from teranga.channels.webchat import STATIC, read_user_message, session_id_of
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

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            session_id = session_id_of(data) or uuid.uuid4().hex
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            message = read_user_message(data, max_chars)
            if message is None:
                logger.warning("Ignored a web chat message without a valid session_id")
                return
            text, session_id, metadata = message
            await on_new_message(UserMessage(
                text, WebChatOutput(sio, self.bot_message_evt), session_id,
                input_channel=self.name(), metadata=metadata))

        return webhook
