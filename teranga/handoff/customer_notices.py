"""What the customer reads when an agent joins, when another agent will answer instead (the
conversation went back to the queue), and when the agent closes it or hands it back.

The desk (a separate process, without Rasa) sends these as bot messages. The words are the
bot's own responses in `domain/responses/<language>.yml`, so that every text the customer
reads is written, translated and reviewed in one place. Each file is read again only when it
changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from teranga.languages import default_language
from teranga.reloading import Reloading
from teranga.settings import PROJECT_ROOT

RESPONSES = {"agent_joined": "utter_agent_joined",
             "requeued": "utter_agent_requeued",
             "closed": "utter_agent_closed",
             "returned": "utter_back_with_bot"}
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_files: dict[Path, Reloading[dict[str, str]]] = {}


def notice_text(language: str, kind: str, responses_dir: Path | None = None,
                **variables) -> str | None:
    """The notice `kind` (agent_joined with `agent_name`, requeued, closed, returned) in
    `language`, or in the default language when that one has no responses file. None for an
    unknown kind, or when a variable the text needs is missing."""
    response = RESPONSES.get(kind) if isinstance(kind, str) else None
    if response is None:
        return None
    folder = responses_dir or PROJECT_ROOT / "domain" / "responses"
    text = _texts(_responses_file(folder, language)).get(response)
    if text is None:
        return None
    if any(name not in variables for name in _PLACEHOLDER.findall(text)):
        return None
    # One pass over the template: a name that itself holds "{...}" is left as written.
    return _PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), text)


def _responses_file(folder: Path, language: str) -> Path:
    if isinstance(language, str) and _LANGUAGE.fullmatch(language):
        path = folder / f"{language}.yml"
        if path.exists():
            return path
    return folder / f"{default_language()}.yml"


def _texts(path: Path) -> dict[str, str]:
    if path not in _files:
        _files[path] = Reloading(lambda: path, _read_texts)
    return _files[path].get()


def _read_texts(path: Path) -> dict[str, str]:
    """Each response's first text in a language file (these notices have one variation)."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    return {name: variations[0]["text"]
            for name, variations in (data.get("responses") or {}).items()
            if variations and isinstance(variations[0], dict) and "text" in variations[0]}
