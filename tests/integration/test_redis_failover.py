"""Teranga's Redis clients through real sentinels (tests/redis_sentinels.py): they follow a
failover of the master, and what the queues acknowledged before it is still there after."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
import uuid

import pytest
import redis
import redis.asyncio as aioredis

from teranga.channels.ordered_queue import Entry, Follow, OrderedQueue
from teranga.redis_connections import (
    MASTER_CHECK_SECONDS,
    REPLICA_WAIT_MS,
    NotReplicated,
    async_redis,
    describe,
    sync_redis,
)
from teranga.settings import Settings
from tests.redis_sentinels import MASTER_NAME, SentinelCluster

PASSWORD = "sentinel-test-secret"


@pytest.fixture(scope="module")
def cluster():
    with SentinelCluster(password=PASSWORD) as running:
        yield running


@pytest.fixture
def settings(cluster, monkeypatch) -> Settings:
    for name, value in cluster.environment(db=3).items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def _until(call, seconds: float = 20):
    """`call()` once Redis answers again: what every caller does after a ConnectionError."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_clients_reach_the_master_the_sentinels_name_and_follow_a_failover(cluster, settings):
    client = sync_redis(settings=settings, socket_timeout=2)
    client.set("before", "1")
    master = cluster.master_port()
    assert cluster.direct(master, db=3).get("before") == b"1"
    assert "sentinels" in describe(settings.redis_url, settings)
    assert PASSWORD not in describe(settings.redis_url, settings)

    new_master, took = cluster.kill_master()
    _until(lambda: client.set("after", "1"))
    assert new_master != master
    assert cluster.direct(new_master, db=3).get("after") == b"1"
    assert client.get("before") == b"1"  # replicated before the kill
    cluster.restart_old_master()
    print(f"failover took {took:.1f} s")


async def _put_until_accepted(queue: OrderedQueue, number: int) -> float:
    """A provider's webhook: retried until Teranga accepts it; the seen key makes a retry of
    a message that was in fact taken a duplicate, not a second entry."""
    started = time.monotonic()
    while True:
        try:
            await queue.put("whatsapp:+221770000001", {"text": f"message {number}"},
                            seen_key=f"teranga:test-failover:seen:{number}", seen_ttl=600)
            return time.monotonic() - started
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            await asyncio.sleep(0.1)


def test_messages_accepted_while_the_master_dies_are_all_there_once(cluster, settings):
    async def scenario() -> tuple[list[bytes], float]:
        client = async_redis(settings=settings, socket_timeout=2, socket_connect_timeout=1)
        queue = OrderedQueue(client, "failover-test")
        assert queue.wait_for_replica
        await client.delete(queue.stream, queue.conversation_key("whatsapp:+221770000001"))
        longest = 0.0
        killer = None
        for number in range(60):
            if number == 20:
                killer = asyncio.get_running_loop().run_in_executor(None, cluster.kill_master)
            longest = max(longest, await _put_until_accepted(queue, number))
            await asyncio.sleep(0.05)
        await killer
        entries = await client.xrange(queue.stream)
        await client.close()
        return [fields[b"text"] for _id, fields in entries], longest

    texts, longest = asyncio.run(scenario())
    cluster.restart_old_master()
    assert texts == [f"message {number}".encode() for number in range(60)]  # none lost, once
    assert longest < 10, f"a message waited {longest:.1f} s to be accepted"


def test_a_write_waits_for_the_replica_on_its_own_connection(cluster, settings, caplog):
    """With the replicas frozen, WAIT on the writing connection times out: the write is not
    confirmed as replicated (a WAIT on another connection would return at once)."""
    replicas = [cluster.servers[port] for port in cluster.redis_ports
                if port != cluster.master_port()]

    async def put() -> float:
        client = async_redis(settings=settings, socket_timeout=2)
        queue = OrderedQueue(client, "wait-test")
        await queue.put("telegram:1", {"text": "warm"})  # connect first
        for replica in replicas:
            os.kill(replica.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            await queue.put("telegram:1", {"text": "hello"})
            return time.monotonic() - started
        finally:
            for replica in replicas:
                os.kill(replica.pid, signal.SIGCONT)
            await client.close()

    with caplog.at_level(logging.WARNING, logger="teranga.redis_connections"):
        took = asyncio.run(put())
    assert took >= REPLICA_WAIT_MS / 1000 * 0.9
    assert "No Redis replica confirmed" in caplog.text


def test_an_old_master_back_from_silence_gets_no_writes(cluster, settings):
    """A master frozen (a host gone silent) and replaced, then answering again, takes itself
    for the master until the sentinels look at it, up to 10 s later. A client whose idle
    connection still pointed at it wrote there, and those writes vanished when it became a
    replica. Now it refuses them (min-replicas-to-write) and the client asks the sentinels."""
    client = sync_redis(settings=settings, socket_timeout=1, socket_connect_timeout=1)
    client.set("warm", "1")  # an idle connection to the master, kept in the pool
    frozen, _took = cluster.freeze_master()
    # Its replicas' last acknowledgements are now older than the 10 s allowed
    # (min-replicas-max-lag; at 6 s it still took the write now and then).
    time.sleep(11)
    os.kill(cluster.servers[frozen].pid, signal.SIGCONT)
    started = time.monotonic()
    _until(lambda: client.set("after-silence", "1"), seconds=5)
    assert time.monotonic() - started < 3
    new_master = cluster.master_port()
    assert new_master != frozen
    assert cluster.direct(new_master, db=3).get("after-silence") == b"1"
    cluster.thaw(frozen)


def test_without_sentinels_the_url_is_used_and_writes_do_not_wait(real_redis_url):
    settings = Settings(redis_url=real_redis_url)
    assert isinstance(sync_redis(settings=settings), redis.Redis)
    assert describe(real_redis_url, settings).startswith("redis://127.0.0.1")
    client = async_redis(settings=settings)
    assert isinstance(client, aioredis.Redis)
    assert MASTER_NAME not in repr(client.connection_pool)


def test_a_wrong_sentinel_list_is_refused(real_redis_url):
    settings = Settings(redis_url=real_redis_url, redis_sentinels=("no-port",))
    with pytest.raises(ValueError, match="host:port"):
        sync_redis(settings=settings)


class FakeSocketServer:
    """What socket.io's manager asks of its server: its packet class, ids, and disconnect."""

    packet_class = type("Packet", (), {"json": json})
    eio = type("EngineIO", (), {"generate_id": staticmethod(lambda: uuid.uuid4().hex)})

    def __init__(self) -> None:
        self.disconnected: list[str] = []

    async def disconnect(self, sid: str, namespace: str | None = None,
                         ignore_queue: bool = False) -> None:
        assert ignore_queue  # this process's sockets only
        self.disconnected.append(sid)


def test_the_web_chat_subscription_follows_a_master_gone_silent(cluster, settings):
    """Any Rasa process emits to a web-chat socket another holds through Redis pub/sub. The
    subscription of socket.io's manager waited on a frozen master for ever, and every reply
    published on the new master was lost for the sockets of that process. What was
    published meanwhile is lost all the same: once subscribed again, the process closes its
    sockets, whose widgets come back for what they missed (bench/cluster.py lost 15 replies
    when a master's host dropped off the network)."""
    from teranga.channels.widget import SocketManager

    server = FakeSocketServer()

    async def scenario() -> list:
        manager = SocketManager(settings.redis_url, channel="failover-test")
        manager.set_server(server)
        socket_id = await manager.connect("engine-io-1", "/")
        received: list = []

        async def listen() -> None:
            async for message in manager._redis_listen_with_retries():
                received.append(message["data"])

        listener = asyncio.create_task(listen())
        publisher = async_redis(settings=settings, socket_timeout=1, socket_connect_timeout=1)
        await asyncio.sleep(0.5)
        await publisher.publish("failover-test", "before")
        loop = asyncio.get_running_loop()
        frozen, _took = await loop.run_in_executor(None, cluster.freeze_master)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and b"after" not in received:
            try:
                await publisher.publish("failover-test", "after")
            except redis.RedisError:
                pass
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.5)  # the sockets are closed beside the listening
        listener.cancel()
        await publisher.close()
        await loop.run_in_executor(None, cluster.thaw, frozen)
        return received, socket_id

    received, socket_id = asyncio.run(scenario())
    assert received[0] == b"before"
    assert b"after" in received
    assert server.disconnected == [socket_id]


def test_a_providers_message_no_replica_confirmed_is_not_promised(cluster, settings):
    """A message the master alone holds could vanish in a failover: bench/cluster.py lost one
    SMS accepted as the master's host dropped off the network. Such a message is refused
    (its webhook answers 503) and the provider's retry, once a replica answers, is taken
    once: the message is queued exactly once."""
    replicas = [cluster.servers[port] for port in cluster.redis_ports
                if port != cluster.master_port()]
    seen = f"test-seen-{uuid.uuid4().hex}"

    async def scenario() -> tuple[int | None, int]:
        client = async_redis(settings=settings, socket_timeout=2)
        queue = OrderedQueue(client, f"promise-{uuid.uuid4().hex[:8]}")
        await queue.put("telegram:2", {"text": "warm"})  # connect first
        for replica in replicas:
            os.kill(replica.pid, signal.SIGSTOP)
        try:
            with pytest.raises(NotReplicated):
                await queue.put("telegram:2", {"text": "hello"}, seen, 60)
        finally:
            for replica in replicas:
                os.kill(replica.pid, signal.SIGCONT)
        again = await queue.put("telegram:2", {"text": "hello"}, seen, 60)
        queued = await client.xlen(queue.stream)
        await client.close()
        return again, queued

    again, queued = asyncio.run(scenario())
    assert again is None  # the retry is recognised: the first write did reach the master
    assert queued == 2  # "warm" and "hello", once


def test_a_completion_no_replica_confirmed_is_done_again_and_queues_its_replies_once(
        cluster, settings):
    """A turn's completion that only the master holds (its host about to be replaced) left
    the message pending on the new master for minutes, its consumer thinking it done: a
    message lost to the customer in bench/cluster.py's frozen-master runs. Now the pipeline
    asks for a confirmed completion and does it again when none came, and the second
    completion queues no reply twice."""
    replicas = [cluster.servers[port] for port in cluster.redis_ports
                if port != cluster.master_port()]
    name = uuid.uuid4().hex[:8]

    async def scenario() -> tuple[int, int]:
        client = async_redis(settings=settings, socket_timeout=2)
        intake, delivery = OrderedQueue(client, f"in-{name}"), OrderedQueue(client, f"out-{name}")
        await intake.ensure_group()
        await intake.put("telegram:3", {"text": "hello"})
        [(_stream, [(entry_id, fields)])] = await client.xreadgroup(
            intake.group, "test", {intake.stream: ">"})
        entry = Entry(int(fields[b"seq"]), entry_id.decode(), "telegram:3", {})
        follow = Follow(delivery, ("channel", "telegram"), ['{"text": "reply"}'])
        for replica in replicas:
            os.kill(replica.pid, signal.SIGSTOP)
        try:
            with pytest.raises(NotReplicated):
                await intake.complete(entry, follow, required=True)
        finally:
            for replica in replicas:
                os.kill(replica.pid, signal.SIGCONT)
        await intake.complete(entry, follow, required=True)  # confirmed this time
        replies, left = await client.xlen(delivery.stream), await client.xlen(intake.stream)
        await client.close()
        return replies, left

    replies, left = asyncio.run(scenario())
    assert (replies, left) == (1, 0)


def test_an_idle_connection_to_a_master_gone_silent_is_not_used_after_the_failover(
        cluster, settings):
    """A pool asks the sentinels only when it connects: its idle connection to a master gone
    silent outlived the failover, and once that master answered again (still a master in
    its own eyes until the sentinels demote it) a PUBLISH went there, to nobody
    (bench/cluster.py's web chat lost replies so), as reads would. Now the connection is
    dropped before its next command and made again to the new master."""
    channel = f"moved-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, int]:
        client = async_redis(settings=settings, socket_timeout=2)
        await client.ping()  # an idle connection to the master, kept in the pool
        loop = asyncio.get_running_loop()
        frozen, _took = await loop.run_in_executor(None, cluster.freeze_master)
        listener = cluster.direct(cluster.master_port()).pubsub()
        listener.subscribe(channel)
        os.kill(cluster.servers[frozen].pid, signal.SIGCONT)  # answering again, not demoted
        await asyncio.sleep(MASTER_CHECK_SECONDS * 2)  # the process has seen the new master
        receivers = await client.publish(channel, "hello")
        await client.close()
        listener.close()
        return frozen, receivers

    frozen, receivers = asyncio.run(scenario())
    cluster.rejoined(frozen)
    assert receivers == 1


def test_a_command_waiting_on_a_master_gone_silent_fails_once_another_is_named(
        cluster, settings):
    """A command in flight when the master went silent waited out its socket timeout (10 s
    for Rasa's tracker, holding its whole process) before being tried again on the new
    master. Its connection is now shut as soon as the process sees the new master."""
    client = sync_redis(settings=settings, socket_timeout=15, socket_connect_timeout=1)
    client.set("warm", "1")
    frozen: list[int] = []
    freezer = threading.Thread(target=lambda: frozen.append(cluster.freeze_master()[0]))
    freezer.start()
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.blpop(["nothing-here"], timeout=0)  # waits on the master: for ever, if let
    waited = time.monotonic() - started
    freezer.join()
    cluster.thaw(frozen[0])
    assert waited < 8, f"the command waited {waited:.1f} s"
