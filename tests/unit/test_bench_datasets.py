"""The dataset benchmarks run from any clone: without their data they stop before training
with a message naming the option or variable to set, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from teranga.settings import PROJECT_ROOT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TERANGA_DATASETS_DIR"}
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, env={**environment, **(env or {})})


@pytest.mark.parametrize("script, missing", [
    (["bench/intents.py", "clinc150"], "clinc150/train_val.json"),
    (["bench/intents.py", "banking77"], "banking77/train.csv"),
    (["bench/langid.py"], "afrisenti"),
    (["bench/sentiment.py"], "afrisenti"),
])
def test_missing_datasets_folder_says_what_to_set(tmp_path, script, missing):
    absent = tmp_path / "no-datasets"
    for result, chosen_by in [(run(*script, "--datasets", str(absent)), "from --datasets"),
                              (run(*script, env={"TERANGA_DATASETS_DIR": str(absent)}),
                               "from $TERANGA_DATASETS_DIR")]:
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert str(absent / missing) in result.stderr
        assert chosen_by in result.stderr
        assert "--datasets DIR or TERANGA_DATASETS_DIR" in result.stderr


def test_an_explicit_file_that_is_missing_is_named(tmp_path):
    result = run("bench/intents.py", "banking77", "--train", str(tmp_path / "mine.csv"))
    assert result.returncode == 2
    assert f"{tmp_path / 'mine.csv'} does not exist (given with --train FILE)" in result.stderr
