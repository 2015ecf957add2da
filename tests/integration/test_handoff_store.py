"""Ownership and the escalation queue against a real Redis server."""

from __future__ import annotations

import threading
import time

import redis

from teranga.handoff.ownership import BOT, QUEUED, agent_owner
from teranga.handoff.queue import Escalation
from tests.blocking import EscalationQueue, Ownership


def escalation(conversation: str) -> Escalation:
    return Escalation(conversation_id=conversation, channel="rest", customer=conversation,
                      language="wo", reasons=["negative_sentiment"],
                      sentiment={"label": "negative", "score": -0.8},
                      last_messages=[{"from": "customer", "text": "dama mer", "at": 1.0}],
                      top_intents=[{"name": "complain", "confidence": 0.9}])


def test_a_conversation_goes_bot_queue_agent_bot(client, prefix):
    ownership = Ownership(client, prefix)
    assert ownership.owner("c1") == BOT
    assert ownership.escalate("c1") and ownership.owner("c1") == QUEUED
    assert not ownership.escalate("c1"), "already queued"
    assert ownership.assign("c1", "awa") and ownership.owner("c1") == agent_owner("awa")
    assert ownership.conversations_of("awa") == {"c1"}
    assert ownership.transfer("c1", "awa", "musa")
    assert ownership.conversations_of("awa") == set()
    assert ownership.conversations_of("musa") == {"c1"}
    assert not ownership.return_to_bot("c1", "awa"), "awa no longer owns it"
    assert ownership.return_to_bot("c1", "musa") and ownership.owner("c1") == BOT
    assert ownership.conversations_of("musa") == set()


def test_an_unanswered_assignment_goes_back_to_the_queue(client, prefix):
    ownership = Ownership(client, prefix)
    ownership.escalate("c2")
    ownership.assign("c2", "awa")
    assert ownership.requeue("c2", "awa") and ownership.owner("c2") == QUEUED
    assert ownership.conversations_of("awa") == set()


def race_to_assign(redis_url: str, prefix: str, conversation: str) -> list[str]:
    """Two desk processes (own connections) assign one queued conversation at once."""
    Ownership(redis.Redis.from_url(redis_url), prefix).escalate(conversation)
    barrier = threading.Barrier(2)
    wins: list[str] = []

    def desk(agent: str) -> None:
        ownership = Ownership(redis.Redis.from_url(redis_url), prefix)
        barrier.wait()
        if ownership.assign(conversation, agent):
            wins.append(agent)

    threads = [threading.Thread(target=desk, args=(agent,)) for agent in ("awa", "musa")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wins


def test_two_desks_never_assign_one_conversation_twice(real_redis_url, prefix):
    for round_number in range(30):
        wins = race_to_assign(real_redis_url, prefix, f"race-{round_number}")
        assert len(wins) == 1, wins


def test_escalations_survive_a_desk_restart(client, prefix):
    stream = f"{prefix}:escalations"
    queue = EscalationQueue(client, stream=stream)
    entry = queue.publish(escalation("c3"))
    [(read_id, read)] = queue.read_new("desk-1")
    assert read_id == entry and read.language == "wo" and read.reasons == ["negative_sentiment"]
    assert queue.read_new("desk-1") == []

    restarted = EscalationQueue(client, stream=stream)  # same consumer name after a restart
    [(again_id, again)] = restarted.read_pending("desk-1")
    assert again_id == entry and again.last_messages[0]["text"] == "dama mer"
    restarted.ack(entry)
    assert restarted.pending_count() == 0


def test_a_dead_desks_escalations_are_claimed_by_another(client, prefix):
    stream = f"{prefix}:escalations"
    queue = EscalationQueue(client, stream=stream)
    entry = queue.publish(escalation("c4"))
    queue.read_new("desk-dead")
    time.sleep(0.05)
    claimed = EscalationQueue(client, stream=stream).claim_abandoned("desk-alive", 20)
    assert [entry_id for entry_id, _ in claimed] == [entry]


def test_the_demos_embedded_server_supports_the_handoff_store():
    """`make demo` without REDIS_URL runs on fakeredis: the same operations must work there."""
    from teranga.runtime import embedded_redis

    with embedded_redis() as url:
        client = redis.Redis.from_url(url)
        ownership, queue = Ownership(client), EscalationQueue(client)
        assert ownership.escalate("c5") and ownership.assign("c5", "awa")
        assert ownership.conversations_of("awa") == {"c5"}
        entry = queue.publish(escalation("c5"))
        assert [entry_id for entry_id, _ in queue.read_new("desk-1")] == [entry]
        assert [entry_id for entry_id, _ in queue.claim_abandoned("desk-2", 0)] == [entry]


def test_an_agent_never_gets_more_than_their_maximum_even_in_a_race(client, prefix):
    ownership = Ownership(client, prefix)
    conversations = [f"c{i}" for i in range(12)]
    for conversation in conversations:
        assert ownership.escalate(conversation)
    assert set(ownership.queued()) == set(conversations)
    barrier = threading.Barrier(12)

    def take(conversation):
        barrier.wait()
        ownership.assign(conversation, "awa", max_load=3)

    threads = [threading.Thread(target=take, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ownership.conversations_of("awa")) == 3
    assert len(ownership.queued()) == 9  # the others still wait, none lost


def test_sessions_expire_on_logout_and_wrong_passwords_lock_out(client, prefix):
    from teranga.agent_desk.auth import MAX_FAILED_LOGINS
    from tests.blocking import Sessions

    sessions = Sessions(client, prefix)
    token = sessions.open("awa")
    assert sessions.agent_id(token) == "awa"
    assert not any(token in key.decode() for key in client.scan_iter(f"{prefix}:*"))
    sessions.close(token)
    assert sessions.agent_id(token) is None
    assert sessions.agent_id("x" * 500) is None
    for _ in range(MAX_FAILED_LOGINS):
        assert sessions.start_login("awa", "192.0.2.1") is None
    assert sessions.start_login("awa", "192.0.2.1") == "id-address"


def test_presence_follows_heartbeats(client, prefix):
    from teranga.handoff.availability import PRESENCE_TTL_SECONDS
    from tests.blocking import Presence

    presence = Presence(client, prefix)
    presence.heartbeat("awa", available=True)
    presence.heartbeat("modou", available=False)
    assert presence.online() == {"awa", "modou"} and presence.available() == {"awa"}
    client.zadd(presence.online_key, {"old": time.time() - PRESENCE_TTL_SECONDS - 1})
    assert "old" not in presence.online()  # a desk that stopped beating has left
    presence.leave("awa")
    assert presence.online() == {"modou"} and presence.available() == set()


def test_the_queue_recovers_when_redis_lost_its_data(client, prefix):
    queue = EscalationQueue(client, f"{prefix}:escalations", "desk")
    client.delete(f"{prefix}:escalations")  # a Redis without persistence that restarted
    assert queue.read_new("desk-1") == []
    queue.publish(escalation("c1"))
    assert [e.conversation_id for _id, e in queue.read_new("desk-1")] == ["c1"]
