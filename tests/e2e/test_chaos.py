"""The short run of bench/chaos.py: customers on every channel while Rasa processes, the
action server and Redis are killed and the providers fail; nothing accepted may be lost or
processed twice, no reply lost or sent twice."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_nothing_is_lost_or_doubled_under_faults(trained_model):
    run = subprocess.run([sys.executable, "bench/chaos.py", "--short", "--model",
                          str(trained_model)], capture_output=True, text=True, timeout=900)
    table = run.stdout[run.stdout.find("Faults injected"):]
    print(table)
    assert run.returncode == 0, table or run.stderr[-3000:]
