"""Memory and cold start: resident memory (RSS) of the Rasa server and the action server,
and the time from starting the processes to the first answer, for Teranga and for a plain
`rasa init` assistant, in the same run.

    .venv/bin/python bench/footprint.py [--plain-dir DIR] [--runs 3]

Cold start is measured from the moment the processes are started (model already trained)
to the first 200 answer of the REST channel; RSS is read from /proc after 50 messages, when
the lazily built parts (models, indexes, connections) are all in memory. Each run starts
fresh processes; the table shows the median over the runs. Redis db 14 (REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import (  # noqa: E402
    MESSAGES,
    bench_services,
    create_plain_rasa,
    run_load,
    start_plain_rasa,
)

from teranga import runtime  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def first_answer(url: str, text: str, started: float, timeout: float = 600) -> float:
    """Seconds from `started` to the first 200 answer to a message."""
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < timeout:
            try:
                async with session.post(url, json={"sender": "cold-start", "message": text}) \
                        as response:
                    if response.status == 200:
                        await response.read()
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(url)


def measure_teranga(model: Path, redis_url: str) -> dict[str, float]:
    services = bench_services(model, redis_url)
    url = f"{services.rasa_url}/webhooks/rest/webhook"
    started = time.monotonic()
    try:
        services.start(model)
        cold = asyncio.run(first_answer(url, MESSAGES["teranga"][0], started))
        asyncio.run(run_load(url, MESSAGES["teranga"], 50, 5))
        return {"cold start s": cold,
                "Rasa server MB": rss_mb(services.processes["rasa"].pid),
                "action server MB": rss_mb(services.processes["actions"].pid)}
    finally:
        services.stop()


def measure_plain(plain_dir: Path, redis_url: str) -> dict[str, float]:
    port, actions_port = runtime.free_port(), runtime.free_port()
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    started = time.monotonic()
    actions, server = start_plain_rasa(plain_dir, redis_url, port, actions_port)
    try:
        cold = asyncio.run(first_answer(url, MESSAGES["plain"][0], started))
        asyncio.run(run_load(url, MESSAGES["plain"], 50, 5))
        return {"cold start s": cold, "Rasa server MB": rss_mb(server.pid),
                "action server MB": rss_mb(actions.pid)}
    finally:
        for process in (server, actions):
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plain-dir", type=Path, default=None,
                        help="reuse a `rasa init` project folder (trained once)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    model = runtime.train(Settings.from_env().models_dir)
    plain_dir = args.plain_dir or Path(tempfile.mkdtemp(prefix="plain-rasa-"))
    create_plain_rasa(plain_dir)  # trained before any clock starts
    results: dict[str, list[dict]] = {"plain": [], "teranga": []}
    for _ in range(args.runs):
        results["plain"].append(measure_plain(plain_dir, redis_url))
        results["teranga"].append(measure_teranga(model, redis_url))
    measures = list(results["teranga"][0])
    print("\n| assistant | " + " | ".join(measures) + " |")
    print("|---|" + "---|" * len(measures))
    for name, runs in results.items():
        cells = [f"{statistics.median(run[m] for run in runs):.1f}" for m in measures]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nmedian of {args.runs} runs; plain Rasa project: {plain_dir}")


if __name__ == "__main__":
    main()
