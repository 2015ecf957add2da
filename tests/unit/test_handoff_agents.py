import os
import stat
import subprocess
import sys

import pytest

from teranga.handoff.agents import (
    Agent,
    AgentDirectory,
    AgentError,
    hash_password,
    verify_password,
)
from teranga.handoff.routing import Waiting, eligible_agent, queue_order


def test_passwords_are_stored_as_salted_hashes():
    stored = hash_password("jerejef-2026")
    assert "jerejef" not in stored and stored.startswith("scrypt$")
    assert stored != hash_password("jerejef-2026")  # salted
    assert verify_password("jerejef-2026", stored)
    assert not verify_password("wrong-password", stored)
    assert not verify_password("jerejef-2026", "plain-text")
    with pytest.raises(AgentError):
        hash_password("short")


def test_directory_round_trip_keeps_the_file_private(tmp_path):
    path = tmp_path / "agents.yml"
    directory = AgentDirectory(path)
    directory.add(Agent("awa", "Awa Ndiaye", ["wo", "fr"], ["sunucash"], 3, "agent",
                        hash_password("jerejef-2026")))
    directory.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = AgentDirectory(path)
    assert loaded.authenticate("awa", "jerejef-2026").languages == ["wo", "fr"]
    assert loaded.authenticate("awa", "nope-nope-nope") is None
    assert loaded.authenticate("nobody", "jerejef-2026") is None


@pytest.mark.parametrize("agent, words", [
    (Agent("Awa Ndiaye", "x", ["wo"]), "lower-case"),
    (Agent("awa", "x", []), "at least one language"),
    (Agent("awa", "x", ["wo"], role="boss"), "role must be"),
    (Agent("awa", "x", ["wo"], max_conversations=0), "at least 1"),
])
def test_bad_agents_are_refused_with_a_reason(tmp_path, agent, words):
    with pytest.raises(AgentError, match=words):
        AgentDirectory(tmp_path / "agents.yml").add(agent)


AWA = Agent("awa", "Awa", ["wo", "fr"], ["sunucash"], max_conversations=2)
MUSA = Agent("musa", "Musa", ["ha", "en", "fr"], [], max_conversations=3)


def test_upset_customers_then_the_longest_waiting_come_first():
    calm_old = Waiting("a", "fr", ("asked_for_person",), since=100)
    upset_new = Waiting("b", "fr", ("negative_sentiment",), since=300)
    calm_new = Waiting("c", "fr", ("not_understood",), since=200)
    assert [w.conversation_id for w in queue_order([calm_old, upset_new, calm_new])] == \
        ["b", "a", "c"]


def test_routing_follows_language_skill_load_and_capacity():
    wolof = Waiting("w", "wo", ("asked_for_person",), 1)
    french = Waiting("f", "fr", ("asked_for_person",), 1)
    assert eligible_agent(wolof, [AWA, MUSA], {}) == AWA
    assert eligible_agent(french, [AWA, MUSA], {"awa": 1, "musa": 0}) == MUSA
    assert eligible_agent(wolof, [AWA, MUSA], {"awa": 2}) is None  # Awa is full
    needs_skill = Waiting("s", "fr", ("asked_for_person",), 1, skill="sunucash")
    assert eligible_agent(needs_skill, [MUSA], {}) is None
    assert eligible_agent(needs_skill, [AWA, MUSA], {}) == AWA


def teranga_agents(tmp_path, *args, password=None):
    env = {**os.environ, "TERANGA_AGENTS_FILE": str(tmp_path / "agents.yml")}
    return subprocess.run([sys.executable, "-m", "teranga", "agents", *args], env=env,
                          input=password, capture_output=True, text=True, timeout=60)


def test_agents_cli(tmp_path):
    added = teranga_agents(tmp_path, "add", "awa", "--name", "Awa Ndiaye", "--languages",
                           "wo,fr", "--skills", "sunucash", "--password-stdin",
                           password="jerejef-2026\n")
    assert added.returncode == 0, added.stderr
    again = teranga_agents(tmp_path, "add", "awa", "--name", "A", "--languages", "wo",
                           "--password-stdin", password="jerejef-2026\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    listed = teranga_agents(tmp_path, "list")
    assert "awa" in listed.stdout and "wo,fr" in listed.stdout
    assert "jerejef" not in (tmp_path / "agents.yml").read_text()
    assert teranga_agents(tmp_path, "remove", "awa").returncode == 0
    assert "0 agent(s)" in teranga_agents(tmp_path, "list").stdout
