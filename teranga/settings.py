"""Configuration from the environment, in one place.

| variable | default | meaning |
|---|---|---|
| REDIS_URL | (embedded server) | Redis for the tracker store and the lock store |
| TERANGA_RASA_PORT | 5005 | Rasa server port |
| TERANGA_ACTIONS_PORT | 5055 | action server port |
| TERANGA_DESK_PORT | 5010 | agents' desk port |
| TERANGA_MODELS_DIR | models | where trained models are kept |
| TERANGA_MAX_MESSAGE_CHARS | 2000 | longer messages: cut for the NLU, kept whole in metadata |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    rasa_port: int
    actions_port: int
    desk_port: int
    models_dir: Path
    max_message_chars: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            rasa_port=int(env.get("TERANGA_RASA_PORT", 5005)),
            actions_port=int(env.get("TERANGA_ACTIONS_PORT", 5055)),
            desk_port=int(env.get("TERANGA_DESK_PORT", 5010)),
            models_dir=Path(env.get("TERANGA_MODELS_DIR", PROJECT_ROOT / "models")),
            max_message_chars=int(env.get("TERANGA_MAX_MESSAGE_CHARS", 2000)),
        )

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"


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
