"""The desk's pages: logging in and out, the desk itself and its static files."""

from __future__ import annotations

import asyncio
import logging
import re
from html import escape
from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request

from teranga.agent_desk.auth import COOKIE, LOCKOUT_SECONDS, SESSION_SECONDS, Sessions
from teranga.agent_desk.origins import client_address
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"desk.js": "text/javascript", "desk.css": "text/css",
                "login.css": "text/css", "insights.js": "text/javascript",
                "insights-page.js": "text/javascript", "insights.css": "text/css",
                "echarts-6.1.0.min.js": "text/javascript"}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_LOCKOUT_MINUTES = LOCKOUT_SECONDS // 60
LOCKED_OUT = {  # by the limit that was reached (teranga.agent_desk.auth.LOGIN_LIMITS)
    "id": f"Too many failed attempts for this agent id: it is locked for everyone for "
          f"{_LOCKOUT_MINUTES} minutes. Ask a supervisor to unlock it.",
    "address": f"Too many failed attempts from this address: wait {_LOCKOUT_MINUTES} minutes.",
    "id-address": f"Too many failed attempts: wait {_LOCKOUT_MINUTES} minutes or ask a "
                  f"supervisor.",
}


def add_pages(app: Sanic, store: HandoffStore, sessions: Sessions,
              secure_cookies: bool) -> None:
    @app.get("/health")
    async def health(request: Request):
        return response.json({"status": "ok"})

    @app.get("/login")
    async def login_page(request: Request):
        return response.html(_login_page(error="", agent_id=""))

    @app.post("/login")
    async def login(request: Request):
        typed = (request.form.get("agent") or "").strip()[:64]
        agent_id = typed.lower()
        password = request.form.get("password") or ""
        address = client_address(request)
        refused_by = await sessions.start_login(agent_id, address)  # counted before scrypt
        if refused_by:
            logger.warning("Desk login refused from %s: %s limit reached", address, refused_by)
            # Not echoed here: the same page whatever the id, so it tells nothing.
            return response.html(_login_page(LOCKED_OUT[refused_by], ""), status=429)
        # scrypt takes tens of milliseconds: off the event loop, and run for unknown ids too,
        # so that the answer's timing does not tell which ids exist.
        agent = await asyncio.to_thread(store.directory.get().authenticate, agent_id, password)
        if agent is None:
            logger.warning("Failed desk login from %s", address)
            return response.html(_login_page("Unknown agent or wrong password.", typed),
                                 status=401)
        await sessions.login_succeeded(agent_id, address)
        reply = response.redirect("/")
        _set_cookie(reply, await sessions.open(agent.id), secure_cookies)
        return reply

    @app.post("/logout")
    async def logout(request: Request):
        await sessions.close(request.cookies.get(COOKIE))
        reply = response.redirect("/login")
        del reply.cookies[COOKIE]
        return reply

    @app.get("/")
    async def desk_page(request: Request):
        return response.html(page("desk.html"))

    @app.get("/static/<name:str>")
    async def static(request: Request, name: str):
        kind = STATIC_FILES.get(name)
        if kind is None:
            return response.json({"error": "not found"}, status=404)
        return response.text((STATIC / name).read_text("utf-8"),
                             content_type=f"{kind}; charset=utf-8")


def page(name: str, **values: str) -> str:
    """The page with each {{name}} replaced by its value, escaped, in one pass (so that a
    value that looks like a placeholder stays as typed)."""
    text = (STATIC / name).read_text("utf-8")
    return _PLACEHOLDER.sub(lambda match: escape(values.get(match[1], "")), text)


def _login_page(error: str, agent_id: str) -> str:
    """The login form; after a failure it keeps the agent id typed, and the cursor goes to
    the password."""
    return page("login.html", error=error, agent=agent_id,
                 agent_focus="" if agent_id else "autofocus",
                 password_focus="autofocus" if agent_id else "")


def _set_cookie(reply, token: str, secure: bool) -> None:
    reply.cookies[COOKIE] = token
    cookie = reply.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = SESSION_SECONDS
    cookie["path"] = "/"
    if secure:
        cookie["secure"] = True
