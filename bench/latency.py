"""Per-message latency and throughput through the REST channel: Teranga against a plain
`rasa init` assistant, measured in the same run on the same machine; and the per-message
cost of privacy detection, set against Teranga's turn.

    .venv/bin/python bench/latency.py [--messages 200] [--concurrency 1 10]

Both assistants run with a Redis tracker store and lock store on the same Redis
(REDIS_URL, default redis://127.0.0.1:6379/14), the REST channel and an action server.
The plain assistant is created with `rasa init --no-prompt` in a temporary folder (its
training takes a minute or two).

Detection is timed in this process, before the servers start, on the labelled messages of
data/privacy/messages.yml (most hold a phone number, a card, a PIN...) and on this
benchmark's own messages (none does): `prepare_text`, which every inbound message goes
through (secrets removed), and `mask` (personal data found and masked, as the desk does for
each message it shows; uncached here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teranga import runtime  # noqa: E402
from teranga.channels.inbound import prepare_text  # noqa: E402
from teranga.privacy.personal_data import mask  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings, rasa_environment  # noqa: E402

MESSAGES = {
    "teranga": ["bonjour", "jai perdu ma puce hier", "nataka kununua bundle ya wiki",
                "dama beugue yonne xaalis", "how do i check my balance", "ina son tura kudi",
                "merci"],
    "plain": ["hello", "I am sad", "yes", "I am happy", "are you a bot?", "goodbye", "hi"],
}

PRIVACY_MESSAGES = PROJECT_ROOT / "data" / "privacy" / "messages.yml"
DETECTION_ROUNDS = 5  # each message timed this many times, after one untimed pass
DETECTION_MAX_CHARS = 2000  # as bench_services configures the channels


# Rasa's own Redis stores, no event broker: what a team would deploy from `rasa init`.
PLAIN_ENDPOINTS = """
action_endpoint:
  url: ${TERANGA_ACTION_ENDPOINT}
tracker_store:
  type: redis
  url: ${TERANGA_REDIS_HOST}
  port: ${TERANGA_REDIS_PORT}
  db: ${TERANGA_REDIS_DB}
  password: ${TERANGA_REDIS_PASSWORD}
  key_prefix: plain
lock_store:
  type: redis
  url: ${TERANGA_REDIS_HOST}
  port: ${TERANGA_REDIS_PORT}
  db: ${TERANGA_REDIS_DB}
  password: ${TERANGA_REDIS_PASSWORD}
  key_prefix: plain
"""


def create_plain_rasa(workdir: Path) -> None:
    """A `rasa init` project, trained, unless `workdir` holds one already."""
    if (workdir / "models").exists():
        return
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Creating and training a plain `rasa init` assistant in {workdir}...", flush=True)
    subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir",
                    str(workdir)], check=True, env={**os.environ, "RASA_TELEMETRY_ENABLED":
                                                    "false"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_plain_rasa(workdir: Path, redis_url: str, port: int, actions_port: int):
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false",
           **rasa_environment(redis_url, f"http://127.0.0.1:{actions_port}")}
    create_plain_rasa(workdir)
    (workdir / "endpoints.yml").write_text(PLAIN_ENDPOINTS)
    log = (workdir / "rasa.log").open("ab")
    actions = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                                "--port", str(actions_port)], cwd=workdir, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    server = subprocess.Popen([sys.executable, "-m", "rasa", "run", "--port", str(port),
                               "--endpoints", "endpoints.yml", "--enable-api"],
                              cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    return [actions, server]


def bench_services(model: Path, redis_url: str, flood_guard: bool = False) -> runtime.Services:
    """Teranga's servers on free ports, logging to .teranga/bench-logs (not started). Load
    benchmarks send each conversation's messages back to back, faster than any person: the
    flood guard (teranga/channels/flood.py) is off unless `flood_guard`."""
    if not flood_guard:
        os.environ["TERANGA_MAX_MESSAGES_PER_10S"] = "1000000"
    settings = Settings(redis_url=redis_url, rasa_port=runtime.free_port(),
                        desk_port=runtime.free_port(), actions_port=runtime.free_port(),
                        models_dir=model.parent, max_message_chars=2000)
    return runtime.Services(settings, redis_url, PROJECT_ROOT / ".teranga" / "bench-logs")


async def wait_ready(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(url)


async def run_load(url: str, texts: list[str], total: int, concurrency: int):
    """`concurrency` conversations, each sending its messages one after another."""
    latencies: list[float] = []
    per_conversation = max(1, total // concurrency)

    async def conversation(session: aiohttp.ClientSession) -> None:
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        for i in range(per_conversation):
            start = time.perf_counter()
            async with session.post(url, json={"sender": sender,
                                               "message": texts[i % len(texts)]}) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - start)

    async with aiohttp.ClientSession() as session:
        await conversation(session)  # warm-up
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(conversation(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    return statistics.median(latencies) * 1000, p95 * 1000, len(latencies) / elapsed


def percentiles_ms(durations: list[float]) -> tuple[float, float]:
    """p50 and p95 of durations in seconds, in milliseconds."""
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def detection_cost(texts: list[str], rounds: int = DETECTION_ROUNDS
                   ) -> dict[str, tuple[float, float]]:
    """p50 and p95 per message (ms) of `prepare_text`, of `mask`, and of both in turn."""
    for text in texts:  # the first call loads the phone-number metadata
        prepare_text(text, DETECTION_MAX_CHARS)
        mask(text)
    timed: dict[str, list[float]] = {"prepare_text": [], "mask": [], "both": []}
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            prepare_text(text, DETECTION_MAX_CHARS)
            prepared = time.perf_counter()
            mask(text)
            masked = time.perf_counter()
            timed["prepare_text"].append(prepared - start)
            timed["mask"].append(masked - prepared)
            timed["both"].append(masked - start)
    return {step: percentiles_ms(durations) for step, durations in timed.items()}


def detection_sets() -> dict[str, list[str]]:
    labelled = yaml.safe_load(PRIVACY_MESSAGES.read_text("utf-8"))["messages"]
    return {f"privacy set ({len(labelled)} messages)": [m["text"] for m in labelled],
            f"benchmark's messages ({len(MESSAGES['teranga'])})": MESSAGES["teranga"]}


def print_detection(costs: dict[str, dict[str, tuple[float, float]]],
                    turn: tuple[float, float], concurrency: int) -> None:
    """The detection table, each row against Teranga's turn at `concurrency`."""
    print(f"\nDetection per message, against Teranga's turn at {concurrency} "
          f"conversation(s) (p50 {turn[0]:.1f} ms, p95 {turn[1]:.1f} ms):")
    print("| messages | step | p50 ms | p95 ms | p50 / turn p50 | p95 / turn p95 |")
    print("|---|---|---|---|---|---|")
    for messages, steps in costs.items():
        for step, (p50, p95) in steps.items():
            print(f"| {messages} | {step} | {p50:.3f} | {p95:.3f} | "
                  f"{p50 / turn[0]:.2%} | {p95 / turn[1]:.2%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--plain-dir", type=Path, default=None,
                        help="reuse a `rasa init` project folder (trained once)")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)

    model = runtime.train(Settings.from_env().models_dir)
    detection = {name: detection_cost(texts) for name, texts in detection_sets().items()}
    teranga = bench_services(model, redis_url)
    plain_dir = args.plain_dir or Path(tempfile.mkdtemp(prefix="plain-rasa-"))
    plain_port = runtime.free_port()
    processes = []
    try:
        teranga.start(model)
        processes = start_plain_rasa(plain_dir, redis_url, plain_port, runtime.free_port())
        teranga.wait_until_ready()
        asyncio.run(wait_ready(f"http://127.0.0.1:{plain_port}/status"))
        urls = {"teranga": f"{teranga.settings.rasa_url}/webhooks/rest/webhook",
                "plain": f"http://127.0.0.1:{plain_port}/webhooks/rest/webhook"}
        print("| conversations | assistant | p50 ms | p95 ms | messages/s |")
        print("|---|---|---|---|---|")
        results = {}
        for concurrency in args.concurrency:
            for name in ("plain", "teranga"):
                p50, p95, rate = asyncio.run(run_load(urls[name], MESSAGES[name],
                                                      args.messages, concurrency))
                results[(name, concurrency)] = (p50, p95, rate)
                print(f"| {concurrency} | {name} | {p50:.1f} | {p95:.1f} | {rate:.1f} |")
        for concurrency in args.concurrency:
            ratio = results[("teranga", concurrency)][0] / results[("plain", concurrency)][0]
            print(f"p50 ratio teranga/plain at {concurrency} conversation(s): {ratio:.2f}")
        lightest = min(args.concurrency)
        print_detection(detection, results[("teranga", lightest)][:2], lightest)
        print(f"plain Rasa project: {plain_dir}")
    finally:
        teranga.stop()
        for process in processes:
            process.terminate()
            process.wait(15)


if __name__ == "__main__":
    main()
