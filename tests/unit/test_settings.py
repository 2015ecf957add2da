"""One source for configuration: the settings module reads every variable, and the
configuration doc's table says the same."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from teranga.settings import (
    PROJECT_ROOT,
    READ_BY_OTHERS,
    Settings,
    documented_variables,
    masked,
    rasa_environment,
)

CONFIGURATION_DOC = PROJECT_ROOT / "docs" / "configuration.md"
CODE = ("teranga", "addons", "actions", "connectors")


def test_redis_url_is_split_for_endpoints_yml_with_the_password_decoded():
    env = rasa_environment("redis://:p%40ss%2Fw@redis.internal:6380/2", "http://127.0.0.1:5055")
    assert (env["TERANGA_REDIS_HOST"], env["TERANGA_REDIS_PORT"], env["TERANGA_REDIS_DB"]) == \
        ("redis.internal", "6380", "2")
    assert env["TERANGA_REDIS_PASSWORD"] == "p@ss/w"
    assert env["TERANGA_ACTION_ENDPOINT"] == "http://127.0.0.1:5055/webhook"


def test_passwords_never_reach_the_logs():
    assert masked("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert masked("redis://host:6379/0") == "redis://host:6379/0"
    with pytest.raises(ValueError) as error:
        rasa_environment("rediss://:s3cret@host:6379/0", "http://x")
    assert "s3cret" not in str(error.value)


def documented_rows() -> dict[str, str]:
    """variable -> default cell, from the table under "## Environment variables"."""
    section = CONFIGURATION_DOC.read_text("utf-8").split("## Environment variables", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[1]
    return rows


def test_the_configuration_doc_lists_exactly_the_variables_read():
    rows = documented_rows()
    assert set(rows) == set(documented_variables()) | set(READ_BY_OTHERS)


def test_the_configuration_doc_shows_each_default_as_the_settings_module_has_it():
    rows = documented_rows()
    assert {name: rows[name] for name in documented_variables()} == documented_variables()


def test_settings_parse_each_kind_of_value():
    settings = Settings.from_env({"TERANGA_RASA_PORT": "6005", "TERANGA_DESK_ORIGINS":
                                  " https://a.example , https://b.example:8443,",
                                  "TERANGA_DESK_SECURE_COOKIES": "1",
                                  "TERANGA_ACTION_TIMEOUT_SECONDS": "2.5",
                                  "TERANGA_KB_DIR": "elsewhere", "TERANGA_DESK_CONSUMER": "d1"})
    assert settings.rasa_url == "http://127.0.0.1:6005"
    assert settings.desk_origins == ("https://a.example", "https://b.example:8443")
    assert settings.desk_secure_cookies and settings.action_timeout_seconds == 2.5
    assert settings.kb_dir == PROJECT_ROOT / "elsewhere" and settings.desk_consumer == "d1"
    defaults = Settings.from_env({})
    assert defaults.kb_dir == PROJECT_ROOT / "kb" and not defaults.desk_secure_cookies
    assert defaults.desk_consumer.endswith("-desk") and defaults.redis_url is None


def environment_reads(path: Path) -> list[int]:
    """Lines where `path` reads the environment (os.environ.get, os.environ[...], os.getenv);
    setting a default for a library (os.environ.setdefault) is not reading."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "environ":
            lines.append(node.lineno)
    setdefaults = {n.lineno for n in ast.walk(ast.parse(path.read_text("utf-8")))
                   if isinstance(n, ast.Attribute) and n.attr == "setdefault"}
    return [line for line in lines if line not in setdefaults]


def test_nothing_but_the_settings_module_reads_the_environment():
    readers = {str(path.relative_to(PROJECT_ROOT)): lines
               for package in CODE for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
               if path.name != "settings.py" and (lines := environment_reads(path))}
    assert readers == {}
