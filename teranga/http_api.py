"""Access to the Rasa server's HTTP API (`rasa run --enable-api`), which is never open.

The API reads every transcript and can send messages on any channel, so it always needs a
secret: `TERANGA_API_TOKEN`, or one generated once into `.teranga/api-token` (readable by
its owner only) when the variable is not set. Rasa checks a JWT signed with that secret in
the `Authorization` header (Rasa's `--jwt-secret`), so the secret itself never travels, not
even in a query string, and is never on a command line (see addons/rasa_server.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import jwt

from teranga.settings import PROJECT_ROOT, Settings, saved_secret

TOKEN_VARIABLE = "TERANGA_API_TOKEN"
TOKEN_FILE = PROJECT_ROOT / ".teranga" / "api-token"
JWT_METHOD = "HS256"
JWT_LIFETIME_SECONDS = 300
MIN_TOKEN_CHARS = 16


def api_token(create: bool = False, path: Path = TOKEN_FILE) -> str | None:
    """The API secret: the environment's, else the saved one, else (with `create`) a new
    one saved for the next runs."""
    token = saved_secret(Settings.from_env().api_token, path, create)
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN_CHARS} characters")
    return token


def auth_header(token: str, caller: str = "teranga") -> dict[str, str]:
    """A short-lived admin JWT for one call (or a few), as Rasa's API expects it."""
    now = int(time.time())
    claims = {"user": {"username": caller, "role": "admin"}, "iat": now,
              "exp": now + JWT_LIFETIME_SECONDS}
    return {"Authorization": f"Bearer {jwt.encode(claims, token, algorithm=JWT_METHOD)}"}
