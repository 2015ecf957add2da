"""The desk's web application under attack: cross-site requests, framing, errors, password
guessing, proxies. The Sanic app is served in this process against the real Redis test
database, with no Rasa server (nothing here reaches it)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import requests
import websockets
from websockets.exceptions import InvalidStatusCode

from teranga.agent_desk import origins as desk_app
from teranga.agent_desk.app import create_app
from teranga.agent_desk.auth import LOGIN_LIMITS, Sessions
from teranga.agent_desk.desk import Desk
from teranga.agent_desk.guard import FAILED, STORE_DOWN
from teranga.handoff.agents import Agent, AgentDirectory, hash_password
from teranga.handoff.store import HandoffStore
from teranga.settings import Settings
from tests.running_app import RunningApp

pytestmark = pytest.mark.usefixtures("several_apps")

PASSWORD = "correct horse battery"
AGENT = "adama"  # no end-to-end test uses this id
PROBE = "/api/conversations/no-such-conversation/claim"  # a post with no effect: 404 if let in
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin"}


class NoRasa:
    """Nothing these tests do reaches the Rasa server."""

    async def close(self) -> None:
        pass


class RunningDesk(RunningApp):
    """The desk's Sanic app serving on a free port (its background tasks are not started)."""

    def session(self, origin: str | None = None, **headers: str) -> requests.Session:
        """A browser of an agent, logged in from a page at `origin` (the desk's own)."""
        browser = requests.Session()
        browser.headers.update(headers)
        reply = browser.post(f"{self.url}/login", data={"agent": AGENT, "password": PASSWORD},
                             headers={"Origin": origin or self.url}, allow_redirects=False,
                             timeout=10)
        assert reply.status_code == 302, reply.text
        return browser

    def login(self, agent_id: str, password: str, **headers: str) -> requests.Response:
        return requests.post(f"{self.url}/login", data={"agent": agent_id, "password": password},
                             headers={"Origin": self.url, **headers}, allow_redirects=False,
                             timeout=10)

    def websocket_status(self, **headers: str) -> int:
        """101 when the handshake succeeds, else the refusal's status."""
        async def handshake():
            async with websockets.connect(self.url.replace("http", "ws") + "/ws",
                                          extra_headers=headers, open_timeout=5):
                return 101

        try:
            return asyncio.run(handshake())
        except InvalidStatusCode as refused:
            return refused.status_code


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory) -> Path:
    directory = AgentDirectory(tmp_path_factory.mktemp("desk") / "agents.yml")
    directory.add(Agent(AGENT, "Adama Ba", ["fr"], password_hash=hash_password(PASSWORD)))
    directory.save()
    return directory.path


@pytest.fixture
def make_desk(real_redis_url, prefix, agents_file):
    def make(origins: frozenset[str] = frozenset(), session_store: Sessions | None = None):
        # The app's own asynchronous clients: it serves on an event loop of its own.
        settings = Settings.from_env()
        store = HandoffStore.from_url(real_redis_url, agents_file, settings.desk_settings_file)
        desk = Desk(store, NoRasa(), "security-tests")
        sessions = Sessions(aioredis.Redis.from_url(real_redis_url), prefix)
        return RunningDesk(create_app(desk, session_store or sessions, set(origins),
                                      forwarded_secret=settings.forwarded_secret))

    return make


@pytest.fixture
def desk(make_desk):
    with make_desk() as running:
        yield running


# --- cross-site requests ------------------------------------------------------------------

def test_state_changing_requests_need_the_desks_origin_or_its_referer(desk):
    agent = desk.session()
    probe = f"{desk.url}{PROBE}"

    def status(method: str = "POST", url: str = probe, **headers: str) -> int:
        return agent.request(method, url, headers=headers, json={}, timeout=10).status_code

    refused = agent.post(probe, json={}, timeout=10)
    assert refused.status_code == 403 and "Origin" in refused.json()["error"]
    for method in ("PUT", "PATCH", "DELETE"):
        assert status(method) == 403, method
    assert status(Origin=desk.url) == 404  # let through, to find no such conversation
    # Origin stripped by a privacy tool: the Referer says where the post came from.
    assert status(Referer=f"{desk.url}/") == 404
    assert status(Referer="http://evil.example/desk") == 403
    assert status(Referer=desk.url.rsplit(":", 1)[0] + ":1/") == 403  # another port
    assert status(Origin="null") == 403
    assert status(Origin="http://evil.example", Referer=f"{desk.url}/") == 403
    # Logging out and logging in are posts too.
    assert status(url=f"{desk.url}/logout") == 403
    assert agent.get(f"{desk.url}/api/me", timeout=10).status_code == 200  # still logged in
    login = requests.post(f"{desk.url}/login", data={"agent": AGENT, "password": PASSWORD},
                          allow_redirects=False, timeout=10)
    assert login.status_code == 403 and login.json()["error"]


def test_the_websocket_handshake_needs_the_desks_origin(desk):
    cookie = f"teranga_desk={desk.session().cookies['teranga_desk']}"
    assert desk.websocket_status(Cookie=cookie) == 403
    assert desk.websocket_status(Cookie=cookie, Origin="http://evil.example") == 403
    assert desk.websocket_status(Cookie=cookie, Referer=f"{desk.url}/") == 101
    assert desk.websocket_status(Cookie=cookie, Origin=desk.url) == 101


def test_the_origins_of_TERANGA_DESK_ORIGINS_are_accepted(make_desk):
    with make_desk(frozenset({"https://Desk.Example.com/"})) as desk:
        agent = desk.session()
        reply = agent.post(f"{desk.url}{PROBE}", json={}, timeout=10,
                           headers={"Origin": "https://desk.example.com"})
        assert reply.status_code == 404
        assert "wss://desk.example.com" in reply.headers["Content-Security-Policy"]
    with pytest.raises(ValueError, match="desk.example.com"):
        make_desk(frozenset({"desk.example.com"}))  # not an origin: no scheme


# --- what every response says about itself --------------------------------------------------

def test_every_response_carries_the_security_headers(desk):
    agent = desk.session()
    replies = {"login page": requests.get(f"{desk.url}/login", timeout=10),
               "desk page": agent.get(f"{desk.url}/", timeout=10),
               "redirect": requests.get(f"{desk.url}/", allow_redirects=False, timeout=10),
               "api": agent.get(f"{desk.url}/api/me", timeout=10),
               "no session": requests.get(f"{desk.url}/api/me", timeout=10),
               "refused post": agent.post(f"{desk.url}{PROBE}", timeout=10),
               "not found": agent.get(f"{desk.url}/api/nothing", timeout=10),
               "script": agent.get(f"{desk.url}/static/desk.js", timeout=10)}
    assert [r.status_code for r in replies.values()] == [200, 200, 302, 200, 401, 403, 404, 200]
    own_socket = desk.url.replace("http://", "ws://")
    for name, reply in replies.items():
        for header, value in SECURITY_HEADERS.items():
            assert reply.headers.get(header) == value, (name, header)
        policy = dict(part.strip().split(" ", 1) for part in
                      reply.headers["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert policy["connect-src"].split()[:2] == ["'self'", own_socket], name
        if name != "script":
            assert reply.headers.get("Cache-Control") == "no-store", name


class _InlineCode(HTMLParser):
    """What a page would need 'unsafe-inline' for, and the files it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        self.inline += [f"{tag} {name}" for name in attributes
                        if name.startswith("on") or name == "style"]
        if tag == "style" or (tag == "script" and "src" not in attributes):
            self.inline.append(tag)
        if tag == "script" and "src" in attributes:
            self.loads.append(attributes["src"])
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.loads.append(attributes["href"])


@pytest.mark.parametrize("page", ["/login", "/"])
def test_the_pages_run_under_the_policy_with_no_inline_code(desk, page):
    browser = desk.session() if page == "/" else requests.Session()
    found = _InlineCode()
    found.feed(browser.get(f"{desk.url}{page}", timeout=10).text)
    assert found.inline == [] and found.loads
    for path in found.loads:
        reply = browser.get(f"{desk.url}{path}", timeout=10)
        assert reply.status_code == 200, path
        assert reply.headers["Content-Type"].split(";")[0] in ("text/css", "text/javascript")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_the_desk_logs_in_and_goes_live_in_chromium_under_its_policy(desk):
    """The policy does not stop the pages' own scripts, styles, calls or websocket."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: message.type == "error"
                    and not message.location["url"].endswith("/favicon.ico")
                    and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{desk.url}/login")
            expect(page.locator("form")).to_have_css("background-color", "rgb(255, 255, 255)")
            page.fill("#agent", AGENT)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#link")).to_have_text("live")
            expect(page.locator("#me")).to_contain_text("Adama Ba")
            expect(page.locator("header")).to_have_css("display", "flex")  # desk.css applied
        finally:
            browser.close()
    assert problems == []


# --- errors -----------------------------------------------------------------------------------

def _dead_redis() -> aioredis.Redis:
    """A Redis client whose server is gone: a port nothing listens on."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)


def test_while_redis_is_down_the_desk_says_so_without_a_traceback(make_desk):
    with make_desk(session_store=Sessions(_dead_redis())) as desk:
        cookie = {"Cookie": "teranga_desk=some-session"}
        api = requests.get(f"{desk.url}/api/me", headers=cookie, timeout=10)
        assert api.status_code == 503 and api.json() == {"error": STORE_DOWN}
        page = requests.get(f"{desk.url}/", headers=cookie, timeout=10)
        login = requests.post(f"{desk.url}/login", data={"agent": AGENT, "password": "x"},
                              headers={"Origin": desk.url}, timeout=10)
        for reply in (page, login):
            assert reply.status_code == 503
            assert reply.headers["Content-Type"].startswith("text/plain")
            assert reply.text.strip() == STORE_DOWN
            assert reply.headers["X-Frame-Options"] == "DENY"
        assert desk.websocket_status(Origin=desk.url, **cookie) == 503


def test_an_unexpected_error_is_logged_and_answered_without_its_details(make_desk, caplog):
    running = make_desk()

    async def broken(request):
        raise RuntimeError("secret detail 4242")

    running.app.add_route(broken, "/api/broken")
    running.app.add_route(broken, "/broken")
    with running as desk, caplog.at_level(logging.ERROR, logger="teranga.agent_desk.origins"):
        agent = desk.session()
        api = agent.get(f"{desk.url}/api/broken", timeout=10)
        page = agent.get(f"{desk.url}/broken", timeout=10)
    assert api.status_code == 500 and api.json() == {"error": FAILED}
    assert page.status_code == 500 and page.text.strip() == FAILED
    assert page.headers["Content-Type"].startswith("text/plain")
    logged = [r for r in caplog.records if r.exc_info and "secret detail 4242" in
              str(r.exc_info[1])]
    assert len(logged) == 2


def _raw(desk: RunningDesk, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send bytes no well-behaved client would; the status, headers and body of the answer."""
    host_port = desk.url.split("//")[1]
    with socket.create_connection(tuple(host_port.split(":")), timeout=10) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    header_block, _, content = received.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, value in
               (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, content


def test_sanics_own_errors_are_json_on_api_paths(desk):
    agent = desk.session(desk.url, Origin=desk.url)
    not_found = agent.get(f"{desk.url}/api/nothing-here", timeout=10)
    wrong_method = agent.get(f"{desk.url}{PROBE}", timeout=10)
    too_big = agent.post(f"{desk.url}{PROBE}", data=b"{}" + b" " * 100_000, timeout=10)
    for reply, status in ((not_found, 404), (wrong_method, 405), (too_big, 413)):
        assert reply.status_code == status
        assert reply.headers["Content-Type"] == "application/json", status
        assert reply.json()["error"], status
    assert wrong_method.headers["Allow"] == "POST"
    cookie = f"teranga_desk={agent.cookies['teranga_desk']}"
    status, headers, content = _raw(desk, f"POST {PROBE} HTTP/1.1\nHost: x\nOrigin: http://x\n"
                                          f"Cookie: {cookie}\nTransfer-Encoding: chunked\n"
                                          "Connection: close\n", b"zz\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert b"chunked" in content
    page = agent.get(f"{desk.url}/no-such-page", timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/plain")


# --- guessing passwords -----------------------------------------------------------------------

def test_failures_over_many_ids_lock_the_address(desk):
    for number in range(LOGIN_LIMITS["address"]):
        assert desk.login(f"nobody-{number}", "password1").status_code == 401
    refused = desk.login(AGENT, PASSWORD)  # the right password, but from that address
    assert refused.status_code == 429 and "this address" in refused.text


def test_failures_from_many_addresses_lock_the_id_for_everyone_without_telling_it_exists(
        make_desk, monkeypatch):
    monkeypatch.setenv("SANIC_PROXIES_COUNT", "1")
    with make_desk() as desk:
        answers = {}
        for agent_id in (AGENT, "nobody-at-all"):
            for number in range(LOGIN_LIMITS["id"]):
                address = {"X-Forwarded-For": f"198.51.100.{number}"}
                assert desk.login(agent_id, "password1", **address).status_code == 401
            answers[agent_id] = desk.login(agent_id, PASSWORD,
                                           **{"X-Forwarded-For": "198.51.100.99"})
    assert {reply.status_code for reply in answers.values()} == {429}
    assert "ask a supervisor" in answers[AGENT].text.lower()
    assert answers[AGENT].text == answers["nobody-at-all"].text


def test_guesses_sent_together_are_counted_before_any_password_is_checked(desk):
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: desk.login(AGENT, "password1").status_code,
                                 range(3 * LOGIN_LIMITS["id-address"])))
    assert sorted(statuses) == [401] * LOGIN_LIMITS["id-address"] + \
        [429] * 2 * LOGIN_LIMITS["id-address"]


# --- behind a reverse proxy -------------------------------------------------------------------

def test_without_proxy_settings_x_forwarded_for_is_not_believed(desk, caplog):
    desk_app._warn_proxy_not_configured.cache_clear()
    with caplog.at_level(logging.WARNING, logger="teranga.agent_desk.origins"):
        for number in range(LOGIN_LIMITS["id-address"]):
            forged = {"X-Forwarded-For": f"192.0.2.{number}"}
            assert desk.login(AGENT, "password1", **forged).status_code == 401
    assert desk.login(AGENT, PASSWORD, **{"X-Forwarded-For": "192.0.2.200"}).status_code == 429
    assert sum("SANIC_PROXIES_COUNT=1" in r.getMessage() for r in caplog.records) == 1


def test_behind_one_proxy_the_desk_takes_address_scheme_and_host_from_it(make_desk,
                                                                          monkeypatch):
    monkeypatch.setenv("SANIC_PROXIES_COUNT", "1")  # what docs/deploying.md says for one nginx
    with make_desk() as desk:
        assert desk.app.config.PROXIES_COUNT == 1
        # nginx appends the address it saw; what the client wrote before it is not believed.
        for _ in range(LOGIN_LIMITS["id-address"]):
            sent = {"X-Forwarded-For": "10.1.1.1, 203.0.113.5"}
            assert desk.login(AGENT, "password1", **sent).status_code == 401
        assert desk.login(AGENT, PASSWORD, **{"X-Forwarded-For": "203.0.113.5"}).status_code \
            == 429
        assert desk.login(AGENT, PASSWORD, **{"X-Forwarded-For": "10.1.1.1"}).status_code \
            == 302
        # The browser is on https://desk.example.com; the proxy talks plain HTTP to the desk.
        public = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "desk.example.com",
                  "X-Forwarded-For": "203.0.113.9"}
        agent = desk.session("https://desk.example.com", **public)
        reply = agent.post(f"{desk.url}{PROBE}", json={}, timeout=10,
                           headers={"Origin": "https://desk.example.com"})
        assert reply.status_code == 404
        assert "wss://desk.example.com" in reply.headers["Content-Security-Policy"]
        assert agent.post(f"{desk.url}{PROBE}", json={}, timeout=10,
                          headers={"Origin": desk.url}).status_code == 403


def test_proxy_settings_that_cannot_work_are_refused_or_kept_as_text(make_desk, monkeypatch):
    monkeypatch.setenv("SANIC_PROXIES_COUNT", "-1")
    with pytest.raises(ValueError, match="SANIC_PROXIES_COUNT"):
        make_desk()
    monkeypatch.delenv("SANIC_PROXIES_COUNT")
    monkeypatch.setenv("SANIC_FORWARDED_SECRET", "12345")  # Sanic would make it a number
    with make_desk() as desk:
        assert desk.app.config.FORWARDED_SECRET == "12345"
        forwarded = {"Forwarded": "for=192.0.2.60;secret=12345"}
        for _ in range(LOGIN_LIMITS["id-address"]):
            assert desk.login(AGENT, "password1", **forwarded).status_code == 401
        assert desk.login(AGENT, PASSWORD, **forwarded).status_code == 429
        assert desk.login(AGENT, PASSWORD).status_code == 302  # the proxy's own address
