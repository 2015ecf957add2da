"""Personal data in customers' messages: precision, recall and F1 of the detectors
(teranga/privacy/personal_data.py, and teranga/privacy/secrets.py for secrets) per kind and
language, on the labelled messages of data/privacy/messages.yml, dev and test splits apart,
and the time per message (p50/p95).

    .venv/bin/python bench/privacy.py [--messages FILE] [--split dev|test|all]
        [--leniency valid|possible|strict_grouping] [--show-errors]

Scoring: a labelled item is recalled when one found item of the same kind covers all of it
(a number found only in part still leaks the rest); a found item is correct when it overlaps
a labelled item of the same kind. Messages with no labels hold look-alikes (amounts, dates,
USSD codes, transaction ids) and count only against precision.

The `test` messages were labelled before the detectors were written and never used to tune
them; `--show-errors` shows dev errors only. Time per message is the best of a few runs of
`find_personal_data` and of `find_secrets` on it (the cost of the code, not of the machine's
other processes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from phonenumbers import Leniency  # noqa: E402

from teranga.privacy.found import KINDS, Found  # noqa: E402
from teranga.privacy.personal_data import find_personal_data  # noqa: E402
from teranga.privacy.secrets import find_secrets  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402

MESSAGES = PROJECT_ROOT / "data" / "privacy" / "messages.yml"
LANGUAGES = ("en", "fr", "wo", "sw", "ha")
TIMING_RUNS = 5
LENIENCIES = {"possible": Leniency.POSSIBLE, "valid": Leniency.VALID,
              "strict_grouping": Leniency.STRICT_GROUPING}


def load(path: Path) -> list[dict]:
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    for message in messages:
        message["labels"] = labelled_spans(message)
    return messages


def labelled_spans(message: dict) -> list[Found]:
    """Each label's offsets: the next occurrence of its text not yet taken by the same text."""
    spans, taken = [], defaultdict(int)
    for entity in message["entities"]:
        start = message["text"].index(entity["text"], taken[entity["text"]])
        taken[entity["text"]] = start + 1
        spans.append(Found(entity["kind"], start, start + len(entity["text"])))
    return spans


def detect(text: str, leniency: Leniency) -> list[Found]:
    return find_secrets(text) + find_personal_data(text, phone_leniency=leniency)


class Counts:
    def __init__(self) -> None:
        self.labelled = self.recalled = self.found = self.correct = 0

    def add(self, labels: list[Found], found: list[Found]) -> None:
        self.labelled += len(labels)
        self.recalled += sum(any(f.start <= label.start and f.end >= label.end for f in found)
                             for label in labels)
        self.found += len(found)
        self.correct += sum(any(f.start < label.end and label.start < f.end for label in labels)
                            for f in found)

    def cells(self) -> str:
        recall = self.recalled / self.labelled if self.labelled else None
        precision = self.correct / self.found if self.found else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision and recall else (0.0 if self.labelled and self.found else None))
        figures = ["-" if value is None else f"{100 * value:.1f}"
                   for value in (precision, recall, f1)]
        return " | ".join([*figures, f"{self.labelled} / {self.found}"])


def score(messages: list[dict], leniency: Leniency, show_errors: bool):
    """Counts per (kind, language) and per kind, the time per message, and the dev errors."""
    counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
    timings = []
    for message in messages:
        text = message["text"]
        found = detect(text, leniency)
        timings.append(_best_time(text, leniency))
        for kind in KINDS:
            labels = [label for label in message["labels"] if label.kind == kind]
            of_kind = [f for f in found if f.kind == kind]
            for key in ((kind, message["language"]), (kind, "all")):
                counts[key].add(labels, of_kind)
        if show_errors and message["split"] == "dev":
            _show_errors(message, found)
    return counts, timings


def _best_time(text: str, leniency: Leniency) -> tuple[float, float]:
    """The best of a few runs of find_personal_data, and of find_secrets, on `text`."""
    best = [float("inf"), float("inf")]
    for _ in range(TIMING_RUNS):
        for index, detector in enumerate((
                lambda: find_personal_data(text, phone_leniency=leniency),
                lambda: find_secrets(text))):
            start = time.perf_counter()
            detector()
            best[index] = min(best[index], time.perf_counter() - start)
    return best[0], best[1]


def _show_errors(message: dict, found: list[Found]) -> None:
    text = message["text"]
    expected = {(label.kind, label.of(text)) for label in message["labels"]}
    got = {(f.kind, f.of(text)) for f in found}
    if expected != got:
        print(f"[{message['language']}] {text}\n   missed: {sorted(expected - got)}"
              f"\n   extra:  {sorted(got - expected)}", file=sys.stderr)


def table(by_split: dict[str, dict[tuple[str, str], Counts]]) -> str:
    """One row per kind and language, precision / recall / F1 for each split side by side."""
    splits = list(by_split)
    header = " | ".join(f"{split} P | {split} R | {split} F1 | {split} n / found"
                        for split in splits)
    lines = [f"| kind | language | {header} |", "|---|---|" + "---|" * (4 * len(splits))]
    for kind in KINDS:
        for language in (*LANGUAGES, "all"):
            cells = [by_split[split].get((kind, language)) for split in splits]
            if not any(cell and (cell.labelled or cell.found) for cell in cells):
                continue
            name = f"**{language}**" if language == "all" else language
            row = " | ".join(cell.cells() if cell else "- | - | - | 0 / 0" for cell in cells)
            lines.append(f"| {kind} | {name} | {row} |")
    return "\n".join(lines)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=Path, default=MESSAGES)
    parser.add_argument("--split", choices=("dev", "test", "all"), default=None,
                        help="one split (default: dev and test apart)")
    parser.add_argument("--leniency", choices=sorted(LENIENCIES), default="valid",
                        help="phonenumbers' leniency for phone numbers")
    parser.add_argument("--show-errors", action="store_true", help="dev errors on stderr")
    args = parser.parse_args()
    messages = load(args.messages)
    leniency = LENIENCIES[args.leniency]
    splits = [args.split] if args.split else ["dev", "test"]
    by_split, timings = {}, []
    for split in splits:
        chosen = [m for m in messages if split == "all" or m["split"] == split]
        by_split[f"{split} ({len(chosen)})"], split_timings = score(chosen, leniency,
                                                                   args.show_errors)
        timings += split_timings
    print(f"Phone leniency: {args.leniency}. P = precision, R = recall, in %; n = labelled "
          "items, found = items reported.\n")
    print(table(by_split))
    print(f"\nTime per message, {len(timings)} messages, best of {TIMING_RUNS} runs each:")
    personal, secret = [t[0] for t in timings], [t[1] for t in timings]
    both = [a + b for a, b in timings]
    for name, values in (("find_personal_data", personal), ("find_secrets", secret),
                         ("both", both)):
        print(f"- {name}: p50 {1000 * statistics.median(values):.3f} ms, "
              f"p95 {1000 * percentile(values, 0.95):.3f} ms, max {1000 * max(values):.3f} ms")

if __name__ == "__main__":
    main()
