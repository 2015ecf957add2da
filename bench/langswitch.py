"""Language switches (issue 18): does the assistant follow a customer who changes language,
and stay put on a short "ok" or a French-Wolof mix?

    .venv/bin/python bench/langswitch.py [--data FILE ...] [--show-errors]

Data: two-turn conversations written for the project, each block by a writer blind to the
detector (docs/benchmarks.md): `bench/data/langid/switches-dev.yml` by default, to improve the
detector on; `bench/data/langid/switches-test.yml` is held out, to be scored once (`--data`) with
the detector frozen; so are `bench/data/langid/mixes-test*.yml`, each 40 French-Wolof mixes and
20 French-Wolof switches by another writer. Three kinds: `switch`
(turn 2 wholly in another of the five languages: the assistant should follow), `short`
(turn 2 is one or two words, an emoji or a number, possibly in another language: it should
not), `mixed` (turn 2 mixes French and Wolof after French or Wolof: it should stay).

Teranga's decision is the trained assistant's (`teranga train`, loaded with Rasa's Agent):
turn 1 parsed with no history, turn 2 parsed with a tracker holding the language turn 1 set,
as the Rasa server does. Baselines in the same run: "turn alone" (turn 2's language detected
with no history) and "never switch" (turn 1's language kept).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teranga import runtime  # noqa: E402
from teranga.evaluation import quiet_rasa  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402

FOLDER = PROJECT_ROOT / "bench" / "data" / "langid"  # not under data/: no retraining
BLOCKS = sorted(FOLDER.glob("switches-*.yml"))  # every ordered pair and every kind
MIX_BLOCKS = sorted(FOLDER.glob("mixes-*.yml"))  # French-Wolof mixes and switches only
DATA = [FOLDER / "switches-dev.yml"]
KINDS = ("switch", "short", "mixed")
TARGET = 95.0  # % right, every kind; and no short message may flip


def read_conversations(paths: list[Path]) -> list[dict]:
    """Every conversation of these files, each with the file it came from."""
    found = []
    for path in paths:
        for conversation in yaml.safe_load(path.read_text("utf-8"))["conversations"]:
            found.append({**conversation, "file": path.name})
    return found


class Assistant:
    """The trained assistant's NLU, parsing a message with or without a language so far."""

    def __init__(self) -> None:
        from rasa.core.agent import Agent

        model = runtime.train(Settings.from_env().models_dir)
        quiet_rasa()
        self.agent = Agent.load(str(model))

    async def language(self, text: str, current: str | None) -> dict:
        from rasa.core.channels.channel import UserMessage
        from rasa.shared.core.events import SlotSet
        from rasa.shared.core.trackers import DialogueStateTracker

        events = [SlotSet("language", current)] if current else []
        tracker = DialogueStateTracker.from_events("bench", events,
                                                   slots=self.agent.domain.slots)
        parsed = await self.agent.processor.parse_message(UserMessage(text), tracker)
        return parsed["language"]


async def decisions(conversations: list[dict]) -> list[dict]:
    assistant = Assistant()
    results = []
    for conversation in conversations:
        first, second = conversation["turns"]
        opened = await assistant.language(first, None)
        followed = await assistant.language(second, opened["code"])
        alone = await assistant.language(second, None)
        results.append({**conversation, "turn_1": opened["code"], "teranga": followed["code"],
                        "turn alone": alone["detected"], "never switch": opened["code"],
                        "scores": followed["scores"]})
    return results


METHODS = ("teranga", "turn alone", "never switch")


def table(results: list[dict]) -> bool:
    """The table; whether Teranga met the target."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        rows[result["kind"]].append(result)
        if result["kind"] == "switch":
            rows[f"switch into {result['expect']}"].append(result)
            rows[f"switch from {result['first']}"].append(result)
    print("| conversations | n | turn 1 right | " + " | ".join(METHODS) + " |")
    print("|---|---:|---:|" + "---:|" * len(METHODS))
    met = True
    for name in [*KINDS, *sorted(n for n in rows if n not in KINDS)]:
        group = rows.get(name, [])
        if not group:
            continue
        opened = sum(r["turn_1"] == r["first"] for r in group)
        cells = [_percent(sum(r[m] == r["expect"] for r in group), len(group)) for m in METHODS]
        print(f"| {name} | {len(group)} | {_percent(opened, len(group))} | "
              + " | ".join(cells) + " |")
        if name in KINDS:
            met &= 100 * sum(r["teranga"] == r["expect"] for r in group) / len(group) >= TARGET
    flips = sum(r["teranga"] != r["expect"] for r in rows.get("short", []))
    print(f"\nShort messages that flipped the conversation's language: {flips}.")
    return met and flips == 0


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=DATA, metavar="FILE",
                        help="the conversations (default: bench/data/langid/switches-dev.yml)")
    parser.add_argument("--show-errors", action="store_true",
                        help="print each conversation Teranga got wrong")
    args = parser.parse_args()
    results = asyncio.run(decisions(read_conversations(args.data)))
    met = table(results)
    print(f"Target: {TARGET:.0f}% or more right in every kind, no short message flipping: "
          f"{'met' if met else 'MISSED'}.")
    if args.show_errors:
        for r in results:
            if r["teranga"] != r["expect"]:
                scores = ", ".join(f"{k} {v:.2f}" for k, v in sorted(
                    r["scores"].items(), key=lambda kv: -kv[1]))
                print(f"- {r['id']} ({r['file']}): {r['teranga']} not {r['expect']}: "
                      f"{r['turns'][1]!r} [{scores}]")


if __name__ == "__main__":
    main()
