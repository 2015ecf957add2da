"""The short privacy notice a customer reads at their first contact on a channel: where it is
sent, what fills its text, and which conversations were given it. The words are the bot's
response `utter_privacy_notice` in each language (domain/responses/<language>.yml); the
settings file says on which channels it is sent and where the full policy is, and is read
again when it changes, so that an operator can switch the notice on or off without a restart.
A conversation given the notice is marked in Redis (one key, erased with the customer): the
tracker read at each turn holds only the current session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
import yaml

from teranga import redis_keys
from teranga.reloading import Reloading
from teranga.settings import Settings

NOTICE_RESPONSE = "utter_privacy_notice"


class PrivacySettingsError(ValueError):
    """The privacy settings file is not as documented (docs/privacy.md)."""


@dataclass(frozen=True)
class NoticeSettings:
    channels: frozenset[str]
    policy_url: str

    def sent_on(self, channel: str) -> bool:
        return channel in self.channels


def load_notice_settings(path: Path) -> NoticeSettings:
    """The `notice` section of the privacy settings file; no file: no notice."""
    if not path.exists():
        return NoticeSettings(frozenset(), "")
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    notice = data.get("notice") if isinstance(data, dict) else None
    notice = {} if notice is None else notice
    if not isinstance(notice, dict):
        raise PrivacySettingsError(f"{path}: 'notice' must be a mapping")
    channels = notice.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise PrivacySettingsError(f"{path}: 'notice.channels' must be a list of channel "
                                   "names such as twilio_sms, telegram")
    policy_url = notice.get("policy_url") or ""
    if not isinstance(policy_url, str):
        raise PrivacySettingsError(f"{path}: 'notice.policy_url' must be a web address")
    return NoticeSettings(frozenset(channels), policy_url)


_settings = Reloading(lambda: Settings.from_env().privacy_settings_file, load_notice_settings)


def notice_settings() -> NoticeSettings:
    return _settings.get()


class NoticesGiven:
    """Which conversations were given the notice: one small key each, read at every turn of
    a channel that sends it (cheaper than reading the conversation's history)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def given(self, conversation_id: str) -> bool:
        return bool(await self.client.exists(redis_keys.privacy_notice_given(conversation_id)))

    async def mark(self, conversation_id: str) -> None:
        await self.client.set(redis_keys.privacy_notice_given(conversation_id),
                              int(time.time()))
