"""The agents' desk: a Sanic web application (pages, JSON API, one websocket per open desk).

Every route but the login page needs a session; state-changing requests and websockets
must come from the desk's own origin. Every response carries a Content-Security-Policy and
the other security headers, and every error is answered in JSON on the API (a short plain
page elsewhere), never with a traceback. Background tasks take escalations in, route them,
re-queue unanswered ones and push news to open desks as it happens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import redis
from sanic import Sanic, response
from sanic.config import Config
from sanic.exceptions import SanicException
from sanic.request import Request

from teranga.agent_desk.auth import COOKIE, LOCKOUT_SECONDS, SESSION_SECONDS, Sessions
from teranga.agent_desk.canned import canned_replies
from teranga.agent_desk.events import EVENTS_STREAM
from teranga.agent_desk.rasa_api import RasaApi, RasaUnavailable
from teranga.agent_desk.service import ASSISTANT_LANGUAGES, Desk, DeskError
from teranga.desk_notices import NOTICES_STREAM
from teranga.handoff.agents import Agent
from teranga.handoff.availability import load_settings
from teranga.handoff.ownership import AGENT_PREFIX

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"desk.js": "text/javascript", "desk.css": "text/css",
                "login.css": "text/css"}
# What answers without a session: the login page needs its style sheet too.
PUBLIC_PATHS = frozenset({"/login", "/health", "/static/login.css"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FOREIGN_ORIGIN = ("refused: this request did not come from the desk's own pages "
                  "(its Origin, or Referer, is missing or another site's)")
STORE_DOWN = "the desk's store is unavailable, try again"
FAILED = "the desk failed on this request (the details are in its log); try again"
_LOCKOUT_MINUTES = LOCKOUT_SECONDS // 60
LOCKED_OUT = {  # by the limit that was reached (teranga.agent_desk.auth.LOGIN_LIMITS)
    "id": f"Too many failed attempts for this agent id: it is locked for everyone for "
          f"{_LOCKOUT_MINUTES} minutes. Ask a supervisor to unlock it.",
    "address": f"Too many failed attempts from this address: wait {_LOCKOUT_MINUTES} minutes.",
    "id-address": f"Too many failed attempts: wait {_LOCKOUT_MINUTES} minutes or ask a "
                  f"supervisor.",
}
# A host (and port) that may be repeated in the Content-Security-Policy, and an origin.
_HOST = r"([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?"
_ORIGIN = re.compile(rf"https?://{_HOST}")
HEARTBEAT_SECONDS = 5
MAINTENANCE_SECONDS = 1.0
CLAIM_ABANDONED_SECONDS = 30  # take over what a dead desk process left
RECONCILE_SECONDS = 300  # check that Rasa's pauses agree with ownership


class Dispatcher:
    """Routing runs in one task per desk process, woken whenever something may have changed
    (a new escalation, an agent available, capacity freed), never holding up the intake."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.wanted = asyncio.Event()

    def request(self) -> None:
        self.wanted.set()

    async def run(self) -> None:
        while True:
            await self.wanted.wait()
            self.wanted.clear()
            try:
                await self.desk.dispatch()
            except Exception:
                logger.exception("Routing failed; it runs again at the next change")


@dataclass
class Connections:
    """Open desks in this process: each websocket, the agent behind it and their session."""

    sockets: dict = field(default_factory=dict)  # websocket -> (agent id, session token)

    def agents(self) -> set[str]:
        return {agent_id for agent_id, _token in self.sockets.values()}

    async def drop_expired(self, desk: Desk, sessions: Sessions) -> None:
        """Close the sockets whose session ended or whose agent was removed."""
        for ws, (agent_id, token) in list(self.sockets.items()):
            if sessions.agent_id(token) != agent_id or desk.agent(agent_id) is None:
                self.sockets.pop(ws, None)
                await ws.close()


def create_app(desk: Desk, sessions: Sessions, allowed_origins: set[str],
               secure_cookies: bool = False) -> Sanic:
    app = Sanic("teranga_desk")  # reads SANIC_* variables: the proxy settings among them
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.WEBSOCKET_MAX_SIZE = 64 * 1024
    check_proxy_settings(app.config)
    allowed_origins = checked_origins(allowed_origins)
    connections = Connections()
    dispatcher = Dispatcher(desk)

    def session_agent(request: Request) -> Agent | None:
        agent_id = sessions.agent_id(request.cookies.get(COOKIE))
        return desk.agent(agent_id) if agent_id else None

    def own_origins(request: Request) -> set[str]:
        return {own_origin(request)} | allowed_origins

    @app.on_request
    async def guard(request: Request):
        """Refuse cross-site requests before any handler (or websocket handshake) runs."""
        if needs_origin(request) and sent_from(request) not in own_origins(request):
            logger.warning("Refused %s %s from origin %r (referer %r)", request.method,
                           request.path, request.headers.get("origin"),
                           request.headers.get("referer"))
            return response.json({"error": FOREIGN_ORIGIN}, status=403)
        if request.path in PUBLIC_PATHS:
            return None
        agent = session_agent(request)
        if agent is None:
            if is_api(request.path):
                return response.json({"error": "log in first"}, status=401)
            return response.redirect("/login")
        request.ctx.agent = agent
        return None

    @app.on_response
    async def security_headers(request: Request, reply):
        reply.headers.update(_security_headers(request, own_origins(request)))

    @app.exception(DeskError)
    async def desk_error(request: Request, error: DeskError):
        return response.json({"error": error.message}, status=error.status)

    @app.exception(RasaUnavailable)
    async def rasa_unavailable(request: Request, error: RasaUnavailable):
        logger.error("%s", error)
        return response.json({"error": "the assistant's server did not answer; "
                                       "try again in a moment"}, status=503)

    @app.exception(Exception)
    async def any_other_error(request: Request, error: Exception):
        """Sanic's own errors (404, 405, 413, 400...), Redis down, or a bug: a reason, and
        the details in the log only."""
        status, reason = _status_and_reason(request, error)
        headers = getattr(error, "headers", None) or {}  # such as 405's Allow
        if is_api(request.path):
            return response.json({"error": reason}, status=status, headers=headers)
        return response.text(f"{reason}\n", status=status, headers=headers)

    # --- pages ----------------------------------------------------------------------------

    @app.get("/health")
    async def health(request: Request):
        return response.json({"status": "ok"})

    @app.get("/login")
    async def login_page(request: Request):
        return response.html(_page("login.html", error=""))

    @app.post("/login")
    async def login(request: Request):
        agent_id = (request.form.get("agent") or "").strip().lower()[:64]
        password = request.form.get("password") or ""
        address = client_address(request)
        refused_by = sessions.start_login(agent_id, address)  # counted before scrypt runs
        if refused_by:
            logger.warning("Desk login refused from %s: %s limit reached", address, refused_by)
            return response.html(_page("login.html", error=LOCKED_OUT[refused_by]),
                                 status=429)
        # scrypt takes tens of milliseconds: off the event loop, and run for unknown ids too,
        # so that the answer's timing does not tell which ids exist.
        agent = await asyncio.to_thread(desk.directory.authenticate, agent_id, password)
        if agent is None:
            logger.warning("Failed desk login from %s", address)
            return response.html(_page("login.html", error="Unknown agent or wrong "
                                       "password."), status=401)
        sessions.login_succeeded(agent_id, address)
        reply = response.redirect("/")
        _set_cookie(reply, sessions.open(agent.id), secure_cookies)
        return reply

    @app.post("/logout")
    async def logout(request: Request):
        sessions.close(request.cookies.get(COOKIE))
        reply = response.redirect("/login")
        del reply.cookies[COOKIE]
        return reply

    @app.get("/")
    async def desk_page(request: Request):
        return response.html(_page("desk.html"))

    @app.get("/static/<name:str>")
    async def static(request: Request, name: str):
        kind = STATIC_FILES.get(name)
        if kind is None:
            return response.json({"error": "not found"}, status=404)
        return response.text((STATIC / name).read_text("utf-8"),
                             content_type=f"{kind}; charset=utf-8")

    # --- API ------------------------------------------------------------------------------

    @app.get("/api/me")
    async def me(request: Request):
        agent = request.ctx.agent
        return response.json({"id": agent.id, "name": agent.name, "role": agent.role,
                              "languages": agent.languages, "skills": agent.skills,
                              "available": desk.available(agent.id),
                              "all_languages": ASSISTANT_LANGUAGES})

    @app.get("/api/queue")
    async def queue(request: Request):
        agent = request.ctx.agent
        return response.json({"waiting": desk.queue_for(agent),
                              "mine": desk.conversations_of(agent)})

    @app.get("/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str):
        return response.json(await desk.conversation(unquote(conversation_id),
                                                     request.ctx.agent))

    @app.post("/api/conversations/<conversation_id>/<action:claim|reply|transfer|return|close>")
    async def act(request: Request, conversation_id: str, action: str):
        conversation_id = unquote(conversation_id)  # Sanic leaves path parameters encoded
        agent, body = request.ctx.agent, _json_body(request)
        for name in ("text", "agent", "language"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise DeskError(400, f"'{name}' must be a string")
        if action == "claim":
            await desk.claim(conversation_id, agent)
        elif action == "reply":
            await desk.reply(conversation_id, agent, str(body.get("text") or ""))
        elif action == "transfer":
            await desk.transfer(conversation_id, agent, to_agent=body.get("agent"),
                                to_language=body.get("language"))
        else:
            await desk.hand_back(conversation_id, agent, close=action == "close")
        if action in ("return", "close", "transfer"):
            dispatcher.request()  # capacity freed
        return response.json({"ok": True})

    @app.get("/api/canned/<language:[a-z]{2,3}>")
    async def canned(request: Request, language: str):
        return response.json(canned_replies(language))

    @app.get("/api/agents")
    async def agents(request: Request):
        online = desk.presence.online()
        return response.json([{"id": a.id, "name": a.name, "languages": a.languages,
                               "online": a.id in online}
                              for a in sorted(desk.directory.agents.values(),
                                              key=lambda a: a.id)])

    @app.post("/api/presence")
    async def presence(request: Request):
        agent = request.ctx.agent
        available = bool(_json_body(request).get("available"))
        desk.set_available(agent.id, available)
        if available:
            dispatcher.request()
        return response.json({"available": available})

    @app.get("/api/overview")
    async def overview(request: Request):
        if request.ctx.agent.role != "supervisor":
            return response.json({"error": "for supervisors only"}, status=403)
        return response.json(desk.overview())

    # --- real time ------------------------------------------------------------------------

    @app.websocket("/ws")
    async def websocket(request: Request, ws):
        agent = request.ctx.agent
        connections.sockets[ws] = (agent.id, request.cookies.get(COOKIE))
        desk.presence.heartbeat(agent.id, desk.available(agent.id))
        try:
            while True:
                await ws.recv()  # the desk only listens; this notices the socket closing
        finally:
            connections.sockets.pop(ws, None)
            if agent.id not in connections.agents():
                desk.presence.leave(agent.id)

    @app.before_server_start
    async def start_background(app_: Sanic, _loop):
        recovered = await asyncio.to_thread(desk.recover)
        logger.info("Desk %s started; %d unfinished escalation(s) recovered",
                    desk.consumer, recovered)
        for task in (_reconcile(desk), dispatcher.run(), _take_escalations(desk, dispatcher),
                     _maintain(desk, sessions, connections, dispatcher),
                     _push_news(desk, connections)):
            app_.add_task(task)

    @app.after_server_stop
    async def stop_background(app_: Sanic, _loop):
        await desk.rasa.close()

    return app


# --- who is asking, and from where ---------------------------------------------------------

def is_api(path: str) -> bool:
    """Paths that a script reads: their answers, errors included, are JSON."""
    return path.startswith("/api/") or path in ("/ws", "/health")


def needs_origin(request: Request) -> bool:
    return request.method in STATE_CHANGING or \
        request.headers.get("upgrade", "").lower() == "websocket"


def checked_origins(origins: set[str]) -> set[str]:
    """TERANGA_DESK_ORIGINS, each as browsers write an origin (they also go into the CSP)."""
    normalized = {origin.strip().rstrip("/").lower() for origin in origins}
    wrong = sorted(origin for origin in normalized if not _ORIGIN.fullmatch(origin))
    if wrong:
        raise ValueError(f"TERANGA_DESK_ORIGINS: {', '.join(wrong)} is not an origin such as "
                         "https://desk.example.com (a scheme, a host, maybe a port)")
    return normalized


def own_origin(request: Request) -> str:
    """The desk's origin as the browser sees it (behind a proxy, as the proxy says, when
    Sanic is told about the proxy)."""
    scheme = "https" if request.scheme in ("https", "wss") else "http"  # ws:// too
    return f"{scheme}://{request.host}".lower()


def sent_from(request: Request) -> str:
    """The origin of the page that sent the request: its Origin or, when a privacy tool
    removed that, its Referer's (browsers send one of them with every post)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower()
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.scheme not in ("http", "https") or not referer.netloc:
        return ""
    return f"{referer.scheme}://{referer.netloc.rsplit('@', 1)[-1]}".lower()


def client_address(request: Request) -> str:
    """The agent's address as the proxy tells it, when Sanic knows the proxy (its
    PROXIES_COUNT, REAL_IP_HEADER or FORWARDED_SECRET); else the socket's. Without those
    settings Sanic ignores X-Forwarded-For, which anyone can send."""
    if not request.remote_addr and "x-forwarded-for" in request.headers:
        _warn_proxy_not_configured()
    return request.remote_addr or request.ip


@cache
def _warn_proxy_not_configured() -> None:
    logger.warning("Requests come with X-Forwarded-For, but Sanic's proxy settings give no "
                   "client address: login throttling counts the proxy's address for everybody."
                   " Behind one reverse proxy, set SANIC_PROXIES_COUNT=1.")


def check_proxy_settings(config: Config) -> None:
    """Sanic turns SANIC_* values that look like numbers or booleans into them: a wrong count
    would fail every request, and a secret must stay the text that the proxy sends."""
    count = config.PROXIES_COUNT
    if count is not None and (not isinstance(count, int) or count < 0):
        raise ValueError(f"SANIC_PROXIES_COUNT must be the number of proxies in front of the "
                         f"desk (1 behind one nginx), not {count!r}")
    if config.FORWARDED_SECRET is not None:
        config.FORWARDED_SECRET = os.environ.get("SANIC_FORWARDED_SECRET",
                                                 str(config.FORWARDED_SECRET))
    logger.info("Agents' addresses come from %s", "the proxy's headers" if
                count or config.REAL_IP_HEADER or config.FORWARDED_SECRET else "the socket")


# --- what every response says about itself --------------------------------------------------

def _security_headers(request: Request, origins: set[str]) -> dict[str, str]:
    headers = {"Content-Security-Policy": _content_security_policy(request, origins),
               "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin"}
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"  # agents' and customers' data
    return headers


def _content_security_policy(request: Request, origins: set[str]) -> str:
    """Scripts, styles and connections from the desk only; its websocket is named as well,
    for browsers whose 'self' does not cover ws:// and wss://."""
    if not re.fullmatch(_HOST, request.host, re.IGNORECASE):
        origins = origins - {own_origin(request)}  # an odd Host header: not repeated
    sockets = sorted(f"{scheme}://{origin.split('://', 1)[1]}" for origin in origins
                     for scheme in ("ws", "wss"))
    return "; ".join(["default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self'", f"connect-src 'self' {' '.join(sockets)}".strip(),
                      "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"])


def _status_and_reason(request: Request, error: Exception) -> tuple[int, str]:
    if isinstance(error, redis.RedisError):
        logger.error("Redis failed on %s %s: %r", request.method, request.path, error)
        return 503, STORE_DOWN
    status = getattr(error, "status_code", 500)
    if isinstance(error, SanicException) and status < 500:
        return status, str(error)  # Sanic's own message: 404, 405, 413, 400...
    logger.error("Desk request %s %s failed", request.method, request.path, exc_info=error)
    return max(status, 500), FAILED


async def _reconcile(desk: Desk) -> None:
    """Once at start-up, as soon as the Rasa server answers."""
    while True:
        try:
            fixed = await desk.reconcile()
            logger.info("Ownership and Rasa's pauses agree (%d fixed)", fixed)
            return
        except Exception as error:  # Rasa not up yet, most likely
            logger.info("Reconciling pauses with Rasa failed, retrying: %r", error)
            await asyncio.sleep(2)


async def _take_escalations(desk: Desk, dispatcher: Dispatcher) -> None:
    while True:
        try:
            if await asyncio.to_thread(desk.ingest, 1000):
                dispatcher.request()
        except Exception:
            logger.exception("Taking escalations in failed; retrying")
            await asyncio.sleep(1)


async def _maintain(desk: Desk, sessions: Sessions, connections: Connections,
                    dispatcher: Dispatcher) -> None:
    """Every second: deadlines and routing; every few seconds: presence and sessions; now and
    then: what dead desk processes left, and pauses against ownership."""
    ticks = 0
    while True:
        ticks += 1
        try:
            await desk.requeue_unanswered()
            await desk.requeue_orphans()
            dispatcher.request()  # agents come and go, waits grow
            if ticks % HEARTBEAT_SECONDS == 0:
                await connections.drop_expired(desk, sessions)
                for agent_id in connections.agents():
                    desk.presence.heartbeat(agent_id, desk.available(agent_id))
            if ticks % CLAIM_ABANDONED_SECONDS == 0:
                await asyncio.to_thread(desk.take_over_abandoned)
            if ticks % RECONCILE_SECONDS == 0:
                await desk.reconcile()
        except Exception:
            logger.exception("Desk maintenance failed; retrying")
        await asyncio.sleep(MAINTENANCE_SECONDS)


async def _push_news(desk: Desk, connections: Connections) -> None:
    """Send each open desk the messages and changes its agent may see, as they happen."""
    reader = redis.Redis(connection_pool=desk.client.connection_pool)
    last = {EVENTS_STREAM: "$", NOTICES_STREAM: "$"}
    while True:
        try:
            replies = await asyncio.to_thread(reader.xread, last, count=500, block=1000)
        except redis.RedisError:
            logger.exception("Reading desk news failed; retrying")
            await asyncio.sleep(1)
            continue
        for stream, entries in replies or []:
            name = stream.decode()
            for entry_id, fields in entries:
                last[name] = entry_id.decode()
                try:
                    await _deliver(desk, connections, name, json.loads(fields[b"data"]))
                except Exception:  # one bad item must not stop the news for everyone
                    logger.exception("Could not deliver desk news %s", last[name])


async def _deliver(desk: Desk, connections: Connections, stream: str, item: dict) -> None:
    if not connections.sockets:
        return
    conversation_id = item.get("conversation_id")
    if stream == EVENTS_STREAM or item.get("kind") == "delivery":  # from the Rasa server
        record = desk.records.get(conversation_id)
        if record is None:  # never escalated: the bot's business only
            return
        owner, language, kind = desk.ownership.owner(conversation_id), record.language, "message"
    else:
        owner, language, kind = item["owner"], item.get("language") or "", "notice"
    text = json.dumps({"type": kind, **item}, ensure_ascii=False)
    for ws, (agent_id, _token) in list(connections.sockets.items()):
        agent = desk.agent(agent_id)  # as the agents file says now
        if agent and (desk.can_see(agent, owner, language) or _was_theirs(agent, item)):
            try:
                await ws.send(text)
            except Exception:  # a socket that closed meanwhile; its handler cleans up
                connections.sockets.pop(ws, None)


def _was_theirs(agent: Agent, item: dict) -> bool:
    """An agent hears that a conversation left them (re-queued, transferred, closed)."""
    return item.get("agent") == agent.id or item.get("owner") == f"{AGENT_PREFIX}{agent.id}"


def _json_body(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeskError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DeskError(400, "the request body must be a JSON object")
    return body


def _page(name: str, **values: str) -> str:
    text = (STATIC / name).read_text("utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", escape(value))
    return text


def _set_cookie(reply, token: str, secure: bool) -> None:
    reply.cookies[COOKIE] = token
    cookie = reply.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = SESSION_SECONDS
    cookie["path"] = "/"
    if secure:
        cookie["secure"] = True


def build(redis_url: str, rasa_url: str) -> Sanic:
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
    consumer = os.environ.get("TERANGA_DESK_CONSUMER") or f"{socket.gethostname()}-desk"
    desk = Desk(client, RasaApi.from_env(rasa_url), load_settings(), consumer)
    origins = {o.strip() for o in os.environ.get("TERANGA_DESK_ORIGINS", "").split(",")
               if o.strip()}
    return create_app(desk, Sessions(client), origins,
                      secure_cookies=os.environ.get("TERANGA_DESK_SECURE_COOKIES") == "1")
