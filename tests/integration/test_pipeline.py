"""The durable intake and delivery queues on real Redis: what is accepted is processed once,
in order per conversation, by whichever process is alive; a turn stored by a process that
then died is not run again, its replies are delivered."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered

from connectors.outputs import RasaTurns
from teranga.channels import ordered_queue
from teranga.channels.pipeline import INTAKE_ID, Pipeline


class Recorder(OutputChannel):
    """The channel's real sender, as the tests see it."""

    def __init__(self, sent: list) -> None:
        self.sent = sent

    async def send_response(self, recipient_id, message) -> None:
        self.sent.append((recipient_id, message["text"]))


class Bot:
    """Rasa's part: stores the turn in a tracker store and replies "re: <text>"."""

    def __init__(self, slow: float = 0.0) -> None:
        self.store = InMemoryTrackerStore(Domain.empty())
        self.turns: list[tuple[str, str]] = []
        self.slow = slow

    async def on_new_message(self, message) -> None:
        await asyncio.sleep(self.slow)
        self.turns.append((message.sender_id, message.text))
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, metadata=message.metadata))
        tracker.update(BotUttered(f"re: {message.text}"))
        await self.store.save(tracker)
        await message.output_channel.send_response(message.sender_id,
                                                   {"text": f"re: {message.text}"})


def pipeline_for(url: str, prefix: str, bot: Bot, sent: list) -> Pipeline:
    pipeline = Pipeline(aioredis.Redis.from_url(url), prefix)
    pipeline.register("sms", Recorder(sent).send_response)
    pipeline.turns = RasaTurns(bot.on_new_message, bot.store)
    return pipeline


async def wait_for(condition, timeout: float = 15.0) -> None:
    """Until `condition()` (a value, or a coroutine's) is true."""
    deadline = time.monotonic() + timeout
    while not await _value(condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


async def _value(result):
    return await result if asyncio.iscoroutine(result) else result


async def finished(pipeline: Pipeline, conversation: str) -> bool:
    """Whether every message queued for the conversation had its turn and each reply was
    sent: each queue's `done` counter has reached its `seq`."""
    for queue in (pipeline.intake, pipeline.delivery):
        seq = int(await queue.client.hget(queue.conversation_key(conversation), "seq") or 0)
        if await queue.done(conversation) < seq:
            return False
    return True


def test_each_message_is_processed_once_and_in_order_by_two_processes(real_redis_url,
                                                                       prefix):
    async def scenario():
        bot, sent = Bot(slow=0.01), []
        first = pipeline_for(real_redis_url, prefix, bot, sent)
        second = pipeline_for(real_redis_url, prefix, bot, sent)
        await first.start()
        await second.start()
        customers = [f"+22177{n:07d}" for n in range(5)]
        for number in range(20):
            for customer in customers:
                assert await first.accept("sms", customer, f"{customer}-{number}", str(number))
        assert not await second.accept("sms", customers[0], f"{customers[0]}-3", "3")  # again
        await wait_for(lambda: len(sent) == 100)
        await first.stop()
        await second.stop()
        for customer in customers:
            said = [text for sender, text in bot.turns if sender == customer]
            assert said == [str(n) for n in range(20)]
            replies = [text for recipient, text in sent if recipient == customer]
            assert replies == [f"re: {n}" for n in range(20)]

    asyncio.run(scenario())


def test_a_stopped_consumers_messages_are_taken_over(real_redis_url, prefix, monkeypatch):
    monkeypatch.setattr(ordered_queue, "DEAD_AFTER_SECONDS", 1.0)

    async def scenario():
        stuck, sent = Bot(slow=3600), []  # holds its messages, then dies with them
        dying = pipeline_for(real_redis_url, prefix, stuck, sent)
        await dying.start()
        for number in range(3):
            await dying.accept("sms", "+221770000001", f"m{number}", str(number))
        await wait_for(lambda: len(dying._consumers[0]._held) == 3)
        for consumer in dying._consumers:  # killed: no goodbye, no heartbeat
            for task in [*consumer._tasks, *consumer._workers.values()]:
                task.cancel()
        bot = Bot()
        survivor = pipeline_for(real_redis_url, prefix, bot, sent)
        await survivor.start()
        await wait_for(lambda: len(sent) == 3)
        await survivor.stop()
        assert [text for _, text in sent] == ["re: 0", "re: 1", "re: 2"]
        assert await survivor.intake.pending_count() == 0

    asyncio.run(scenario())


def test_an_entry_read_for_a_consumer_that_never_received_it_is_taken(real_redis_url, prefix,
                                                                     monkeypatch):
    """The master gave an entry to a consumer and replicated that, but its reply was lost
    (the master's host dropped off the network): the entry waited, pending for a live
    consumer, for STUCK_SECONDS (5 minutes), its conversation behind it; bench/cluster.py
    counted the SMS as lost. The consumer now takes its own entries it does not hold."""
    name = f"test-consumer-{time.monotonic_ns()}"
    monkeypatch.setattr(ordered_queue, "consumer_name", lambda: name)
    monkeypatch.setattr(ordered_queue, "UNRECEIVED_SECONDS", 0.5)

    async def scenario():
        bot, sent = Bot(), []
        pipeline = pipeline_for(real_redis_url, prefix, bot, sent)
        await pipeline.intake.ensure_group()
        await pipeline.accept("sms", "+221770000009", "unreceived-1", "hello")
        await pipeline.intake.client.xreadgroup(pipeline.intake.group, name,
                                                {pipeline.intake.stream: ">"})
        await pipeline.start()
        try:
            await wait_for(lambda: sent == [("+221770000009", "re: hello")], timeout=10)
        finally:
            await pipeline.stop()

    asyncio.run(scenario())


def test_a_turn_stored_before_its_process_died_is_not_run_again(real_redis_url, prefix,
                                                                 monkeypatch):
    monkeypatch.setattr(ordered_queue, "DEAD_AFTER_SECONDS", 1.0)

    async def scenario():
        bot, sent, stored = Bot(), [], asyncio.Event()

        async def store_then_hang(message):
            await bot.on_new_message(message)  # the turn is in the tracker...
            stored.set()
            await asyncio.sleep(3600)  # ...and the process dies before acknowledging it

        dying = pipeline_for(real_redis_url, prefix, bot, sent)
        dying.turns = RasaTurns(store_then_hang, bot.store)
        await dying.start()
        await dying.accept("sms", "+221770000002", "only", "bonjour")
        await asyncio.wait_for(stored.wait(), 10)
        for consumer in dying._consumers:
            for task in [*consumer._tasks, *consumer._workers.values()]:
                task.cancel()
        survivor = pipeline_for(real_redis_url, prefix, bot, sent)
        await survivor.start()
        await wait_for(lambda: len(sent) == 1)
        await wait_for(lambda: finished(survivor, "+221770000002"))
        await survivor.stop()
        assert bot.turns == [("+221770000002", "bonjour")]  # one turn, not two
        assert sent == [("+221770000002", "re: bonjour")]
        tracker = await bot.store.retrieve("+221770000002")
        user = [e for e in tracker.events if isinstance(e, UserUttered)]
        assert [e.metadata["teranga"][INTAKE_ID] for e in user] == ["only"]

    asyncio.run(scenario())


def test_accepting_while_redis_is_down_raises_rather_than_pretending():
    async def scenario():
        pipeline = Pipeline(aioredis.Redis(port=1, socket_connect_timeout=0.5))
        with pytest.raises(aioredis.ConnectionError):
            await pipeline.accept("sms", "+221770000003", "x", "bonjour")

    asyncio.run(scenario())


def test_a_graceful_stop_finishes_the_turn_in_hand_and_leaves_the_rest(real_redis_url,
                                                                         prefix, monkeypatch):
    # A consumer that merely stopped beating would keep its entries for an hour: the survivor
    # gets them at once only because the stopped one left the group.
    monkeypatch.setattr(ordered_queue, "DEAD_AFTER_SECONDS", 3600.0)

    async def scenario():
        bot, sent = Bot(slow=0.5), []
        stopping = pipeline_for(real_redis_url, prefix, bot, sent)
        await stopping.start()
        for number in range(4):
            await stopping.accept("sms", "+221770000004", f"g{number}", str(number))
        await wait_for(lambda: len(stopping._consumers[0]._held) == 4)
        await stopping.stop()
        assert [text for _, text in sent] == ["re: 0"]  # finished and delivered, no more
        survivor = pipeline_for(real_redis_url, prefix, bot, sent)
        await survivor.start()
        await wait_for(lambda: len(sent) == 4)  # at once: long before DEAD_AFTER_SECONDS
        await survivor.stop()
        assert [text for _, text in bot.turns] == ["0", "1", "2", "3"]
        assert [text for _, text in sent] == ["re: 0", "re: 1", "re: 2", "re: 3"]

    asyncio.run(scenario())


def test_delivery_statuses_never_read_the_delivery_queues_keys(client, real_redis_url):
    """A REST conversation may be called anything: its delivery statuses, which the desk
    reads, must not be the delivery queue's counters of another conversation."""
    from teranga.channels.delivery_status import statuses

    counters = "teranga:delivery:conversation:+221770000077"
    client.hset(counters, mapping={"seq": 3, "done": 3})
    reader = aioredis.Redis.from_url(real_redis_url)
    try:
        assert asyncio.run(statuses(reader, "conversation:+221770000077")) == {}
    finally:
        client.delete(counters)
