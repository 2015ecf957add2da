"""Satisfaction answers: accuracy and macro-F1 of the reader of customers' answers to "Did
the agent solve your problem?" (teranga/handoff/satisfaction_answers.py) on the labelled
answers of data/satisfaction/answers.yml, per language and split, against today's reading
measured in the same run.

    .venv/bin/python bench/satisfaction.py [--answers FILE] [--show-dev-errors]

Today's reading (the baseline) is the trained assistant's intent (`teranga train`; the model
in $TERANGA_MODELS_DIR, trained first if missing or stale): `affirm` is yes, `deny` is no,
anything else is no answer (the rules of data/rules.yml record only those two; the bot
thanks or asks to rephrase). Each answer is parsed alone by Rasa's MessageProcessor, with
the conversation's language in the `language` slot, as when the bot has just asked the
question in that language.

The `test` lines were written before the reader and are never used to tune it; only the
`dev` errors may be shown (`--show-dev-errors`). Labels: yes, no, none.

The same author wrote the answers and the reader's word lists, so a second table scores
messages written by other contributors for another purpose, before the reader existed: the
held-out NLU messages (tests/data/heldout.yml, `--heldout`), whose affirm, deny and thanks
messages are answers (yes, no, yes) and whose questions and requests are not (none).

Time per answer is the best of a few runs of each answer (the cost of the code, not of the
other processes on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset_paths import must_exist  # noqa: E402
from teranga import runtime  # noqa: E402
from teranga.dialogue.domain import LANGUAGE_SLOT  # noqa: E402
from teranga.evaluation import quiet_rasa  # noqa: E402
from teranga.handoff.satisfaction_answers import read_answer  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402

ANSWERS = PROJECT_ROOT / "data" / "satisfaction" / "answers.yml"
HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout.yml"
HELDOUT_ANSWERS = {"affirm": "yes", "thanks": "yes", "deny": "no"}
# Messages that do not answer "was your problem solved?". Left out: goodbyes ("ok merci au
# revoir" closes a solved matter), complaints and problem reports (after the question, "my
# transfer failed" is a no).
HELDOUT_NOT_ANSWERS = {"greet", "bot_challenge", "check_balance", "buy_data_bundle",
                       "recharge_airtime", "send_money", "withdraw_cash", "reset_pin",
                       "lost_or_stolen_sim", "sim_swap", "agency_hours_location",
                       "request_human"}
TIMING_RUNS = 5
SPLITS = ("dev", "test")
LABELS = {True: "yes", False: "no", None: "none"}
INTENT_LABELS = {"affirm": "yes", "deny": "no"}
# Hostile inputs timed with the labelled answers: the longest and strangest the reader reads.
HOSTILE = ["oui " * 5000, "😡" * 4000, "\ufdfa" * 3000, "a'a" * 2000, "é" * 10000,
           "\ud800\x00\u202e" * 1000, "waaw " + "x" * 100000]


def read_answers(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text("utf-8"))["answers"]


def heldout_answers(path: Path) -> list[dict]:
    """The held-out NLU messages that are answers or clearly not, labelled, split by kind."""
    rows = []
    for message in yaml.safe_load(path.read_text("utf-8"))["messages"]:
        intent = message["intent"]
        if intent in HELDOUT_ANSWERS or intent in HELDOUT_NOT_ANSWERS:
            rows.append({"text": message["text"], "language": message["language"],
                         "label": HELDOUT_ANSWERS.get(intent, "none"),
                         "split": "answers" if intent in HELDOUT_ANSWERS else "requests"})
    return rows


def baseline_labels(model: Path, answers: list[dict]) -> list[str]:
    """Today's reading: the trained model's intent for each answer, in its language."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    quiet_rasa()
    agent = Agent.load(str(model))

    async def parse_all() -> list[str]:
        labels = []
        for index, answer in enumerate(answers):
            tracker = DialogueStateTracker.from_events(
                f"bench-{index}", [SlotSet(LANGUAGE_SLOT, answer["language"])],
                slots=agent.domain.slots)
            parsed = await agent.processor.parse_message(
                UserMessage(answer["text"], sender_id=tracker.sender_id), tracker)
            intent = (parsed.get("intent") or {}).get("name")
            labels.append(INTENT_LABELS.get(intent, "none"))
        return labels

    return asyncio.run(parse_all())


def reader_labels(answers: list[dict]) -> list[str]:
    return [LABELS[read_answer(answer["text"], answer["language"])] for answer in answers]


def reader_seconds(answers: list[dict]) -> list[float]:
    """Each answer's and each hostile input's best time of TIMING_RUNS."""
    inputs = [(a["text"], a["language"]) for a in answers] + [(t, "xx") for t in HOSTILE]
    best = []
    for text, language in inputs:
        runs = []
        for _ in range(TIMING_RUNS):
            started = time.perf_counter()
            read_answer(text, language)
            runs.append(time.perf_counter() - started)
        best.append(min(runs))
    return best


def scores(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    """Accuracy and macro-F1 (over the labels present in the truth or the predictions), %."""
    from sklearn.metrics import accuracy_score, f1_score

    return (100 * accuracy_score(truth, predicted),
            100 * f1_score(truth, predicted, average="macro", zero_division=0))


def groups(answers: list[dict]) -> dict[str, list[int]]:
    """Answer indexes by language (own-language answers) and by mix, then all of them."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for index, answer in enumerate(answers):
        by_group[f"mixed {answer['mix']}" if answer.get("mix") else answer["language"]].append(
            index)
    ordered = {name: by_group[name] for name in sorted(by_group, key=lambda n: (" " in n, n))}
    return {**ordered, "all": list(range(len(answers)))}


def print_table(answers: list[dict], baseline: list[str], reader: list[str]) -> None:
    print("| answers | split | n | yes / no / none | today (intent): accuracy % | "
          "today: macro-F1 % | reader: accuracy % | reader: macro-F1 % |")
    print("|---|---|---|---|---|---|---|---|")
    for name, indexes in groups(answers).items():
        for split in SPLITS:
            chosen = [i for i in indexes if answers[i]["split"] == split]
            if not chosen:
                continue
            truth = [answers[i]["label"] for i in chosen]
            counts = " / ".join(str(truth.count(label)) for label in ("yes", "no", "none"))
            old = scores(truth, [baseline[i] for i in chosen])
            new = scores(truth, [reader[i] for i in chosen])
            bold = "**" if name == "all" else ""
            print(f"| {bold}{name}{bold} | {split} | {len(chosen)} | {counts} | {old[0]:.1f} | "
                  f"{old[1]:.1f} | {new[0]:.1f} | {new[1]:.1f} |")


def print_heldout_table(rows: list[dict], baseline: list[str], reader: list[str]) -> None:
    print(f"\n{len(rows)} held-out NLU messages by other contributors (tests/data/heldout.yml)"
          "\n\n| messages | n | today (intent): accuracy % | reader: accuracy % | "
          "reader: read as yes / no / none |\n|---|---|---|---|---|")
    kinds = {"answers": "affirm, deny, thanks (yes, no, yes)",
             "requests": f"{len(HELDOUT_NOT_ANSWERS)} kinds of question or request (none)"}
    for kind, description in kinds.items():
        chosen = [i for i, row in enumerate(rows) if row["split"] == kind]
        truth = [rows[i]["label"] for i in chosen]
        read = [reader[i] for i in chosen]
        counts = " / ".join(str(read.count(label)) for label in ("yes", "no", "none"))
        print(f"| {description} | {len(chosen)} | "
              f"{scores(truth, [baseline[i] for i in chosen])[0]:.1f} | "
              f"{scores(truth, read)[0]:.1f} | {counts} |")


def print_timing(seconds: list[float], hostile: int) -> None:
    micro = sorted(1e6 * s for s in seconds)
    p95 = micro[int(0.95 * (len(micro) - 1))]
    print(f"\nreader time per answer (best of {TIMING_RUNS} runs; {len(micro)} inputs, "
          f"{hostile} of them hostile, of up to 100,000 characters): median "
          f"{statistics.median(micro):.0f} µs, p95 {p95:.0f} µs, max {micro[-1]:.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=Path, default=ANSWERS, metavar="FILE",
                        help="the labelled answers (default: data/satisfaction/answers.yml)")
    parser.add_argument("--heldout", type=Path, default=HELDOUT, metavar="FILE",
                        help="the held-out NLU messages (default: tests/data/heldout.yml)")
    parser.add_argument("--show-dev-errors", action="store_true",
                        help="list the reader's mistakes on the dev split (never on test)")
    args = parser.parse_args()
    answers = read_answers(must_exist(args.answers, "the labelled answers", "--answers"))
    heldout = heldout_answers(must_exist(args.heldout, "the held-out messages", "--heldout"))
    reader, heldout_reader = reader_labels(answers), reader_labels(heldout)
    seconds = reader_seconds(answers)
    model = runtime.train(Settings.from_env().models_dir)
    baseline = baseline_labels(model, answers + heldout)
    baseline, heldout_baseline = baseline[:len(answers)], baseline[len(answers):]
    print(f"\n{len(answers)} labelled answers ({args.answers.name}); today = the trained "
          "model's intent (affirm / deny / other), reader = read_answer\n")
    print_table(answers, baseline, reader)
    print_heldout_table(heldout, heldout_baseline, heldout_reader)
    print_timing(seconds, len(HOSTILE))
    if args.show_dev_errors:
        for answer, label in zip(answers, reader, strict=True):
            if answer["split"] == "dev" and label != answer["label"]:
                print(f"dev error: {answer['language']} {answer['text']!r}: {label}, "
                      f"want {answer['label']}")


if __name__ == "__main__":
    main()
