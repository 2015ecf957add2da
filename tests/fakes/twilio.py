"""A stand-in for Twilio's Messages API on loopback, speaking its wire format: form-encoded
`POST /2010-04-01/Accounts/<sid>/Messages.json` with HTTP basic auth, answered with Twilio's
JSON (201 and a message resource, or Twilio's error body). Tests can make it fail."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from collections import defaultdict

from aiohttp import ClientError, ClientSession, web
from twilio.request_validator import RequestValidator

ERRORS = {400: (21211, "The 'To' number is not a valid phone number."),
          429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error")}


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[dict] = []  # accepted messages
        self.attempts: dict[str, int] = defaultdict(int)  # per recipient
        self.failures: dict[str, list[int]] = defaultdict(list)  # recipient -> statuses to give
        self.url = ""
        self.callbacks: tuple[str, str] | None = None  # (public prefix, where it really is)
        self.down: tuple[int, float] | None = None  # (status, until): an outage
        self._loop: asyncio.AbstractEventLoop | None = None

    def fail(self, recipient: str, *statuses: int) -> None:
        """Answer the next requests for `recipient` with these statuses, in order."""
        self.failures[recipient].extend(statuses)

    def outage(self, status: int, seconds: float) -> None:
        """Answer every request with `status` for `seconds`."""
        self.down = (status, time.monotonic() + seconds)

    def to(self, recipient: str) -> list[str]:
        return [m["Body"] for m in self.sent if m["To"] == recipient]

    def wait_for(self, recipient: str, count: int = 1, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.to(recipient)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{recipient} got {self.to(recipient)}, expected {count}")
            time.sleep(0.1)
        return self.to(recipient)

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send with this webhook."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    async def _messages(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}" or \
                request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = dict(await request.post())
        recipient = form.get("To", "")
        self.attempts[recipient] += 1
        if self.failures[recipient]:
            status = self.failures[recipient].pop(0)
            return _error(status, *ERRORS[status])
        if self.down and time.monotonic() < self.down[1]:
            return _error(self.down[0], *ERRORS[self.down[0]])
        sid = "SM" + uuid.uuid4().hex
        self.sent.append({**form, "sid": sid, "at": time.time()})
        if form.get("StatusCallback") and self.callbacks:
            asyncio.get_running_loop().create_task(self._report(form["StatusCallback"], sid))
        return web.json_response({
            "sid": sid, "account_sid": self.account_sid, "to": recipient,
            "from": form.get("From"), "body": form.get("Body"), "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"},
            status=201)

    async def _report(self, callback: str, sid: str) -> None:
        """Twilio's status callbacks for an accepted message: sent, then delivered."""
        public, local = self.callbacks
        async with ClientSession() as session:
            for status in ("sent", "delivered"):
                await asyncio.sleep(0.2)
                params = {"MessageSid": sid, "MessageStatus": status,
                          "AccountSid": self.account_sid}
                try:
                    await session.post(callback.replace(public, local, 1), data=params,
                                       headers={"X-Twilio-Signature": self.sign(callback,
                                                                                params)})
                except ClientError:  # the server is down (a fault test): Twilio gives up too
                    return

    def start(self, host: str = "127.0.0.1") -> str:
        """Listens on `host` (the bridge's address when Teranga runs on other hosts)."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
            runner = web.AppRunner(app)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, host, 0)
            self._loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]
            self.url = f"http://{host}:{port}"
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True, name="fake-twilio").start()
        ready.wait(10)
        return self.url


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                             status=status)
