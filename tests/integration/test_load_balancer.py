"""The shipped nginx configuration as a load balancer (tests/nginx_proxy.py), in front of
two stand-in processes that say who they are: a dead process is skipped, a 503 (Teranga's
answer while Redis fails over) does not take every process out of the pool, and a web-chat
client sticks to one process."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from teranga import runtime
from tests.nginx_proxy import NginxProxy

BOT = {"Host": "bot.example.com"}


class StandIn:
    """A server answering `status` with its own name, on a free port."""

    def __init__(self, name: str) -> None:
        self.name, self.status = name, 200
        self.port = runtime.free_port()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer()

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                body = stand_in.name.encode()
                self.send_response(stand_in.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_ins():
    servers = [StandIn("rasa-1"), StandIn("rasa-2")]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def balancer(stand_ins, tmp_path):
    ports = [server.port for server in stand_ins]
    proxy = NginxProxy(ports, ports, tmp_path).start()
    yield proxy.url
    proxy.stop()


def _post(url: str) -> requests.Response:
    return requests.post(f"{url}/webhooks/rest/webhook", json={}, headers=BOT, timeout=10)


def test_webhooks_are_spread_over_both_processes(balancer):
    assert {_post(balancer).text for _ in range(6)} == {"rasa-1", "rasa-2"}


def test_a_dead_process_is_skipped_without_failing_a_request(balancer, stand_ins):
    stand_ins[0].stop()
    replies = [_post(balancer) for _ in range(6)]
    assert [(reply.status_code, reply.text) for reply in replies] == [(200, "rasa-2")] * 6


def test_a_503_while_redis_fails_over_does_not_empty_the_pool(balancer, stand_ins):
    """Teranga answers 503 while Redis fails over, on every process at once. Retried on the
    next process and counted as failures, those 503s took both processes out of the pool
    for 5 s, and providers got nginx's 502 long after Redis was back."""
    for server in stand_ins:
        server.status = 503
    assert [_post(balancer).status_code for _ in range(4)] == [503] * 4
    for server in stand_ins:
        server.status = 200
    assert [_post(balancer).status_code for _ in range(4)] == [200] * 4


def test_a_web_chat_client_sticks_to_one_process(balancer):
    polls = {requests.get(f"{balancer}/socket.io/?EIO=4&transport=polling&t={number}",
                          headers=BOT, timeout=10).text for number in range(8)}
    assert len(polls) == 1
