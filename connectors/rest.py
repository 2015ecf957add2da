"""Rasa's REST channel with validated input: malformed requests get a 400 and a reason.

Same URL and wire format as Rasa's own (`POST /webhooks/rest/webhook`).
"""

from __future__ import annotations

import logging
import time

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from redis.exceptions import RedisError, ResponseError
from sanic import Blueprint, response
from sanic.request import Request

from connectors.outputs import OutboxOutputChannel, after_turn_messages, stored_replies
from teranga import conversation_ids
from teranga.channels import flood
from teranga.channels.inbound import Inbound, InboundError, parse_rest_body
from teranga.channels.outbox import Outbox, outbox_position, outbox_wait
from teranga.channels.pipeline import INTAKE_ID
from teranga.channels.secret_context import remove_secret_sent_after_its_name
from teranga.observability import metrics
from teranga.observability.logs import set_conversation
from teranga.privacy.notice import NoticesGiven
from teranga.settings import Settings

logger = logging.getLogger(__name__)


class RestInput(RasaRestInput):
    """Replies come back in the HTTP response; messages sent later (an agent's) wait in an
    outbox that the client collects with `GET /webhooks/rest/outbox?sender=...&after=...`.
    The outbox keeps every message after the client's last `after` (its read position) and
    lets go only of what it has read past, or what is 30 days old (teranga/channels/outbox.py)."""

    def __init__(self) -> None:
        self._outbox: Outbox | None = None

    @classmethod
    def name(cls) -> str:
        return "rest"

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:  # created in the server's event loop, on first use
            self._outbox = Outbox()
        return self._outbox

    @property
    def notices(self) -> NoticesGiven:
        return NoticesGiven(self.outbox.client)

    def get_output_channel(self) -> OutboxOutputChannel:
        return OutboxOutputChannel(self.outbox)

    def blueprint(self, on_new_message) -> Blueprint:
        webhook = Blueprint(f"teranga_{self.name()}_webhook", __name__)
        max_chars = Settings.from_env().max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            accepted_at = time.time()
            try:
                inbound = parse_rest_body(request.body, max_chars)
            except InboundError as error:
                logger.warning("Refused a REST request: %s", error.reason)
                return response.json({"error": error.reason}, status=error.status)
            set_conversation(inbound.sender)
            verdict = await flood.check(self.outbox.client, inbound.sender)
            if not verdict.allowed:
                return response.json(
                    {"error": f"more than {flood.max_messages()} messages in "
                              f"{flood.WINDOW_SECONDS} s in this conversation; send it again "
                              f"in {verdict.retry_after} s"},
                    status=429, headers={"Retry-After": str(verdict.retry_after)})
            collector = CollectingOutputChannel()
            try:
                if inbound.message_id:
                    answered = await _answered_before(request, inbound)
                    if answered is not None:  # sent as the turn sent them
                        for reply in answered:
                            await collector.send_response(inbound.sender, reply)
                        return response.json(collector.messages)
                text, metadata = await remove_secret_sent_after_its_name(
                    self.outbox.client, inbound.sender, inbound.text, inbound.metadata)
                if inbound.message_id:
                    metadata.setdefault("teranga", {})[INTAKE_ID] = inbound.message_id
                await on_new_message(UserMessage(text, collector, inbound.sender,
                                                 input_channel=self.name(),
                                                 metadata=metadata))
                added = await after_turn_messages(getattr(request.app.ctx, "agent", None),
                                                  self.name(), inbound.sender, metadata,
                                                  self.notices)
                collector.messages += [collector._message(
                    inbound.sender, text=message.get("text"), buttons=message.get("buttons"))
                    for message in added]
            except Exception:  # the request was fine; say so and keep the trace in the log
                logger.exception("Failed to process a message from %s", inbound.sender)
                return response.json({"error": "the assistant failed to process this "
                                      "message; the failure is logged"}, status=503)
            metrics.replied(self.name(), accepted_at)
            return response.json(collector.messages)

        @webhook.route("/outbox", methods=["GET"])
        async def collect(request: Request):
            sender = request.args.get("sender") or ""
            why = conversation_ids.refusal(sender, conversation_ids.REST)
            if why:  # another channel's conversation is not read here
                return response.json({"error": f"'sender': {why}"}, status=400)
            try:
                after, wait = outbox_position(request.args.get("after")), \
                    outbox_wait(request.args.get("wait"))
                messages = await self.outbox.read(sender, after, wait)
            except (ValueError, ResponseError):
                return response.json({"error": "'after' must be a message id such as "
                                      "1700000000000-0 and 'wait' a number of seconds"},
                                     status=400)
            except RedisError:
                logger.exception("The outbox of %s could not be read", sender)
                return response.json({"error": "messages cannot be read right now; "
                                      "try again shortly"}, status=503)
            return response.json({"messages": messages,
                                  "next": messages[-1]["id"] if messages else after})

        return webhook


async def _answered_before(request: Request, inbound: Inbound) -> list[dict] | None:
    """The replies to this message id if its turn is stored already (the client sends it
    again: its first request failed, or a load balancer tried it on another process after
    the first died), as the tracker holds them; else None."""
    agent = getattr(request.app.ctx, "agent", None)
    stored = await stored_replies(getattr(agent, "tracker_store", None), inbound.sender,
                                  inbound.message_id)
    if stored is None:
        return None
    logger.info("A REST message sent again was answered before: its replies are sent, the "
                "turn is not run again")
    return stored
