"""`teranga demo` restarts a server that crashes, waiting longer after each crash, instead of
stopping everything."""

from __future__ import annotations

import os
import sys
import time

from teranga.runtime import Restarts, Services
from teranga.settings import Settings
from tests.e2e.desk_client import wait_until


def test_the_wait_doubles_up_to_a_minute_and_resets_after_a_stable_run():
    restarts = Restarts(started=0.0)
    waits = [restarts.crashed(now=1.0) for _ in range(8)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    restarts.restarted(now=100.0)
    assert restarts.crashed(now=100.0 + 61) == 1


def test_a_crashed_process_is_restarted_after_its_wait(tmp_path):
    services = Services(Settings.from_env({}), "redis://127.0.0.1:1/0", tmp_path)
    command = [sys.executable, "-c", "import sys; print('crashing'); sys.exit(3)"]
    services._spawn("flaky", command, dict(os.environ))
    services.processes["flaky"].wait()
    assert services.supervise() == []  # noticed: restart in 1 s
    assert services.supervise() == []
    time.sleep(1.1)
    assert services.supervise() == ["flaky"]
    services.processes["flaky"].wait()
    assert services.supervise() == []  # crashed again at once: 2 s this time
    time.sleep(1.1)
    assert services.supervise() == []
    time.sleep(1.0)
    assert services.supervise() == ["flaky"]
    services.processes["flaky"].wait()
    assert (tmp_path / "flaky.log").read_text().count("crashing") == 3


def test_stopping_stops_rasa_before_the_servers_it_calls(tmp_path):
    services = Services(Settings.from_env({}), "redis://127.0.0.1:1/0", tmp_path)
    record = tmp_path / "order"
    script = ("import signal, sys, time\n"
              "def bye(*_):\n"
              f"    open({str(record)!r}, 'a').write(sys.argv[1] + '\\n'); sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, bye)\n"
              "print('ready', flush=True)\n"
              "while True: time.sleep(0.05)\n")
    for name in ("actions", "rasa", "desk"):
        services._spawn(name, [sys.executable, "-c", script, name], dict(os.environ))
    wait_until(lambda: all("ready" in (tmp_path / f"{name}.log").read_text()
                           for name in ("actions", "rasa", "desk")))  # each one listens
    services.stop(timeout=5)
    assert record.read_text().split()[0] == "rasa"
    assert all(p.returncode == 0 for p in services.processes.values())
