"""Training and loading fastText classifiers: one place for the library's quirks."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import fasttext

# fastText prints a deprecation warning on every load_model; it is noise in server logs.
fasttext.FastText.eprint = lambda *args, **kwargs: None

LABEL_PREFIX = "__label__"


def train_classifier(
    examples: Iterable[tuple[str, str]], *, seed: int = 7, **params
) -> fasttext.FastText._FastText:
    """Train a supervised fastText model on (label, text) pairs.

    Smaller classes are repeated so that each class weighs the same:
    a few hundred Wolof lines must not drown under fourteen thousand Hausa tweets.
    """
    by_label: dict[str, list[str]] = {}
    for label, text in examples:
        line = one_line(text)
        if line:
            by_label.setdefault(label, []).append(line)
    if not by_label:
        raise ValueError("no training examples")
    rng = random.Random(seed)
    largest = max(len(lines) for lines in by_label.values())
    rows = []
    for label, lines in by_label.items():
        rows.extend(f"{LABEL_PREFIX}{label} {line}" for line in _repeat_to(lines, largest, rng))
    rng.shuffle(rows)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
        handle.flush()
        return _train_without_divergence(handle.name, seed, params)


def _train_without_divergence(path: str, seed: int, params: dict, tries: int = 4):
    """fastText stops with "Encountered NaN" when its learning rate is too high for the
    data; halving the rate is the standard remedy. Training runs in a fresh process: inside
    Rasa's training process fastText failed so on its first steps, whatever the rate, one
    run in three, and a run that did not fail could still give another model (the clean-clone
    CI's language model, same data, seed and single thread, put "Quelle est la capitale de la
    Mongolie ?" in Swahili with probability 1; a fresh process trains it the same every
    time)."""
    lr = params.get("lr", 0.1)
    for _ in range(tries):
        try:
            return _train_in_fresh_process(input=path, seed=seed, verbose=0,
                                           **{**params, "lr": lr})
        except subprocess.CalledProcessError as error:
            if "NaN" not in (error.stderr or ""):
                raise
            failure = error
        lr /= 2
    raise failure


# The same training, in a fresh interpreter (fastText only: nothing of this process).
_TRAIN_SCRIPT = ("import fasttext, json, sys; a = json.loads(sys.argv[1]); "
                 "fasttext.train_supervised(input=a['path'], seed=a['seed'], verbose=0, "
                 "**a['params']).save_model(a['target'])")


def _train_in_fresh_process(input: str, seed: int, verbose: int, **params):
    with tempfile.TemporaryDirectory(prefix="fasttext-") as folder:
        target = str(Path(folder) / "model.bin")
        arguments = json.dumps({"path": input, "seed": seed, "params": params,
                                "target": target})
        subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, arguments], check=True,
                       capture_output=True, text=True)
        return load(target)


def _repeat_to(lines: Sequence[str], size: int, rng: random.Random) -> list[str]:
    repeated = list(lines) * (size // len(lines))
    repeated.extend(rng.sample(list(lines), size - len(repeated)))
    return repeated


def one_line(text: str) -> str:
    """fastText reads one example per line."""
    return " ".join(text.split())


def load(path: Path | str) -> fasttext.FastText._FastText:
    return fasttext.load_model(str(path))


def probabilities(model: fasttext.FastText._FastText, text: str) -> dict[str, float]:
    """Every label's probability for a text, labels without the fastText prefix."""
    labels, probs = model.predict(one_line(text), k=-1)
    return {label[len(LABEL_PREFIX):]: float(p) for label, p in zip(labels, probs, strict=False)}
