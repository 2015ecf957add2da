"""Contact-centre agents: who they are, what they speak and know, how many conversations
they can hold. Kept in a YAML file managed with `teranga agents`; passwords are stored only
as scrypt hashes, and the file lives outside the repository (TERANGA_AGENTS_FILE, default
.teranga/agents.yml)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ROLES = ("agent", "supervisor")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
# scrypt parameters (RFC 7914 recommends N=2**14, r=8, p=1 for interactive logins)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# A hash of nothing anyone knows, checked for unknown ids (see authenticate).
_UNKNOWN_AGENT_HASH = ("scrypt$AAAAAAAAAAAAAAAAAAAAAA==$"
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")


class AgentError(ValueError):
    pass


@dataclass
class Agent:
    id: str
    name: str
    languages: list[str]
    skills: list[str] = field(default_factory=list)
    max_conversations: int = 3
    role: str = "agent"
    password_hash: str = ""

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and verify_password(password, self.password_hash)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AgentError("a password needs at least 8 characters")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), **_SCRYPT)
    return hmac.compare_digest(computed, base64.b64decode(digest))


class AgentDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.agents: dict[str, Agent] = {}
        if self.path.exists():
            data = yaml.safe_load(self.path.read_text("utf-8")) or {}
            for entry in data.get("agents") or []:
                agent = Agent(**entry)
                self.agents[agent.id] = agent

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"agents": [asdict(a) for a in sorted(self.agents.values(), key=lambda a: a.id)]}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        os.chmod(temporary, 0o600)  # password hashes: readable by the owner only
        os.replace(temporary, self.path)

    def add(self, agent: Agent) -> None:
        if not _ID.match(agent.id):
            raise AgentError(f"agent id {agent.id!r}: use 2-32 lower-case letters, digits, "
                             f"'.', '_' or '-'")
        if agent.id in self.agents:
            raise AgentError(f"agent {agent.id!r} already exists")
        if agent.role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        if not agent.languages:
            raise AgentError("an agent needs at least one language")
        if agent.max_conversations < 1:
            raise AgentError("max conversations must be at least 1")
        self.agents[agent.id] = agent

    def remove(self, agent_id: str) -> None:
        if self.agents.pop(agent_id, None) is None:
            raise AgentError(f"no agent {agent_id!r}")

    def authenticate(self, agent_id: str, password: str) -> Agent | None:
        agent = self.agents.get(agent_id)
        if agent is None:
            verify_password(password, _UNKNOWN_AGENT_HASH)  # the same time as a known id
            return None
        return agent if agent.check_password(password) else None
