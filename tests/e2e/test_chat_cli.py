"""`teranga chat` in a terminal shows the whole conversation as the customer lives it: the
bot's replies, the hand-over, the agent's messages (which reach the customer later, through the
REST channel's outbox) and the satisfaction question after the hand-back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tests.e2e.desk_client import AgentSession, responses, wait_until

pytestmark = pytest.mark.e2e


class Terminal:
    """`teranga chat` run as a user would, its output collected as it comes."""

    def __init__(self, rasa_url: str, sender: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "teranga.cli", "chat", "--url", rasa_url,
             "--sender", sender, "--quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.output = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.process.stdout.read(1), ""):
            self.output += chunk

    def type(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def shows(self, text: str, timeout: float = 20) -> None:
        try:
            wait_until(lambda: text in self.output, timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"{text!r} not shown; the terminal shows:\n{self.output}") \
                from None

    def close(self) -> int:
        self.type("/quit")
        return self.process.wait(timeout=10)


def test_the_terminal_chat_shows_the_agent_s_side(server, sender):
    sw = responses("sw")
    terminal = Terminal(server.rasa_url, sender)
    try:
        terminal.type("nataka kuongea na mtu tafadhali")
        terminal.shows("bot> ")  # the hand-over's answer, whatever availability it tells
        agent = AgentSession(server.desk_url, "juma")
        assert agent.act(sender, "claim").ok
        assert agent.act(sender, "reply", text="Habari, mimi ni Juma. Nikusaidie vipi?").ok
        terminal.shows("Juma Otieno (agent)> Habari, mimi ni Juma. Nikusaidie vipi?")
        assert agent.act(sender, "return").ok
        terminal.shows(f"bot> {sw['utter_ask_satisfaction']}")
    finally:
        assert terminal.close() == 0
