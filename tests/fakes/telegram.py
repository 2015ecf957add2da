"""A stand-in for Telegram's Bot API on loopback, speaking its wire format
(`POST /bot<token>/<method>` with JSON or form parameters, answered with
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`),
and a builder of the Update JSON Telegram posts to webhooks. Tests can make it fail."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import defaultdict

from aiohttp import web

ERRORS = {400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by the user",
          429: "Too Many Requests: retry after 1", 500: "Internal Server Error"}


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.sent: list[dict] = []
        self.attempts: dict[int, int] = defaultdict(int)
        self.failures: dict[int, list[int]] = defaultdict(list)
        self.url = ""
        self._ids = itertools.count(1000)
        self.down: tuple[int, float] | None = None  # (status, until): an outage

    def fail(self, chat_id: int, *statuses: int) -> None:
        self.failures[chat_id].extend(statuses)

    def outage(self, status: int, seconds: float) -> None:
        """Answer every sendMessage with `status` for `seconds`."""
        self.down = (status, time.monotonic() + seconds)

    def to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if int(m["chat_id"]) == chat_id]

    def wait_for(self, chat_id: int, count: int = 1, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.to(chat_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{chat_id} got {self.to(chat_id)}, expected {count}")
            time.sleep(0.1)
        return self.to(chat_id)

    def update(self, chat_id: int, text: str | None = None, update_id: int | None = None,
               **message) -> dict:
        """The Update Telegram posts for a private message from this chat."""
        update_id = update_id if update_id is not None else next(self._ids)
        return {"update_id": update_id, "message": {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Amina"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Amina"},
            **({"text": text} if text is not None else {}), **message}}

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = dict(await request.json()) if request.content_type == "application/json" \
            else dict(await request.post())
        if method == "getMe":
            return _ok({"id": 42, "is_bot": True, "first_name": "Teranga",
                        "username": "teranga_bot", "can_join_groups": False,
                        "can_read_all_group_messages": False, "supports_inline_queries": False})
        if method != "sendMessage":
            return _error(404, "Not Found: method not found")
        chat_id = int(params["chat_id"])
        self.attempts[chat_id] += 1
        if self.failures[chat_id]:
            status = self.failures[chat_id].pop(0)
            return _error(status, ERRORS[status])
        if self.down and time.monotonic() < self.down[1]:
            return _error(self.down[0], ERRORS[self.down[0]])
        self.sent.append({**params, "at": time.time()})
        return _ok({"message_id": next(self._ids), "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"}, "text": params["text"]})

    def start(self, host: str = "127.0.0.1") -> str:
        """Listens on `host` (the bridge's address when Teranga runs on other hosts)."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self._method)
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, host, 0)
            loop.run_until_complete(site.start())
            self.url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True, name="fake-telegram").start()
        ready.wait(10)
        return self.url


def _ok(result: dict) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    if status == 429:
        body["parameters"] = {"retry_after": 1}
    return web.json_response(body, status=status)
