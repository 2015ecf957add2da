"""The short run of bench/cluster.py: two application hosts (Rasa, actions, desk) behind the
shipped nginx, Redis with two replicas and three sentinels, each on a host of its own (a
network namespace where the machine allows it); a Rasa process, a desk and the Redis master
are killed (a real Sentinel failover) while customers write on every channel. Nothing
accepted may be lost, no turn run twice or out of order, and no message sent during the
failover may wait 10 s."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_a_failover_of_redis_and_dead_processes_lose_nothing(trained_model):
    run = subprocess.run([sys.executable, "bench/cluster.py", "--short", "--model",
                          str(trained_model)], capture_output=True, text=True, timeout=900)
    table = run.stdout[run.stdout.find("Faults injected"):]
    print(table)
    assert "the sentinels promoted a replica" in run.stdout, run.stdout[-3000:]
    assert run.returncode == 0, table or run.stderr[-3000:]
