"""Rasa's REST channel with validated input: malformed requests get a 400 and a reason.

Same URL and wire format as Rasa's own (`POST /webhooks/rest/webhook`).
"""

from __future__ import annotations

import logging

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request

from teranga.channels.inbound import InboundError, parse_rest_body
from teranga.settings import Settings

logger = logging.getLogger(__name__)


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message) -> Blueprint:
        webhook = Blueprint(f"teranga_{self.name()}_webhook", __name__)
        max_chars = Settings.from_env().max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            try:
                inbound = parse_rest_body(request.body, max_chars)
            except InboundError as error:
                logger.warning("Refused a REST request: %s", error.reason)
                return response.json({"error": error.reason}, status=error.status)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(inbound.text, collector, inbound.sender,
                                                 input_channel=self.name(),
                                                 metadata=inbound.metadata))
            except Exception:  # the request was fine; say so and keep the trace in the log
                logger.exception("Failed to process a message from %s", inbound.sender)
                return response.json({"error": "the assistant failed to process this "
                                      "message; the failure is logged"}, status=503)
            return response.json(collector.messages)

        return webhook
