"""Intent accuracy and out-of-scope detection on public datasets: Teranga's NLU pipeline
(`config.yml`, the same components and settings as the assistant) or the `rasa init`
pipeline (DIET, 50 epochs), trained and scored in one command.

    .venv/bin/python bench/intents.py clinc150 [--pipeline teranga|rasa-init] [--test PATH]
    .venv/bin/python bench/intents.py banking77 [--pipeline teranga|rasa-init] [--test PATH]

Data: `--datasets DIR` is the folder holding `clinc150/train_val.json` and
`banking77/train.csv` (default: $TERANGA_DATASETS_DIR, else `../shared/datasets` beside the
checkout); `--train FILE` takes the training file itself (same format), `--test FILE` a
test split. Missing data stops the script with a message naming the option to set.

- clinc150: trained on `train` without the out-of-scope examples; the out-of-scope
  threshold is chosen on `val` + `oos_val` and the figures are reported there. `--test` takes
  CLINC's `data_full.json` (keys `test` and `oos_test`) and scores it at the threshold
  chosen on val.
- banking77: trained on 90% of `train.csv` (stratified, fixed seed), scored on the other 10%;
  `--test` takes Banking77's `test.csv` and scores it instead (training still on the 90%).

Training runs `rasa train nlu` in a subprocess and is timed from start to finish; parsing
goes through Rasa's `Agent.parse_message`, one message at a time, as the server does.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset_paths import Datasets, add_datasets_option, must_exist  # noqa: E402
from teranga.evaluation import quiet_rasa  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402

# Each dataset's training file, inside the datasets folder.
TRAIN_FILES = {"clinc150": "clinc150/train_val.json", "banking77": "banking77/train.csv"}
OUT_OF_SCOPE = "oos"
FALLBACK_INTENT = "nlu_fallback"
SEED = 7
THRESHOLDS = [round(0.02 * i, 2) for i in range(0, 50)]

# `rasa init`'s default NLU pipeline (rasa/cli/initial_project/config.yml), DIET at 50 epochs.
RASA_INIT_PIPELINE = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 50},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": 100},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def load_clinc150(train_path: Path, test_path: Path | None) -> tuple[list, list, list]:
    """(train, threshold-choosing set, scored set) as (text, intent) lists."""
    data = json.loads(train_path.read_text("utf-8"))
    train = [tuple(row) for row in data["train"]]
    val = [tuple(row) for row in data["val"] + data["oos_val"]]
    if test_path is None:
        return train, val, val
    test = json.loads(test_path.read_text("utf-8"))
    return train, val, [tuple(row) for row in test["test"] + test["oos_test"]]


def read_banking77(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def load_banking77(train_path: Path, test_path: Path | None) -> tuple[list, list, list]:
    by_intent = defaultdict(list)
    for text, intent in read_banking77(train_path):
        by_intent[intent].append((text, intent))
    rng = random.Random(SEED)
    train, held_out = [], []
    for intent in sorted(by_intent):
        rows = by_intent[intent]
        rng.shuffle(rows)
        cut = round(len(rows) * 0.1)
        held_out.extend(rows[:cut])
        train.extend(rows[cut:])
    scored = read_banking77(test_path) if test_path else held_out
    return train, held_out, scored


LOADERS = {"clinc150": load_clinc150, "banking77": load_banking77}


def write_nlu(examples: list[tuple[str, str]], path: Path) -> None:
    by_intent = defaultdict(list)
    for text, intent in examples:
        by_intent[intent].append(text)
    nlu = [{"intent": intent, "examples": "".join(f"- {' '.join(t.split())}\n" for t in texts)}
           for intent, texts in sorted(by_intent.items())]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True,
                                   sort_keys=False), "utf-8")


def write_config(pipeline: str, path: Path, epochs: int | None) -> None:
    if pipeline == "teranga":
        config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text("utf-8"))
        config.pop("policies", None)
    else:
        steps = [{**step, "epochs": epochs} if epochs and step["name"] == "DIETClassifier"
                 else step for step in RASA_INIT_PIPELINE]
        config = {"recipe": "default.v1", "language": "en", "pipeline": steps}
    config["assistant_id"] = f"bench-{pipeline}"
    path.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")


def train(config: Path, nlu: Path, out: Path, log: Path) -> tuple[Path, float]:
    command = [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config),
               "--nlu", str(nlu), "--out", str(out), "--fixed-model-name", "nlu"]
    # A fresh training cache: Rasa would otherwise reuse components trained by a former run.
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache, log.open("w") as output:
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_CACHE_DIRECTORY": cache}
        started = time.perf_counter()
        # The project folder: Teranga's components read data/nlu and data/corpora from it.
        subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=output,
                       stderr=subprocess.STDOUT, check=True)
        return out / "nlu.tar.gz", time.perf_counter() - started


def top_intent(parsed: dict) -> tuple[str, float]:
    """The classifier's own best intent, before FallbackClassifier renamed it."""
    for candidate in parsed.get("intent_ranking") or [parsed["intent"]]:
        if candidate["name"] != FALLBACK_INTENT:
            return candidate["name"], float(candidate["confidence"])
    return FALLBACK_INTENT, 0.0


async def parse_all(model: Path, texts: list[str]) -> tuple[dict, list[float]]:
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    await agent.parse_message("warm up")
    predictions, timings = {}, []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        timings.append(time.perf_counter() - started)
        predictions[text] = top_intent(parsed)
    return predictions, timings


def score(rows: list, predictions: dict, threshold: float) -> dict:
    """In-scope accuracy (right intent, above the threshold) and out-of-scope recall
    (under the threshold)."""
    in_scope = [(text, intent) for text, intent in rows if intent != OUT_OF_SCOPE]
    out_scope = [text for text, intent in rows if intent == OUT_OF_SCOPE]
    right = sum(1 for text, intent in in_scope
                if predictions[text][0] == intent and predictions[text][1] >= threshold)
    caught = sum(1 for text in out_scope if predictions[text][1] < threshold)
    return {"threshold": threshold, "in_scope": len(in_scope), "out_scope": len(out_scope),
            "accuracy": right / len(in_scope) if in_scope else 0.0,
            "oos_recall": caught / len(out_scope) if out_scope else None}


def choose_threshold(rows: list, predictions: dict, min_oos_recall: float) -> float:
    """The threshold with the best in-scope accuracy among those that catch at least
    `min_oos_recall` of the out-of-scope messages (a customer the bot misunderstood and
    kept is worse than one handed over early); 0 when there are no out-of-scope examples."""
    if not any(intent == OUT_OF_SCOPE for _text, intent in rows):
        return 0.0
    scores = [score(rows, predictions, t) for t in THRESHOLDS]
    enough = [s for s in scores if s["oos_recall"] >= min_oos_recall] or scores[-1:]
    return max(enough, key=lambda s: s["accuracy"])["threshold"]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def print_report(dataset: str, pipeline: str, rows: list, chosen: float, predictions: dict,
                 seconds: float, timings: list[float], scored_name: str) -> None:
    timings = sorted(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"\n{dataset}, pipeline {pipeline}, scored on {scored_name} "
          f"({len(rows)} messages); training {seconds / 60:.2f} min; parse p50 "
          f"{1000 * statistics.median(timings):.1f} ms, p95 {1000 * p95:.1f} ms, "
          f"mean {1000 * statistics.fmean(timings):.1f} ms")
    has_oos = any(intent == OUT_OF_SCOPE for _text, intent in rows)
    print("\n| threshold | in-scope accuracy % | out-of-scope recall % |")
    print("|---|---|---|")
    shown = sorted({t for t in THRESHOLDS if round(t * 100) % 10 == 0} | {chosen})
    for threshold in (shown if has_oos else [0.0]):
        result = score(rows, predictions, threshold)
        mark = " (chosen on val)" if threshold == chosen and has_oos else ""
        print(f"| {threshold:.2f}{mark} | {percent(result['accuracy'])} | "
              f"{percent(result['oos_recall'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", choices=sorted(LOADERS))
    parser.add_argument("--pipeline", choices=["teranga", "rasa-init"], default="teranga")
    add_datasets_option(parser)
    parser.add_argument("--train", type=Path, default=None, metavar="FILE",
                        help="the training file instead of the dataset's own (DIR/"
                             "clinc150/train_val.json or DIR/banking77/train.csv), same format")
    parser.add_argument("--test", type=Path, default=None, metavar="FILE",
                        help="a held-out test split")
    parser.add_argument("--epochs", type=int, default=None,
                        help="DIET's epochs for rasa-init (default 50); fewer epochs give "
                             "the same parse time in less training, not its accuracy")
    parser.add_argument("--min-oos-recall", type=float, default=0.6,
                        help="out-of-scope recall the chosen threshold must reach on val")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the training data, config and model here")
    args = parser.parse_args()
    train_path = Datasets.from_option(args.datasets).find(
        TRAIN_FILES[args.dataset], f"{args.dataset}'s training data", "--train FILE", args.train)
    if args.test is not None:
        must_exist(args.test, f"{args.dataset}'s test split", "--test")
    train_rows, choose_rows, scored_rows = LOADERS[args.dataset](train_path, args.test)
    train_rows = [(text, intent) for text, intent in train_rows if intent != OUT_OF_SCOPE]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"bench-{args.dataset}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    write_nlu(train_rows, workdir / "nlu.yml")
    write_config(args.pipeline, workdir / "config.yml", args.epochs)
    print(f"Training {args.pipeline} on {len(train_rows)} {args.dataset} examples "
          f"(log: {workdir / 'train.log'})...", flush=True)
    model, seconds = train(workdir / "config.yml", workdir / "nlu.yml", workdir / "models",
                           workdir / "train.log")
    texts = sorted({text for text, _ in choose_rows} | {text for text, _ in scored_rows})
    predictions, timings = asyncio.run(parse_all(model, texts))
    chosen = choose_threshold(choose_rows, predictions, args.min_oos_recall)
    print_report(args.dataset, args.pipeline, scored_rows, chosen, predictions, seconds,
                 timings, args.test.name if args.test else "the dev split")


if __name__ == "__main__":
    main()
