"""Every Redis client Teranga makes: through Redis Sentinel when `REDIS_SENTINELS` names the
sentinels, straight to `REDIS_URL`'s server otherwise.

With Sentinel, a client asks the sentinels where the master is before each new connection,
and a connection to a master that has become a replica is dropped (redis-py's
`SentinelConnectionPool`): after a failover, the next command finds the new master. The
commands that failed meanwhile raise `ConnectionError`, which every caller already survives
(the intake and delivery queues keep their entries until handled; docs/reliability.md).
`REDIS_URL` still gives the password and the database number; its host is not used.

Redis replicates asynchronously: a write the old master acknowledged in its last
milliseconds may be lost in a failover. `run_replicated` runs a script and then waits, on
the same connection, until one replica has it; the queues use it before they promise
anything (a provider told that its message is taken, a reply marked sent). Without Sentinel
it only runs the script.

An old master that was cut off rather than killed (its host silent, then back) still takes
itself for the master until the sentinels look at it again, up to 10 s later; clients whose
connections to it stayed open would write there, and its resynchronisation as a replica
would drop those writes. Redis's `min-replicas-to-write 1` makes it refuse them (it has no
replica left: deploy/redis/redis.conf), and a client that gets that refusal (`NOREPLICAS`)
drops the connection and asks the sentinels again, as redis-py does for `READONLY`.

A pool asks the sentinels only when it makes a connection, so its idle connections to a
master gone silent outlive the failover: each later command on one waited out its socket
timeout (Rasa's synchronous ones holding the whole process), and once the old master answered
again, reads and PUBLISH (which Redis never refuses) went there until the sentinels demoted it,
10 s later; bench/cluster.py's web chat lost replies so. Each process therefore asks the
sentinels where the master is once a second (`MasterWatch`, a thread): when it moves, the
connections to the old one are shut (a command waiting there fails at once and is tried
again), and one made before the move is dropped before its next command and made again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import weakref
from urllib.parse import quote, unquote, urlparse

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelConnectionPool
from redis.asyncio.sentinel import SentinelManagedConnection as AsyncSentinelManagedConnection
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.sentinel import Sentinel, SentinelManagedConnection

from teranga.settings import Settings

logger = logging.getLogger(__name__)

# How long a write waits for a replica before it goes on without (a replica down after a
# failover must slow writes, not stop them). On one network a replica answers in under 1 ms.
REPLICA_WAIT_MS = 100
SENTINEL_TIMEOUT_SECONDS = 0.5  # per sentinel asked; a dead one must not hold up a connect


MASTER_CHECK_SECONDS = 1.0


class MasterWatch:
    """Where the sentinels say the master is, asked every MASTER_CHECK_SECONDS by a daemon
    thread; one per sentinel set and master name in a process."""

    _watches: dict[tuple, MasterWatch] = {}
    _lock = threading.Lock()

    def __init__(self, sentinel: Sentinel, service: str) -> None:
        self.sentinel, self.service = sentinel, service
        self.address: tuple[str, int] | None = None
        self.moved_at = 0.0  # when `address` last changed (monotonic)
        self._connections: weakref.WeakSet = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        threading.Thread(target=self._watch, name=f"redis-master-watch-{service}",
                         daemon=True).start()

    @classmethod
    def of(cls, settings: Settings) -> MasterWatch:
        key = (tuple(settings.redis_sentinels), settings.redis_sentinel_master)
        with cls._lock:
            if key not in cls._watches:
                sentinel = Sentinel(_sentinel_addresses(settings),
                                    sentinel_kwargs=_sentinel_options(settings))
                cls._watches[key] = cls(sentinel, settings.redis_sentinel_master)
            return cls._watches[key]

    def _watch(self) -> None:
        while True:
            try:
                host, port = self.sentinel.discover_master(self.service)
            except RedisError:  # no sentinel answers, or none names a master: as it was
                pass
            else:
                if (host, int(port)) != self.address:
                    moved = self.address is not None
                    self.address, self.moved_at = (host, int(port)), time.monotonic()
                    if moved:
                        try:
                            self._cut_off_the_old_master()
                        except Exception:  # noqa: BLE001 - the watch must go on
                            logger.exception("Could not shut the connections to the old "
                                             "Redis master")
            time.sleep(MASTER_CHECK_SECONDS)

    def register(self, connection) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _cut_off_the_old_master(self) -> None:
        """Commands waiting on a master that went silent fail now, and are tried again on
        the new one, rather than at the end of their socket timeout (up to 10 s for Rasa's,
        which hold its whole process meanwhile)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            if (connection.host, int(connection.port or 0)) == self.address:
                continue
            _shut(connection)

    def outdated(self, connection) -> bool:
        """Whether a connection to the master was made before the master moved elsewhere."""
        address = self.address
        return (address is not None and connection.connection_pool.is_master
                and getattr(connection, "connected_at", 0.0) < self.moved_at
                and (connection.host, int(connection.port)) != address)


def _watch_of(connection) -> MasterWatch | None:
    return getattr(connection.connection_pool, "master_watch", None)


def _shut(connection) -> None:
    """Shut a connection's socket from another thread: a read waiting on it ends at once.
    An event loop's socket is shut through its descriptor (asyncio's wrapper forbids it)."""
    writer = getattr(connection, "_writer", None)
    raw = writer.get_extra_info("socket") if writer is not None else \
        getattr(connection, "_sock", None)
    if raw is None:
        return
    try:
        borrowed = socket.socket(fileno=raw.fileno())
        try:
            borrowed.shutdown(socket.SHUT_RDWR)
        finally:
            borrowed.detach()  # the descriptor stays its owner's
    except (OSError, ValueError):  # closed meanwhile
        pass


def _stale_master(connection, error: ResponseError) -> bool:
    return connection.connection_pool.is_master and str(error).startswith("NOREPLICAS")


class _Connection(SentinelManagedConnection):
    def connect_to(self, address):
        self.connected_at = time.monotonic()  # before: connecting sends commands (AUTH...)
        super().connect_to(address)
        if watch := _watch_of(self):
            watch.register(self)

    def send_packed_command(self, command, check_health=True):
        watch = _watch_of(self)
        if self._sock is not None and watch and watch.outdated(self):
            self.disconnect()  # sending connects again, asking the sentinels
        return super().send_packed_command(command, check_health)

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except ResponseError as error:
            if _stale_master(self, error):
                self.disconnect()
                raise RedisConnectionError(
                    "The master has no replica: asking the sentinels again") from error
            raise


class _AsyncConnection(AsyncSentinelManagedConnection):
    async def connect_to(self, address):
        self.connected_at = time.monotonic()
        await super().connect_to(address)
        if watch := _watch_of(self):
            watch.register(self)

    async def send_packed_command(self, command, check_health=True):
        watch = _watch_of(self)
        if self.is_connected and watch and watch.outdated(self):
            await self.disconnect()
        return await super().send_packed_command(command, check_health)

    async def read_response(self, *args, **kwargs):
        try:
            return await super().read_response(*args, **kwargs)
        except ResponseError as error:
            if _stale_master(self, error):
                await self.disconnect()
                raise RedisConnectionError(
                    "The master has no replica: asking the sentinels again") from error
            raise


def url_of(host: str, port: int | str, db: int | str = 0, password: str | None = None) -> str:
    """The `redis://` URL of a server given by parts (as Rasa's endpoints.yml gives it)."""
    secret = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{secret}{host}:{port}/{db or 0}"


def sync_redis(url: str | None = None, settings: Settings | None = None,
               **options) -> redis.Redis:
    """A blocking client (Rasa's stores and broker, the commands). `options` are redis-py's
    connection options (socket_timeout...)."""
    return _client(redis.Redis, Sentinel, _Connection, url, settings, options)


def async_redis(url: str | None = None, settings: Settings | None = None,
                **options) -> aioredis.Redis:
    """An asyncio client (the channels, the hand-over, the desk)."""
    return _client(aioredis.Redis, AsyncSentinel, _AsyncConnection, url, settings, options)


def _client(redis_class, sentinel_class, connection_class, url: str | None,
            settings: Settings | None, options: dict):
    settings = settings or Settings.from_env()
    url = url or settings.require_redis_url("Teranga")
    if not settings.redis_sentinels:
        return redis_class.from_url(url, **options)
    sentinel = sentinel_class(_sentinel_addresses(settings),
                              sentinel_kwargs=_sentinel_options(settings))
    client = sentinel.master_for(settings.redis_sentinel_master, redis_class=redis_class,
                                 connection_class=connection_class, **_credentials(url),
                                 **options)
    watch = MasterWatch.of(settings)
    pool = client.connection_pool
    # Connections see their pool through what it gives them (redis's sync pool: a proxy).
    for holder in (pool, pool.connection_kwargs["connection_pool"]):
        holder.master_watch = watch
    return client


def has_replicas(settings: Settings | None = None) -> bool:
    """Whether writes should wait for a replica (only a Sentinel deployment has them)."""
    return bool((settings or Settings.from_env()).redis_sentinels)


class NotReplicated(RedisError):
    """The master took a write no replica confirmed: a failover now could lose it."""


async def run_replicated(client: aioredis.Redis, script: AsyncScript, keys: list,
                         args: list, wait_for_replica: bool, required: bool = False):
    """`script`'s result; with `wait_for_replica`, once a replica has it too (or after
    REPLICA_WAIT_MS). WAIT counts the writes of its own connection: hence one pipeline.
    `required`: raise NotReplicated when no replica confirmed it, for a write whose sender
    will send it again and whose retry is recognised (a provider's message: answered 503
    rather than 200 for a message the master alone holds, which bench/cluster.py lost when
    the master's host dropped off the network as it took it)."""
    if not wait_for_replica:
        return await script(keys=keys, args=args)
    async with client.pipeline(transaction=False) as pipe:
        await script(keys=keys, args=args, client=pipe)
        pipe.wait(1, REPLICA_WAIT_MS)
        result, copies = await pipe.execute()
    if not copies:
        if required:
            raise NotReplicated(f"no Redis replica confirmed the write within "
                                f"{REPLICA_WAIT_MS} ms")
        logger.warning("No Redis replica confirmed a write within %d ms: a failover now "
                       "could lose it", REPLICA_WAIT_MS)
    return result


async def still_on_master(pubsub: aioredis.client.PubSub) -> bool:
    """Whether a subscription is on the master the sentinels name now: one that went silent
    sends no reset, and the subscription would wait on it for ever. Always true without
    Sentinel."""
    pool, connection = pubsub.connection_pool, pubsub.connection
    if not isinstance(pool, AsyncSentinelConnectionPool) or connection is None:
        return True
    host, port = await pool.get_master_address()
    return (connection.host, int(connection.port)) == (host, int(port))


def describe(url: str, settings: Settings | None = None) -> str:
    """Where the clients connect, fit for logs (no password)."""
    settings = settings or Settings.from_env()
    parsed = urlparse(url)
    database = (parsed.path or "/0").lstrip("/") or "0"
    if settings.redis_sentinels:
        return (f"master {settings.redis_sentinel_master!r} of the sentinels "
                f"{', '.join(settings.redis_sentinels)}, database {database}")
    return f"redis://{parsed.hostname}:{parsed.port or 6379}/{database}"


def _sentinel_addresses(settings: Settings) -> list[tuple[str, int]]:
    addresses = []
    for entry in settings.redis_sentinels:
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS must list host:port pairs, got {entry!r}")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _sentinel_options(settings: Settings) -> dict:
    options = {"socket_timeout": SENTINEL_TIMEOUT_SECONDS,
               "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS}
    if settings.redis_sentinel_password:
        options["password"] = settings.redis_sentinel_password
    return options


def _credentials(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme != "redis":
        raise ValueError("REDIS_URL must look like redis://[:password@]host:port/db")
    database = (parsed.path or "/0").lstrip("/") or "0"
    return {"db": int(database), "username": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None}
