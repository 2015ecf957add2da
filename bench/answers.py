"""End-to-end answers (issue 18): customers' questions through the whole assistant, scored
against what a right answer is.

    .venv/bin/python bench/answers.py [--data FILE ...] [--show-errors]

Data: questions written for the project, one writer per language, each blind to the
assistant's models and data (docs/benchmarks.md): `bench/data/answers/dev/<lang>.yml` (40 a
language, to improve the assistant on; the default) and `bench/data/answers/test/<lang>.yml`
(90 a language, held out: scored with `--data bench/data/answers/test/*.yml`). Each question
lists what it accepts: `intent:<name>` (the intent's short answer), `kb:<article>` (a
knowledge-base article, any of its sections), `person` (handing over is right: the customer
asked for one, or is angry) or `out_of_scope` (the honest "I cannot help with that").

Each question opens a new conversation on the REST channel of the real servers (Rasa, the
action server, the desk; `teranga train`'s model); what the assistant did is read from the
conversation's tracker: handed over, the out-of-scope answer, an article (the `kb_article`
slot), an intent's answer, or a request to rephrase. The same script run on an older checkout
scores that assistant on the same questions (docs/benchmarks.md gives both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
import redis
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import bench_services  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.handoff.repeated_fallbacks import best_guess  # noqa: E402
from teranga.http_api import api_token, auth_header  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402

FOLDER = PROJECT_ROOT / "bench" / "data" / "answers"  # not under data/: no retraining
DATA = sorted((FOLDER / "dev").glob("*.yml"))
LANGUAGES = ("fr", "en", "wo", "sw", "ha")
PERSON, OUT_OF_SCOPE, REPHRASE = "person", "out_of_scope", "rephrase"
INTENTS = set(yaml.safe_load((PROJECT_ROOT / "domain" / "core.yml").read_text("utf-8"))["intents"])
TARGETS = {"right": 90.0, "wrong": 5.0, "out of scope answered": 5.0}
CONCURRENCY = 4


def read_questions(paths: list[Path]) -> list[dict]:
    """Every question of these files, with its language (the file's name) and file."""
    found = []
    for path in paths:
        for question in yaml.safe_load(path.read_text("utf-8"))["questions"]:
            found.append({**question, "language": path.stem, "file": str(path)})
    return found


def outcome(events: list[dict]) -> tuple[str, str | None]:
    """What the assistant did after the conversation's last customer message, and the intent
    the classifier ranked first for it."""
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    guess = best_guess(events[last_user].get("parse_data") or {})
    after = events[last_user + 1:]
    actions = [e.get("name") for e in after if e.get("event") == "action"]
    article = next((e.get("value") for e in after
                    if e.get("event") == "slot" and e.get("name") == "kb_article"), None)
    if "action_handoff" in actions:
        return PERSON, guess
    if "utter_out_of_scope" in actions:
        return OUT_OF_SCOPE, guess
    if article:
        return f"kb:{article}", guess
    # An intent's response, said by a rule or from inside an action (action_answer)
    said = actions + [(e.get("metadata") or {}).get("utter_action")
                      for e in after if e.get("event") == "bot"]
    for response in said:
        if response and response.startswith("utter_") and response[6:] in INTENTS:
            return f"intent:{response[6:]}", guess
    if "action_ask_rephrase" in actions:
        return REPHRASE, guess
    return f"other:{','.join(a for a in actions if a != 'action_listen')}", guess


def verdict(accept: list[str], did: str) -> str:
    """right, wrong, handed over, asked to rephrase, or out of scope answered (an
    out-of-scope question given an in-scope answer: also wrong)."""
    if did in accept:
        return "right"
    if did == PERSON:
        return "handed over"
    if did == REPHRASE:
        return "asked to rephrase"
    if OUT_OF_SCOPE in accept and did.startswith(("intent:", "kb:")):
        return "out of scope answered"
    return "wrong"


async def ask(session: aiohttp.ClientSession, rasa_url: str, token: str,
              question: dict) -> dict:
    sender = f"bench-answers-{uuid.uuid4().hex[:12]}"
    async with session.post(f"{rasa_url}/webhooks/rest/webhook",
                            json={"sender": sender, "message": question["text"]}) as reply:
        replies = await reply.json()
        assert reply.status == 200, (reply.status, replies)
    async with session.get(f"{rasa_url}/conversations/{sender}/tracker",
                           headers=auth_header(token)) as reply:
        state = await reply.json()
    did, guess = outcome(state["events"])
    reasons = state["slots"].get("handoff_reasons") if did == PERSON else None
    return {**question, "did": did, "guess": guess, "reasons": reasons,
            "reply": " / ".join(r.get("text") or "" for r in replies)}


async def ask_all(rasa_url: str, questions: list[dict]) -> list[dict]:
    token, gate = api_token(), asyncio.Semaphore(CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=120)

    async def one(session, question):
        async with gate:
            return await ask(session, rasa_url, token, question)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        return await asyncio.gather(*(one(session, q) for q in questions))


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def table(results: list[dict]) -> bool:
    """Prints the per-language table; True when every target is met."""
    by_language = defaultdict(list)
    for result in results:
        by_language[result["language"]].append(result)
    print("\n| language | questions | right % | wrong % | handed over % | asked to rephrase % "
          "| out of scope answered as in scope % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    met = True
    for language in [*LANGUAGES, "all"]:
        rows = results if language == "all" else by_language.get(language, [])
        if not rows:
            continue
        counts = Counter(verdict(r["accept"], r["did"]) for r in rows)
        out_of_scope = [r for r in rows if OUT_OF_SCOPE in r["accept"]]
        answered = sum(verdict(r["accept"], r["did"]) == "out of scope answered"
                       for r in out_of_scope)
        n = len(rows)
        print(f"| {language} | {n} | {_percent(counts['right'], n)} | "
              f"{_percent(counts['wrong'], n)} | {_percent(counts['handed over'], n)} | "
              f"{_percent(counts['asked to rephrase'], n)} | "
              f"{_percent(answered, len(out_of_scope))} |")
        met &= (100 * counts["right"] / n >= TARGETS["right"]
                and 100 * counts["wrong"] / n <= TARGETS["wrong"]
                and (not out_of_scope or 100 * answered / len(out_of_scope)
                     <= TARGETS["out of scope answered"]))
    print(f"\nTargets in every language: right >= {TARGETS['right']:.0f}%, wrong <= "
          f"{TARGETS['wrong']:.0f}%, out-of-scope questions answered as in scope <= "
          f"{TARGETS['out of scope answered']:.0f}%: {'met' if met else 'NOT met'}")
    return met


def show_errors(results: list[dict]) -> None:
    for result in results:
        judged = verdict(result["accept"], result["did"])
        if judged != "right":
            print(f"[{result['language']}] {judged}: {result['text']!r} accepts "
                  f"{result['accept']}, got {result['did']} (classifier: {result['guess']}"
                  f"{'; ' + ', '.join(result['reasons']) if result['reasons'] else ''})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=DATA,
                        help="question files (default: the dev block)")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    questions = read_questions(args.data)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    redis.Redis.from_url(redis_url).flushdb()
    model = runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_url)
    try:
        services.start(model)
        services.wait_until_ready()
        results = asyncio.run(ask_all(services.rasa_url, questions))
    finally:
        services.stop()
    print(f"\n{len(questions)} questions from {', '.join(sorted({q['file'] for q in questions}))}")
    if args.show_errors:
        show_errors(results)
    table(results)


if __name__ == "__main__":
    main()
