"""The shipped nginx configuration (deploy/nginx/teranga.conf), run by Debian's nginx in front
of the running assistant: the channels and the web chat pass, the Rasa HTTP API does not."""

from __future__ import annotations

import pytest
import requests

from teranga.http_api import api_token, auth_header
from tests.e2e.desk_client import responses
from tests.nginx_proxy import NginxProxy

pytestmark = pytest.mark.e2e

BOT, DESK = "bot.example.com", "desk.example.com"


@pytest.fixture(scope="module")
def proxy(server, tmp_path_factory):
    """Both shipped upstream lines of each pool point at the one running server."""
    nginx = NginxProxy([server.settings.rasa_port], [server.settings.desk_port],
                       tmp_path_factory.mktemp("nginx")).start()
    yield nginx.url
    nginx.stop()


def on(site: str) -> dict:
    return {"Host": site}


def test_the_channels_pass_through_the_proxy(proxy, sender):
    reply = requests.post(f"{proxy}/webhooks/rest/webhook", headers=on(BOT),
                          json={"sender": sender, "message": "bonjour"}, timeout=30)
    assert reply.status_code == 200
    assert [m["text"] for m in reply.json()] == [responses("fr")["utter_greet"]]
    handshake = requests.get(f"{proxy}/socket.io/?EIO=4&transport=polling", headers=on(BOT),
                             timeout=10)
    assert handshake.status_code == 200 and '"sid"' in handshake.text


@pytest.mark.parametrize("path", ["/conversations/{sender}/tracker", "/status", "/version",
                                  "/model/parse", "/conversations/{sender}/tracker/events",
                                  "/"])
def test_the_rasa_http_api_is_not_exposed_even_with_a_token(proxy, sender, path):
    token = auth_header(api_token())
    for method in ("GET", "POST"):
        reply = requests.request(method, f"{proxy}{path.format(sender=sender)}",
                                 headers={**on(BOT), **token}, json={}, timeout=10)
        assert reply.status_code == 404, (method, path, reply.status_code)


def test_the_desk_is_served_on_its_own_site(proxy):
    assert requests.get(f"{proxy}/health", headers=on(DESK), timeout=10).json() == \
        {"status": "ok"}
    assert requests.get(f"{proxy}/health", headers=on(BOT), timeout=10).status_code == 404


@pytest.mark.parametrize("path", ["/metrics", "/health/live", "/health/ready"])
def test_the_operators_routes_are_not_exposed_on_either_site(proxy, path):
    for site in (BOT, DESK):
        assert requests.get(f"{proxy}{path}", headers=on(site), timeout=10).status_code == 404
