"""Hosts for bench/cluster.py and its tests: each in its own Linux network namespace, with its
own address and its own loopback, joined by a bridge, as machines on one network are. The
benchmark's own process (the customers and the providers' stand-ins) stays outside, on the
bridge's address. Where namespaces cannot be made (no root, no iproute2), every host is this
machine's loopback and the servers are processes on different ports.

    hosts = NetworkHosts.make(["lb", "app-1", "app-2"])
    hosts["app-1"].address        # 10.213.N.11, or 127.0.0.1 on loopback
    hosts["app-1"].run(["redis-server", ...])  # the command, started on that host
    hosts.cut("app-1")            # the host drops off the network (its link goes down)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    namespace: str | None = None  # None: this machine's own network

    @property
    def launcher(self) -> tuple[str, ...]:
        """What runs a command on this host."""
        return ("ip", "netns", "exec", self.namespace) if self.namespace else ()

    def run(self, command: list[str]) -> list[str]:
        return [*self.launcher, *command]


class NetworkHosts:
    """Hosts by name; `close()` removes the namespaces and the bridge."""

    def __init__(self, hosts: dict[str, Host], bridge: str | None = None,
                 gateway: str = LOOPBACK, why_loopback: str = "") -> None:
        self.hosts, self.bridge, self.gateway = hosts, bridge, gateway
        self.why_loopback = why_loopback

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    @property
    def isolated(self) -> bool:
        return self.bridge is not None

    def describe(self) -> str:
        if not self.isolated:
            return f"processes on this machine's loopback ({self.why_loopback})"
        return ("hosts in their own network namespaces on a bridge: " + ", ".join(
            f"{host.name} {host.address}" for host in self.hosts.values()) +
            f"; customers and stand-ins on {self.gateway}")

    @classmethod
    def make(cls, names: list[str], namespaces: bool = True) -> NetworkHosts:
        why = "--loopback" if not namespaces else why_no_namespaces()
        if why:
            return cls({name: Host(name, LOOPBACK) for name in names}, why_loopback=why)
        tag = f"tr{os.getpid() % 100000}"  # names unique per run (interfaces: 15 bytes)
        subnet = f"10.213.{os.getpid() % 250}"
        made = cls({}, bridge=f"{tag}br", gateway=f"{subnet}.1")
        try:
            _ip("link", "add", made.bridge, "type", "bridge")
            _ip("addr", "add", f"{made.gateway}/24", "dev", made.bridge)
            _ip("link", "set", made.bridge, "up")
            for index, name in enumerate(names):
                host = Host(name, f"{subnet}.{10 + index}", f"{tag}-{name}")
                made.hosts[name] = host
                _join(host, made.bridge, f"{tag}h{index}", f"{tag}b{index}")
        except subprocess.CalledProcessError as error:
            made.close()
            raise RuntimeError(f"could not make the hosts' network: {error.stderr}") from error
        return made

    def cut(self, name: str) -> None:
        """The host's link goes down: its connections get no answer, as on a network
        partition (nothing is closed or refused)."""
        _ip("link", "set", self._bridge_side(name), "down")

    def mend(self, name: str) -> None:
        _ip("link", "set", self._bridge_side(name), "up")

    def _bridge_side(self, name: str) -> str:
        index = list(self.hosts).index(name)
        return f"{self.bridge[:-2]}b{index}"

    def close(self) -> None:
        for host in self.hosts.values():
            if host.namespace:
                subprocess.run(["ip", "netns", "delete", host.namespace],
                               capture_output=True, check=False)
        if self.bridge:
            subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True,
                           check=False)


def _join(host: Host, bridge: str, inside: str, outside: str) -> None:
    """A namespace for the host, and a cable (veth pair) from it to the bridge."""
    _ip("netns", "add", host.namespace)
    _ip("link", "add", inside, "type", "veth", "peer", "name", outside)
    _ip("link", "set", inside, "netns", host.namespace)
    for command in (("addr", "add", f"{host.address}/24", "dev", inside),
                    ("link", "set", inside, "up"), ("link", "set", "lo", "up")):
        _ip("-n", host.namespace, *command)
    _ip("link", "set", outside, "master", bridge)
    _ip("link", "set", outside, "up")


def why_no_namespaces() -> str:
    """Empty when network namespaces can be made here; otherwise why not."""
    if not shutil.which("ip"):
        return "iproute2's ip is missing"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"trprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode:
        return f"ip netns add refused: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)
    return ""


def _ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], capture_output=True, text=True, check=True)
