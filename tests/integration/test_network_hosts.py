"""The hosts bench/cluster.py runs Teranga on (tests/network_hosts.py): each with its own
address and its own loopback, reachable from the others and from this process, and
partitioned when its link is cut."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.network_hosts import LOOPBACK, NetworkHosts, why_no_namespaces

SERVE = ("import http.server, sys; http.server.HTTPServer((sys.argv[1], 8000), "
         "http.server.SimpleHTTPRequestHandler).serve_forever()")


@pytest.fixture
def hosts():
    why = why_no_namespaces()
    if why:
        pytest.skip(f"no network namespaces here: {why}")
    made = NetworkHosts.make(["a", "b"])
    yield made
    made.close()


def _get(hosts: NetworkHosts, host: str | None, url: str) -> bool:
    """Whether `url` answers when asked from `host` (None: this process's network)."""
    command = [sys.executable, "-c", "import sys, urllib.request; "
               "urllib.request.urlopen(sys.argv[1], timeout=1)", url]
    return subprocess.run(hosts[host].run(command) if host else command,
                          capture_output=True).returncode == 0


@pytest.fixture
def server_on_a(hosts):
    a = hosts["a"]
    server = subprocess.Popen(a.run([sys.executable, "-c", SERVE, "0.0.0.0"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{a.address}:8000/"
    for _ in range(50):
        if _get(hosts, "a", url):
            break
    yield url
    server.kill()
    server.wait()


def test_a_host_answers_on_its_address_from_the_others_and_from_outside(hosts, server_on_a):
    assert hosts["a"].address != hosts["b"].address != LOOPBACK
    assert _get(hosts, "b", server_on_a)
    assert _get(hosts, None, server_on_a)


def test_each_host_has_its_own_loopback(hosts, server_on_a):
    assert _get(hosts, "a", "http://127.0.0.1:8000/")
    assert not _get(hosts, "b", "http://127.0.0.1:8000/")


def test_a_cut_host_is_unreachable_until_mended(hosts, server_on_a):
    hosts.cut("a")
    assert not _get(hosts, "b", server_on_a)
    hosts.mend("a")
    assert _get(hosts, "b", server_on_a)


def test_close_leaves_no_namespace_behind():
    if why_no_namespaces():
        pytest.skip("no network namespaces here")
    made = NetworkHosts.make(["a"])
    namespace = made["a"].namespace
    made.close()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert namespace not in listed


def test_without_namespaces_every_host_is_loopback():
    made = NetworkHosts.make(["a", "b"], namespaces=False)
    assert not made.isolated
    assert made["a"].run(["true"]) == ["true"]
    assert made["a"].address == made["b"].address == LOOPBACK
