"""Which channels of credentials.yml to start: those whose environment variables are all set.

Rasa refuses to start when a `${VAR}` in credentials.yml is unset; a deployment that has no
Telegram bot must still run its SMS. So the file Rasa reads is credentials.yml less the
channels whose variables are missing, each named with what it lacks.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from teranga.settings import is_set

VARIABLE = re.compile(r"\$\{([^}]+)\}")


def missing_variables(config) -> list[str]:
    text = yaml.safe_dump(config) if config is not None else ""
    return sorted({name for name in VARIABLE.findall(text) if not is_set(name)})


def enabled_channels(source: Path, target: Path) -> dict[str, list[str]]:
    """Write `target` with the channels that can start; return the others and what each
    lacks."""
    channels = yaml.safe_load(source.read_text("utf-8")) or {}
    skipped = {name: missing for name, config in channels.items()
               if (missing := missing_variables(config))}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({name: config for name, config in channels.items()
                                      if name not in skipped}, sort_keys=False), "utf-8")
    return skipped
