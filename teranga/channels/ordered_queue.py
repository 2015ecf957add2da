"""A durable queue on a Redis Stream with a consumer group, kept in order per conversation.

Any process may consume any entry, yet one conversation's entries are handled one at a time,
in the order they were queued: each entry carries its conversation's sequence number, and
an entry is handled only once the one before it is done (`done` is per conversation, in
Redis, updated in the same atomic step as the acknowledgement). A handled entry is
acknowledged and deleted, so the stream holds only what is still to do.

Consumers announce themselves with a heartbeat; the entries of one that stopped beating
(killed, host gone) are claimed by the others within seconds. Entries idle for long in a
live consumer (stuck) are claimed too, after `STUCK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from redis.utils import str_if_bytes

from teranga import redis_keys
from teranga.observability.logs import set_conversation
from teranga.redis_connections import has_replicas, run_replicated

logger = logging.getLogger(__name__)

CONVERSATION_TTL = 90 * 86400  # a conversation's counters outlive any pause in it
HEARTBEAT_SECONDS = 1.0
DEAD_AFTER_SECONDS = 6.0  # no heartbeat for this long: its entries go to the others
STUCK_SECONDS = 300.0  # an entry a live consumer has held this long without progress
KEEPALIVE_SECONDS = 30.0  # entries held and waiting are touched, so they are not "stuck"
ORDER_WAIT_SECONDS = 120.0  # an entry waiting this long for its predecessor goes on alone
MAX_ATTEMPTS = 3  # an entry whose handler fails (not Redis) this often is given up
UNRECEIVED_SECONDS = 3.0  # pending for this consumer, not in hand, idle this long: never received

# KEYS: stream, conversation hash, [seen key]; ARGV: conversation ttl, seen ttl,
# conversation id, then the entry's field/value pairs. Returns the sequence number, or
# false when the seen key already existed (a duplicate: nothing is queued).
_ENQUEUE = """
if KEYS[3] and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return false end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[1], '*', 'conversation', ARGV[3], 'seq', seq, unpack(ARGV, 4))
return seq
"""

# KEYS: stream, conversation hash, [next stream, next conversation hash];
# ARGV: group, entry id, seq, conversation ttl, conversation id, then for the next queue:
# its field name for each item, and the items (each queued as one entry). The items are
# queued only by the completion that acknowledges the entry: a completion tried again
# (its first try's replica confirmation failed) queues no reply twice.
_COMPLETE = """
local done = tonumber(redis.call('HGET', KEYS[2], 'done') or '0')
if tonumber(ARGV[3]) > done then redis.call('HSET', KEYS[2], 'done', ARGV[3]) end
redis.call('EXPIRE', KEYS[2], ARGV[4])
local acknowledged = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if acknowledged == 0 then return done end
for i = 8, #ARGV do
  local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
  redis.call('EXPIRE', KEYS[4], ARGV[4])
  redis.call('XADD', KEYS[3], '*', 'conversation', ARGV[5], 'seq', seq, ARGV[6], ARGV[7],
             'message', ARGV[i])
end
return done
"""


class NotHere(Exception):
    """This process cannot handle the entry (its channel is not configured here)."""


@dataclass(order=True)
class Entry:
    seq: int
    id: str = field(compare=False)
    conversation: str = field(compare=False)
    fields: dict[str, str] = field(compare=False)
    reclaimed: bool = field(compare=False, default=False)  # another consumer had it

    @property
    def queued_at(self) -> float:
        """When the entry was queued (epoch seconds, Redis's clock): its stream id's time."""
        return int(self.id.split("-", 1)[0]) / 1000


@dataclass(frozen=True)
class Follow:
    """Items to queue on another queue in the same atomic step as a completion: a turn's
    replies, queued for delivery exactly when the customer's message is done."""
    queue: OrderedQueue
    tag: tuple[str, str]  # one more field every item gets, e.g. ("channel", "twilio_sms")
    messages: list[str]


class OrderedQueue:
    def __init__(self, client: aioredis.Redis, name: str,
                 prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        # Queued and completed entries are promises (a provider was told we have the
        # message, a reply was sent): they must survive a Redis failover.
        self.wait_for_replica = has_replicas()
        self.name = name
        self.prefix = prefix
        self.stream = redis_keys.queue(name, prefix)
        self.group = "workers"
        self._enqueue = client.register_script(_ENQUEUE)
        self._complete = client.register_script(_COMPLETE)

    def conversation_key(self, conversation: str) -> str:
        return f"{self.stream}:conversation:{conversation}"

    async def put(self, conversation: str, fields: dict[str, str],
                  seen_key: str | None = None, seen_ttl: int = 0) -> int | None:
        """Queue an entry; with `seen_key`, only if that key did not exist (then it is set,
        in the same atomic step). The entry's sequence number, or None for a duplicate.
        With `seen_key`, raises NotReplicated (a RedisError) when no replica confirmed it:
        its sender is told to send it again, and the key makes the retry harmless."""
        keys = [self.stream, self.conversation_key(conversation)] + ([seen_key] if seen_key
                                                                      else [])
        flat = [item for pair in fields.items() for item in pair]
        seq = await run_replicated(self.client, self._enqueue, keys,
                                   [CONVERSATION_TTL, seen_ttl, conversation, *flat],
                                   self.wait_for_replica, required=seen_key is not None)
        return int(seq) if seq else None

    async def complete(self, entry: Entry, follow: Follow | None = None,
                       required: bool = False) -> None:
        """Acknowledge and delete the entry, queuing `follow`'s items. `required`: raise
        NotReplicated (a RedisError) when no replica confirmed it, so that the entry is
        handled again rather than forgotten here and left pending on the master that
        replaces this one."""
        keys = [self.stream, self.conversation_key(entry.conversation)]
        args = [self.group, entry.id, entry.seq, CONVERSATION_TTL, entry.conversation]
        if follow and follow.messages:
            keys += [follow.queue.stream, follow.queue.conversation_key(entry.conversation)]
            args += [*follow.tag, *follow.messages]
        await run_replicated(self.client, self._complete, keys, args, self.wait_for_replica,
                             required=required)

    async def done(self, conversation: str) -> int:
        return int(await self.client.hget(self.conversation_key(conversation), "done") or 0)

    async def ensure_group(self) -> None:
        try:  # from the start of the stream: entries queued before the group are not lost
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def backlog(self) -> int:
        """Entries still to do, read or not (done ones are deleted)."""
        return await self.client.xlen(self.stream)

    async def pending_count(self) -> int:
        try:
            return int((await self.client.xpending(self.stream, self.group))["pending"])
        except ResponseError:  # no group yet
            return 0


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


Handler = Callable[[Entry], Awaitable[None]]


class Consumer:
    """Reads one queue in one process and hands each entry to `handle` (which completes it),
    one conversation at a time and in order, up to `concurrency` conversations at once."""

    def __init__(self, queue: OrderedQueue, handle: Handler, name: str | None = None,
                 concurrency: int = 32) -> None:
        self.queue = queue
        self.handle = handle
        self.name = name or consumer_name()
        self.client = queue.client
        self.members = f"{queue.stream}:consumers"
        self._slots = asyncio.Semaphore(concurrency)
        self._waiting: dict[str, list[Entry]] = {}  # conversation -> heap of entries by seq
        self._held: set[str] = set()  # entry ids read and not yet completed
        self._workers: dict[str, asyncio.Task] = {}
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    @property
    def holding(self) -> bool:
        """Whether entries read by this consumer are still to finish."""
        return bool(self._held)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._forever(step, pause)) for step, pause in (
            (self._read, 0.0), (self._beat, HEARTBEAT_SECONDS),
            (self._reclaim, HEARTBEAT_SECONDS), (self._keep_alive, KEEPALIVE_SECONDS))]

    async def stop(self, timeout: float = 20.0) -> None:
        """Read nothing more, let the entries in hand finish within `timeout`, and leave
        the group so that the others take what is left at once."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        workers = [w for w in self._workers.values() if not w.done()]
        if workers:
            logger.info("%s: finishing %d conversation(s) before stopping", self.queue.name,
                        len(workers))
            _done, late = await asyncio.wait(workers, timeout=timeout)
            for worker in late:  # what they hold goes to the others
                worker.cancel()
        try:
            await self.client.zrem(self.members, self.name)
        except RedisError:
            logger.warning("%s: could not leave the consumers' list", self.queue.name)

    async def _forever(self, step: Callable[[], Awaitable[None]], pause: float) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await step()
                failures = 0
            except asyncio.CancelledError:
                raise
            except RedisError as error:  # Redis restarting: wait for it, keep what we hold
                failures += 1
                logger.warning("%s: Redis unavailable (%s); retrying", self.queue.name, error)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** failures))
                continue
            except Exception:
                logger.exception("%s: %s failed", self.queue.name, step.__name__)
                await asyncio.sleep(1.0)
            if pause:
                await asyncio.sleep(pause)

    async def _read(self) -> None:
        if self._slots.locked():  # every slot busy: let them finish before reading more
            await asyncio.sleep(0.05)
            return
        try:
            replies = await self.client.xreadgroup(self.queue.group, self.name,
                                                   {self.queue.stream: ">"}, count=32,
                                                   block=1000)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.queue.ensure_group()
            return
        for _stream, entries in replies or []:
            self._take(entries, reclaimed=False)

    async def _beat(self) -> None:
        await self.client.zadd(self.members, {self.name: time.time()})

    async def _reclaim(self) -> None:
        """Take the entries of consumers that stopped beating, of stuck ones, and this
        consumer's own that it never received."""
        await self._take_unreceived()
        alive_since = time.time() - DEAD_AFTER_SECONDS
        alive = {m.decode() for m in await self.client.zrangebyscore(self.members,
                                                                      alive_since, "+inf")}
        try:
            consumers = await self.client.xinfo_consumers(self.queue.stream, self.queue.group)
        except ResponseError:  # no stream or group yet (Redis was away at start, or wiped)
            await self.queue.ensure_group()
            return
        for consumer in consumers:
            name = str_if_bytes(consumer["name"])
            if name in alive or name == self.name:
                continue
            if consumer["pending"]:
                await self._claim_from(name)
            else:
                await self.client.xgroup_delconsumer(self.queue.stream, self.queue.group, name)
                await self.client.zrem(self.members, name)
        _next, entries, *_ = await self.client.xautoclaim(
            self.queue.stream, self.queue.group, self.name, int(STUCK_SECONDS * 1000),
            count=32)
        self._take(entries, reclaimed=True)

    async def _take_unreceived(self) -> None:
        """Entries the group gave this consumer whose reply never reached it: a read that
        the master did, and replicated, as its host dropped off the network. Pending here
        and not in hand, they would wait STUCK_SECONDS, their conversation behind them
        (bench/cluster.py lost an SMS so)."""
        await self._claim(self.name, int(UNRECEIVED_SECONDS * 1000),
                          "read for this consumer that never reached it")

    async def _claim_from(self, dead: str) -> None:
        # Min idle: of two consumers claiming together, only one gets each entry.
        await self._claim(dead, 1000, f"of stopped consumer {dead}")

    async def _claim(self, owner: str, min_idle_ms: int, whose: str) -> None:
        """Take `owner`'s pending entries idle for `min_idle_ms`, but those in hand."""
        pending = await self.client.xpending_range(self.queue.stream, self.queue.group,
                                                   min="-", max="+", count=100,
                                                   consumername=owner, idle=min_idle_ms)
        ids = [p["message_id"] for p in pending if str_if_bytes(p["message_id"]) not in
               self._held]
        if ids:
            entries = await self.client.xclaim(self.queue.stream, self.queue.group, self.name,
                                               min_idle_time=min_idle_ms, message_ids=ids)
            logger.warning("%s: took %d entr(ies) %s", self.queue.name, len(entries), whose)
            self._take(entries, reclaimed=True)

    async def _keep_alive(self) -> None:
        held = list(self._held)
        if held:
            await self.client.xclaim(self.queue.stream, self.queue.group, self.name,
                                     min_idle_time=0, message_ids=held, justid=True)

    def _take(self, entries, reclaimed: bool) -> None:
        for entry_id, fields in entries:
            if fields is None:  # deleted meanwhile (done by its first consumer)
                continue
            entry_id = entry_id.decode()
            if entry_id in self._held:
                continue
            decoded = {k.decode(): v.decode() for k, v in fields.items()}
            entry = Entry(int(decoded.pop("seq")), entry_id, decoded.pop("conversation"),
                          decoded, reclaimed)
            self._held.add(entry_id)
            heapq.heappush(self._waiting.setdefault(entry.conversation, []), entry)
            worker = self._workers.get(entry.conversation)
            if worker is None or worker.done():
                self._workers[entry.conversation] = asyncio.get_running_loop().create_task(
                    self._work(entry.conversation))

    async def _work(self, conversation: str) -> None:
        """This conversation's entries, smallest sequence first, each once its
        predecessor is done."""
        set_conversation(conversation)  # this task's log lines are about it
        waiting = self._waiting[conversation]
        waited_since: float | None = None
        try:
            while waiting and not self._stopping.is_set():  # stopping: start nothing new
                entry = waiting[0]
                done = await self._retry(lambda: self.queue.done(conversation))
                if entry.seq > done + 1:  # its predecessor is elsewhere, or being reclaimed
                    waited_since = waited_since or time.monotonic()
                    if time.monotonic() - waited_since < ORDER_WAIT_SECONDS:
                        await asyncio.sleep(0.05)
                        continue
                    logger.error("%s: entry %d of %s waited %.0f s for entry %d; going on",
                                 self.queue.name, entry.seq, conversation,
                                 ORDER_WAIT_SECONDS, done + 1)
                heapq.heappop(waiting)
                waited_since = None
                async with self._slots:
                    if entry.seq <= done:  # done already (by a consumer that then died)
                        await self._retry(lambda e=entry: self.queue.complete(e))
                    else:
                        await self._handle(entry)
                self._held.discard(entry.id)
        finally:
            if not waiting:
                self._waiting.pop(conversation, None)
                self._workers.pop(conversation, None)

    async def _handle(self, entry: Entry) -> None:
        """`handle(entry)`, tried again while Redis is away (as a reclaimed entry: the
        handler checks what its first try did); an entry failing otherwise is given up after
        `MAX_ATTEMPTS`, so that one bad entry does not block its conversation."""
        failures = 0
        while True:
            try:
                return await self.handle(entry)
            except RedisError as error:
                if self._stopping.is_set():
                    raise
                logger.warning("%s: Redis unavailable (%s) during entry %s; retrying",
                               self.queue.name, error, entry.id)
            except NotHere as error:  # kept, never dropped: the configuration must change
                logger.error("%s: entry %s waits: %s", self.queue.name, entry.id, error)
                await asyncio.sleep(5.0)
                continue
            except Exception:
                failures += 1
                logger.exception("%s: entry %s of %s failed (attempt %d)", self.queue.name,
                                 entry.id, entry.conversation, failures)
                if failures >= MAX_ATTEMPTS:
                    await self._retry(lambda: self.queue.complete(entry))
                    return
            entry.reclaimed = True
            await asyncio.sleep(min(5.0, 0.5 * 2 ** failures))

    async def _retry(self, call: Callable[[], Awaitable]):
        """Redis calls of an entry in hand: retried through a Redis restart, so the entry
        is finished rather than left for another consumer."""
        delay = 0.2
        while True:
            try:
                return await call()
            except RedisError as error:
                if self._stopping.is_set():
                    raise
                logger.warning("%s: Redis unavailable (%s); retrying", self.queue.name, error)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)
