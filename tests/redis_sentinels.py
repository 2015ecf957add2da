"""A real Redis with automatic failover, for the tests and bench/cluster.py: a master, two
replicas and three sentinels (Debian's redis-server and redis-sentinel), each on a free port,
in a temporary folder; each server with a sentinel on a host of its own when given three
(tests/network_hosts.py). `kill_master()` kills the master with SIGKILL and waits until the
sentinels have promoted the replica; `restart_old_master()` brings the killed server back
as a replica of the new master, as a process supervisor would."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.sentinel import Sentinel

from teranga import runtime
from tests.network_hosts import LOOPBACK, Host

MASTER_NAME = "teranga"
# Production keeps Sentinel's default of 30 s or a few seconds (docs/deploying.md); one
# second makes the tests' failovers quick.
DOWN_AFTER_MS = 1000
# A sentinel starts no failover of a master within twice this of its last one: at 10 s,
# a test killing the master less than 20 s after the previous test's failover waited
# 11 s for a new master (the clean-clone CI of 2026-12-07).
FAILOVER_TIMEOUT_MS = 3000


class SentinelCluster:
    def __init__(self, password: str | None = None, hosts: list[Host] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="teranga-sentinels-"))
        self.password = password
        self.redis_ports = [runtime.free_port() for _ in range(3)]
        self.sentinel_ports = [runtime.free_port() for _ in range(3)]
        hosts = hosts or [Host("redis", LOOPBACK)] * 3
        # A server and a sentinel on each host; ports stay unique to name them.
        self.hosts = {port: host for ports in (self.redis_ports, self.sentinel_ports)
                      for port, host in zip(ports, hosts, strict=True)}
        self.servers: dict[int, subprocess.Popen] = {}
        self.sentinels: list[subprocess.Popen] = []

    # --- what clients need -------------------------------------------------------------

    def environment(self, db: int = 0) -> dict[str, str]:
        """The variables Teranga reads to connect through these sentinels."""
        return {"REDIS_URL": self.url(db),
                "REDIS_SENTINELS": ",".join(f"{self.hosts[port].address}:{port}"
                                            for port in self.sentinel_ports),
                "REDIS_SENTINEL_MASTER_NAME": MASTER_NAME}

    def url(self, db: int = 0) -> str:
        secret = f":{self.password}@" if self.password else ""
        return f"redis://{secret}{MASTER_NAME}/{db}"

    def master_port(self) -> int:
        sentinel = Sentinel([(self.hosts[port].address, port)
                             for port in self.sentinel_ports], socket_timeout=0.5)
        return int(sentinel.discover_master(MASTER_NAME)[1])

    def direct(self, port: int, db: int = 0) -> redis.Redis:
        return redis.Redis(self.hosts[port].address, port, db=db, password=self.password,
                           socket_timeout=2)

    # --- life ----------------------------------------------------------------------------

    def start(self) -> SentinelCluster:
        master, *replicas = self.redis_ports
        self._start_server(master)
        for replica in replicas:
            self._start_server(replica, replica_of=master)
            self._wait_for(lambda replica=replica: self.direct(replica).info("replication")
                           .get("master_link_status") == "up", "the replica to sync")
        for port in self.sentinel_ports:
            self._start_sentinel(port, master)
        self._wait_for(self._sentinels_agree, "the sentinels to find the replica")
        return self

    def kill_master(self) -> tuple[int, float]:
        """Kills the master; returns the new master's port and how long the failover took."""
        old = self.master_port()
        killed_at = time.monotonic()
        self.servers[old].kill()
        self.servers[old].wait()
        new = self._new_master(old)
        return new, time.monotonic() - killed_at

    def freeze_master(self) -> tuple[int, float]:
        """Stops the master with SIGSTOP, as a host gone silent (connections stay open and
        unanswered)."""
        return self.silence_master(lambda port: os.kill(self.servers[port].pid,
                                                        signal.SIGSTOP))

    def silence_master(self, silence: Callable[[int], None]) -> tuple[int, float]:
        """`silence(port)` makes the master stop answering (frozen, or its host cut off the
        network); returns its port and how long the failover took."""
        old = self.master_port()
        silenced_at = time.monotonic()
        silence(old)
        self._new_master(old)
        return old, time.monotonic() - silenced_at

    def rejoined(self, port: int) -> None:
        """The cut-off or frozen server is back: once the sentinels have made it a replica
        of the new master and it has synchronised (dropping what it took meanwhile)."""
        self._wait_for(lambda: self.direct(port).info("replication")
                       .get("master_link_status") == "up", "the old master to rejoin", 60)

    def thaw(self, port: int) -> None:
        """The frozen server answers again; the sentinels make it a replica of the new
        master (what it took meanwhile is dropped by its resynchronisation)."""
        os.kill(self.servers[port].pid, signal.SIGCONT)
        self.rejoined(port)

    def restart_old_master(self) -> None:
        master = self.master_port()
        for port, process in list(self.servers.items()):
            if process.poll() is not None:
                self._start_server(port, replica_of=master)
                self._wait_for(lambda port=port: self.direct(port).info("replication")
                               .get("master_link_status") == "up", "the old master to sync")

    def close(self) -> None:
        for process in [*self.sentinels, *self.servers.values()]:
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> SentinelCluster:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------------

    def _start_server(self, port: int, replica_of: int | None = None) -> None:
        folder = self.folder / f"redis-{port}"
        folder.mkdir(exist_ok=True)
        # As deploy/redis/redis.conf: a master cut off from its replicas refuses writes.
        address = self.hosts[port].address
        command = ["redis-server", "--port", str(port), "--bind", address, "--dir",
                   str(folder), "--save", "", "--appendonly", "no",
                   "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10",
                   "--repl-diskless-sync-delay", "0",
                   # On a host's own address (tests/network_hosts.py), not loopback: without a
                   # password, Redis would refuse the other hosts.
                   "--protected-mode", "no"]
        if self.password:
            command += ["--requirepass", self.password, "--masterauth", self.password]
        if replica_of:
            command += ["--replicaof", self.hosts[replica_of].address, str(replica_of)]
        self.servers[port] = subprocess.Popen(self.hosts[port].run(command),
                                              stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
        self._wait_for(lambda: self.direct(port).ping(), f"Redis on port {port}")

    def _start_sentinel(self, port: int, master: int) -> None:
        config = self.folder / f"sentinel-{port}.conf"
        address = self.hosts[port].address
        lines = [f"port {port}", f"bind {address}", "protected-mode no", f"dir {self.folder}",
                 f"sentinel monitor {MASTER_NAME} {self.hosts[master].address} {master} 2",
                 f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
                 f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}",
                 f"sentinel parallel-syncs {MASTER_NAME} 1"]
        if self.password:
            lines.append(f"sentinel auth-pass {MASTER_NAME} {self.password}")
        config.write_text("\n".join(lines) + "\n")
        self.sentinels.append(subprocess.Popen(self.hosts[port].run(["redis-sentinel",
                                                                    str(config)]),
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
        self._wait_for(lambda: redis.Redis(address, port, socket_timeout=1).ping(),
                       f"the sentinel on port {port}")

    def _new_master(self, old: int) -> int:
        """Once the sentinels name another master and it takes writes: its port."""
        self._wait_for(lambda: self.master_port() != old, "the sentinels to fail over", 30)
        new = self.master_port()
        self._wait_for(lambda: self._takes_writes(new), "the new master to take writes")
        return new

    def _takes_writes(self, port: int) -> bool:
        """A master with a replica (min-replicas-to-write 1)."""
        replication = self.direct(port).info("replication")
        return replication["role"] == "master" and replication["connected_slaves"] >= 1

    def _sentinels_agree(self) -> bool:
        for port in self.sentinel_ports:
            sentinel = redis.Redis(self.hosts[port].address, port, socket_timeout=1,
                                   decode_responses=True)
            state = sentinel.sentinel_master(MASTER_NAME)
            if state["num-slaves"] < len(self.redis_ports) - 1 or \
                    state["num-other-sentinels"] < 2:
                return False
        return True

    @staticmethod
    def _wait_for(check, what: str, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")
