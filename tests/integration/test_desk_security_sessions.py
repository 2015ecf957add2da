"""Login throttling in the desk's Sessions, against the real Redis test database: per id from
one address, per address over all ids, per id over all addresses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from teranga.agent_desk.auth import LOCKOUT_SECONDS, LOGIN_LIMITS, Sessions

HOME, ELSEWHERE = "192.0.2.10", "192.0.2.20"


def fail(sessions: Sessions, agent_id: str, address: str, times: int = 1) -> None:
    """Wrong passwords: attempts that were let through and never succeeded."""
    for _ in range(times):
        assert sessions.start_login(agent_id, address) is None


def test_an_id_failing_from_one_address_is_locked_there_only(sessions):
    fail(sessions, "awa", HOME, LOGIN_LIMITS["id-address"])
    assert sessions.start_login("awa", HOME) == "id-address"
    assert sessions.start_login("awa", HOME) == "id-address"  # refusals are not counted:
    assert sessions.start_login("awa", ELSEWHERE) is None  # the id is not locked elsewhere
    assert sessions.start_login("modou", HOME) is None  # nor the address for other ids


def test_failures_over_many_ids_lock_the_address(sessions):
    for number in range(LOGIN_LIMITS["address"]):
        fail(sessions, f"guess-{number}", HOME)
    assert sessions.start_login("awa", HOME) == "address"
    assert sessions.start_login("awa", ELSEWHERE) is None


def test_failures_from_many_addresses_lock_the_id_everywhere_known_or_not(sessions):
    # Sessions never asks whether an id exists: a made-up id locks like a real one.
    for agent_id in ("awa", "made-up"):
        for number in range(LOGIN_LIMITS["id"]):
            fail(sessions, agent_id, f"198.51.100.{number}")
        assert sessions.start_login(agent_id, HOME) == "id"
    assert sessions.start_login("modou", HOME) is None


def test_a_success_takes_its_attempt_back_and_forgets_the_id_here(sessions, client):
    fail(sessions, "awa", HOME, LOGIN_LIMITS["id-address"] - 1)
    assert sessions.start_login("awa", HOME) is None
    sessions.login_succeeded("awa", HOME)
    fail(sessions, "awa", HOME, LOGIN_LIMITS["id-address"])  # a fresh count from here
    assert sessions.start_login("awa", HOME) == "id-address"
    # The id's and the address's counts keep the earlier failures: logging in now and then
    # does not wipe an attacker's count.
    id_key, address_key, _pair = sessions._failure_keys("awa", HOME)
    earlier_and_now = 2 * LOGIN_LIMITS["id-address"] - 1
    assert [int(client.get(k)) for k in (id_key, address_key)] == [earlier_and_now] * 2


def test_the_counts_expire_after_the_lockout(sessions, client):
    fail(sessions, "awa", HOME)
    keys = sessions._failure_keys("awa", HOME)
    assert all(0 < client.ttl(key) <= LOCKOUT_SECONDS for key in keys)
    assert not any(b"awa" in key for key in client.scan_iter(f"{sessions.prefix}:*"))


def test_guesses_sent_together_never_pass_a_limit(sessions):
    attempts = 4 * LOGIN_LIMITS["id-address"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        refusals = list(pool.map(lambda _: sessions.start_login("awa", HOME), range(attempts)))
    assert refusals.count(None) == LOGIN_LIMITS["id-address"]


def test_a_supervisor_can_unlock_an_id(sessions):
    at_home = LOGIN_LIMITS["id-address"] - 1
    fail(sessions, "awa", HOME, at_home)
    for number in range(LOGIN_LIMITS["id"] - at_home):
        fail(sessions, "awa", f"198.51.100.{number}")
    assert sessions.start_login("awa", HOME) == "id"
    sessions.unlock("awa")
    fail(sessions, "awa", HOME, LOGIN_LIMITS["id-address"])  # nothing left of either count
    assert sessions.start_login("awa", HOME) == "id-address"
