"""The desk's notices stream: its own news (a conversation queued, assigned, a message
delivered or not), written by the desk and the channels alike and read by the desk's live
view, beside the tracker events of `teranga/agent_desk/events.py`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from teranga.redis_keys import DESK_NOTICES

NOTICES_STREAM = DESK_NOTICES  # the desk's own news: queued, assigned, delivery...
NOTICES_LENGTH = 10_000


def notice(kind: str, conversation_id: str, language: str | None, owner: str,
           **extra: Any) -> dict[str, str]:
    """A desk notice, as written to NOTICES_STREAM by the desk and the channels alike."""
    return {"data": json.dumps({"kind": kind, "conversation_id": conversation_id,
                                "language": language, "owner": owner, "at": time.time(),
                                **extra}, ensure_ascii=False)}
