"""What `teranga privacy export|erase|purge` do (the parsers are in teranga/cli.py)."""

from __future__ import annotations

import asyncio
import functools
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from teranga import redis_keys
from teranga.customer_data.customer import customer_of
from teranga.customer_data.erase import HeldByAgent, erase, prove
from teranga.customer_data.export import export
from teranga.customer_data.retention import purge
from teranga.insights.store import open_store
from teranga.privacy import audit
from teranga.redis_connections import sync_redis
from teranga.settings import PROJECT_ROOT, Settings

LOGS_DIR = PROJECT_ROOT / ".teranga" / "logs"
EXIT_REMAINS, EXIT_HELD = 1, 3
# An erasure's audit entry names nobody: the customer's id there would be a trace of them.
ERASED_CUSTOMER = "[erased]"


def _redis_errors_told(command: Callable[..., int]) -> Callable[..., int]:
    """A Redis that cannot be reached is an error message (teranga/cli.py prints it), not a
    traceback; nothing half-done is hidden: the erase's proof is what to run again."""
    @functools.wraps(command)
    def run(*args, **kwargs) -> int:
        try:
            return command(*args, **kwargs)
        except redis.RedisError as error:
            raise RuntimeError(f"Redis failed ({error}); run the command again") from error
    return run


def _client(redis_url: str | None) -> redis.Redis:
    url = redis_url or Settings.from_env().require_redis_url("teranga privacy")
    return sync_redis(url, socket_connect_timeout=5, socket_timeout=30)


def cli_actor() -> str:
    """Who ran the command, as the audit names them: `cli:<login name>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no name in the environment nor the user database
        return "cli:unknown"


def _audit(client: redis.Redis, action: str, conversation_id: str, detail: str) -> None:
    asyncio.run(audit.record(client, cli_actor(), action, conversation_id, detail))


@_redis_errors_told
def run_export(asked: str, out: str | None, redis_url: str | None = None) -> int:
    customer, client = customer_of(asked), _client(redis_url)
    document = json.dumps(export(client, customer), ensure_ascii=False, indent=2)
    _audit(client, "export", customer.label, "to a file" if out else "to the terminal")
    if out is None:
        print(document)
        return 0
    path = Path(out)
    try:
        # Personal data: readable by its owner only, from the start (and when overwritten).
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(document + "\n")
    except OSError as error:
        raise RuntimeError(f"cannot write {path}: {error.strerror}") from error
    print(f"exported {customer.label} to {path}", file=sys.stderr)
    return 0


@_redis_errors_told
def run_erase(asked: str, force: bool, confirmed: bool, redis_url: str | None = None) -> int:
    customer = customer_of(asked)
    if not confirmed and not _confirm(customer.label):
        print("nothing erased", file=sys.stderr)
        return EXIT_REMAINS
    client = _client(redis_url)
    try:
        erased = erase(client, customer, force=force)
    except HeldByAgent as refused:
        print(f"teranga privacy erase: {refused}", file=sys.stderr)
        return EXIT_HELD
    # The eraser removes the audit entries it finds with the other shared entries; forget
    # takes those an agent's action added meanwhile.
    forgotten = asyncio.run(audit.forget(client, customer.identifiers))
    audit_entries = erased.entries.get(redis_keys.audit_log(), 0) + forgotten
    analytics = open_store().forget(customer.conversation_ids)
    _audit(client, "erase", ERASED_CUSTOMER, f"{len(erased.keys)} keys deleted")
    print(f"erased {customer.label}: {len(erased.keys)} keys deleted, "
          f"{sum(erased.entries.values())} entries removed from {len(erased.entries)} "
          f"shared keys, {audit_entries} audit entries about them removed, "
          f"{analytics} conversation(s) removed from the analytics store")
    return _report_proof(client, customer)


def _confirm(label: str) -> bool:
    if not sys.stdin.isatty():
        raise ValueError("erasing cannot be undone: pass --yes to confirm")
    answer = input(f"Erase everything held about {label}? This cannot be undone. "
                   "Type 'erase' to confirm: ")
    return answer.strip() == "erase"


def _report_proof(client: redis.Redis, customer) -> int:
    proof = prove(client, customer, LOGS_DIR)
    print(f"scan of every key and value: {proof.summary(customer.label)}")
    analytics = open_store().held_about(customer.conversation_ids)
    print(f"analytics store: {analytics} conversation(s) of theirs")
    for key in proof.keys:
        print(f"  key {key}")
    for key, count in proof.values.items():
        print(f"  {count} value(s) in {key}")
    for path, count in proof.log_files.items():
        print(f"  log file {path}: {count} line(s) mention it (logs are not rewritten: "
              "docs/privacy.md)")
    return 0 if proof.clean and not analytics else EXIT_REMAINS


@_redis_errors_told
def run_purge(days: int | None, redis_url: str | None = None, now: float | None = None) -> int:
    """`now`: the time the period is counted back from (the clock's, unless a test moves it)."""
    days = Settings.from_env().retention_days if days is None else days
    if days < 0:
        raise ValueError("the retention period is a number of days, 0 to keep forever")
    if days == 0:
        print("retention is 0 days: conversations are kept forever, nothing purged")
        return 0
    result = purge(_client(redis_url), days, now)
    anonymised = open_store().anonymise_before(
        (time.time() if now is None else now) - days * 86400)
    print(f"purged {len(result.erased)} customer(s) silent for over {days} days; kept "
          f"{result.kept_recent} recent conversation(s) and {len(result.kept_held)} old "
          f"customer(s) an agent holds now; {anonymised} older conversation(s) in the "
          "analytics store cut from their customer (their counts stay)")
    return 0
