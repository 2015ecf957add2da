"""`teranga chat`: talk to a running assistant through its REST channel, as a customer would.

The bot's immediate replies come back in the webhook's answer. Everything sent later (an
agent's messages, the desk's "Awa has joined", the satisfaction question after a hand-back)
waits in the REST channel's outbox; a background thread long-polls it, so the terminal shows
the agent's side of the conversation as it happens.
"""

from __future__ import annotations

import sys
import threading

import requests

from teranga import languages
from teranga.http_api import api_token, auth_header

PROMPT = "you> "
OUTBOX_WAIT_SECONDS = 20  # below the outbox's own 25 s limit
RETRY_SECONDS = 2


def chat(url: str, sender: str, quiet: bool = False) -> int:
    url = url.rstrip("/")
    print(f"Conversation {sender} with {url}. Write in {languages.spoken_in_english()}; "
          f"Ctrl-D or /quit to leave.")
    follower = OutboxFollower(url, sender)
    follower.start()
    try:
        _converse(url, sender, quiet)
    finally:
        follower.stop()
    return 0


def _converse(url: str, sender: str, quiet: bool) -> None:
    while True:
        try:
            text = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip() == "/quit":
            return
        try:
            replies = requests.post(f"{url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}, timeout=30)
        except requests.RequestException as error:
            print(f"(cannot reach the assistant at {url}: {error})", file=sys.stderr)
            continue
        if not replies.ok:
            print(f"({replies.status_code}: {replies.text.strip()})", file=sys.stderr)
            continue
        for reply in replies.json():
            print(speaker_line(reply))
        if not quiet:
            _print_understanding(url, sender)


def speaker_line(message: dict) -> str:
    """'bot> …', or the agent's name for an agent's message; buttons listed after the text."""
    who = f"{message['agent_name']} (agent)" if message.get("agent_name") else "bot"
    text = message.get("text") or ""
    buttons = [b.get("title") for b in message.get("buttons") or [] if isinstance(b, dict)]
    if buttons:
        text += "  [" + " | ".join(str(b) for b in buttons) + "]"
    if not text:
        text = str({k: v for k, v in message.items() if k not in ("id", "timestamp")})
    return f"{who}> {text}"


class OutboxRefused(Exception):
    pass


class OutboxFollower:
    """Prints what reaches the customer later, as it arrives, above the prompt."""

    def __init__(self, url: str, sender: str) -> None:
        self.url = url
        self.sender = sender
        self.after = "0"  # a new conversation's outbox is empty; an old one's unread shows
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # the thread is a daemon: a long poll in flight ends with the process

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._read()
            except OutboxRefused as refused:  # another channel's id: nothing will come
                print(f"\r(later messages cannot be shown: {refused})\n{PROMPT}", end="",
                      flush=True)
                return
            except (requests.RequestException, ValueError, KeyError):
                self._stop.wait(RETRY_SECONDS)  # the assistant restarts, or is not up yet
                continue
            for message in messages:
                self.after = message["id"]
                print(f"\r{speaker_line(message)}\n{PROMPT}", end="", flush=True)

    def _read(self) -> list[dict]:
        reply = requests.get(f"{self.url}/webhooks/rest/outbox",
                             params={"sender": self.sender, "after": self.after,
                                     "wait": OUTBOX_WAIT_SECONDS},
                             timeout=OUTBOX_WAIT_SECONDS + 10)
        if reply.status_code == 400:
            raise OutboxRefused(reply.json().get("error", reply.text))
        reply.raise_for_status()
        return reply.json()["messages"]


def _print_understanding(url: str, sender: str) -> None:
    token = api_token()
    if token is None:  # no assistant started here yet, so nothing to read
        return
    try:
        tracker = requests.get(f"{url}/conversations/{sender}/tracker",
                               headers=auth_header(token), timeout=5).json()
    except (requests.RequestException, ValueError):
        return
    latest = tracker.get("latest_message") or {}
    intent = latest.get("intent") or {}
    sentiment = latest.get("sentiment") or {}
    print(f"     [language {tracker.get('slots', {}).get('language')}, intent "
          f"{intent.get('name')} {intent.get('confidence', 0):.2f}, sentiment "
          f"{sentiment.get('label')}]")
