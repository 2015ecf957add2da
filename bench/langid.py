"""Language identification on short real messages: Teranga's detector against pycld2,
py3langid and fastText's lid.176.ftz, each alone, in one table.

    .venv/bin/python bench/langid.py [--test AFRISENTI_DIR]

Messages: the project's held-out test messages (`tests/data/heldout.yml`, never trained
on), the AfriSenti dev tweets of the assistant's languages (handles, links and `#` stripped,
as for training), CLINC150's val questions (English), and short messages from Injongo's dev
utterances in Wolof, Hausa, Swahili and English (`bench/data/langid/injongo/`: 3 to 5 words
as written, or the first three words of a longer one; its test split is left alone).
`--test` takes a folder laid out like AfriSenti's (`hau/test.tsv`, `swa/test.tsv`) and scores
its tweets instead of dev.

Data: `--datasets DIR` is the folder holding `afrisenti/` and `clinc150/train_val.json`
(default: $TERANGA_DATASETS_DIR, else `../shared/datasets` beside the checkout);
`--afrisenti DIR`, `--clinc FILE` and `--heldout FILE` take each source itself. Missing data
stops the script, before any training, with a message naming the option to set.

Teranga's detector is the one in the trained assistant (`teranga train`), each message
parsed alone through Rasa, so no conversation history helps it. The others answer among all
the languages they know, as they would if deployed; a language they do not know is
always a miss for them, and shown so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset_paths import Datasets, add_datasets_option, fail, must_exist  # noqa: E402
from teranga import corpora, runtime  # noqa: E402
from teranga.evaluation import quiet_rasa, read_heldout  # noqa: E402
from teranga.nlu.langid import default_lid176_path  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402
from teranga.text import words  # noqa: E402

HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout.yml"
# AfriSenti's folder names for the assistant's languages.
AFRISENTI_CODES = {"hau": "ha", "swa": "sw"}
# Injongo's (McGill-NLP/Injongo, CC BY 4.0) dev utterances, copied to bench/data/langid/injongo
INJONGO = PROJECT_ROOT / "bench" / "data" / "langid" / "injongo"
INJONGO_CODES = {"wol": "wo", "hau": "ha", "swa": "sw", "eng": "en"}
DETECTORS = ["teranga", "cld2", "py3langid", "lid.176"]


def heldout_messages(path: Path) -> list[tuple[str, str, str]]:
    """(source, language, text)"""
    return [("held-out", item["language"], item["text"]) for item in read_heldout(path)]


def afrisenti_messages(folder: Path, split: str) -> list[tuple[str, str, str]]:
    rows = []
    for code, language in AFRISENTI_CODES.items():
        path = folder / code / f"{split}.tsv"
        if not path.exists():
            continue
        rows.extend((f"afrisenti {split}", language, text)
                    for text, _label in corpora.labelled_rows_of(path))
    if not rows:
        wanted = " or ".join(f"{code}/{split}.tsv" for code in AFRISENTI_CODES)
        fail(f"no AfriSenti {split} tweets in {folder}: it has no {wanted}.")
    return rows


def injongo_messages(folder: Path) -> list[tuple[str, str, str]]:
    """Short messages from Injongo's dev utterances (real, not in the training data): each of
    3 to 5 words as it is, and the first three words of each longer one."""
    rows = []
    for code, language in INJONGO_CODES.items():
        path = folder / f"{code}-dev.txt"
        for text in path.read_text("utf-8").splitlines():
            parts = text.split()
            if len(parts) < 3:
                continue
            short = text if len(parts) <= 5 else " ".join(parts[:3])
            rows.append(("injongo dev, 3-5 words", language, short))
    return rows


def clinc_messages(path: Path) -> list[tuple[str, str, str]]:
    data = json.loads(path.read_text("utf-8"))
    return [("clinc150 val", "en", text) for text, _intent in data["val"]]


class OtherDetectors:
    def __init__(self) -> None:
        import fasttext
        import py3langid
        import pycld2

        self._cld2, self._py3langid = pycld2, py3langid
        self._lid176 = fasttext.load_model(str(default_lid176_path()))

    def cld2(self, text: str) -> str:
        try:
            reliable, _bytes, details = self._cld2.detect(text)
        except self._cld2.error:
            return "error"
        return details[0][1] if details and details[0][1] != "un" else "unknown"

    def py3langid(self, text: str) -> str:
        return self._py3langid.classify(text)[0]

    def lid176(self, text: str) -> str:
        labels, _ = self._lid176.predict(" ".join(text.split()))
        return labels[0].removeprefix("__label__")


async def teranga_languages(texts: list[str]) -> dict[str, str]:
    from rasa.core.agent import Agent

    model = runtime.train(Settings.from_env().models_dir)
    quiet_rasa()
    agent = Agent.load(str(model))
    return {text: (await agent.parse_message(text))["language"]["detected"] for text in texts}


def predictions(messages: list[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    texts = sorted({text for _source, _language, text in messages})
    others = OtherDetectors()
    return {
        "teranga": asyncio.run(teranga_languages(texts)),
        "cld2": {text: others.cld2(text) for text in texts},
        "py3langid": {text: others.py3langid(text) for text in texts},
        "lid.176": {text: others.lid176(text) for text in texts},
    }


def table(messages: list[tuple[str, str, str]], predicted: dict[str, dict[str, str]]) -> None:
    groups = defaultdict(list)
    for source, language, text in messages:
        groups[(source, language, "all")].append((language, text))
        if len(words(text)) >= 3:
            groups[(source, language, "3+ words")].append((language, text))
    print("| messages from | language | length | n | " + " | ".join(DETECTORS) + " |")
    print("|---|---|---|---|" + "---|" * len(DETECTORS))
    for (source, language, length), rows in sorted(groups.items()):
        cells = []
        for detector in DETECTORS:
            right = sum(predicted[detector][text] == lang for lang, text in rows)
            cells.append(f"{100 * right / len(rows):.1f}")
        print(f"| {source} | {language} | {length} | {len(rows)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_datasets_option(parser)
    parser.add_argument("--afrisenti", type=Path, default=None, metavar="DIR",
                        help="AfriSenti's folder, with hau/dev.tsv and swa/dev.tsv "
                             "(default: DIR/afrisenti of --datasets)")
    parser.add_argument("--clinc", type=Path, default=None, metavar="FILE",
                        help="CLINC150's train_val.json, whose val questions are scored "
                             "(default: DIR/clinc150/train_val.json of --datasets)")
    parser.add_argument("--heldout", type=Path, default=HELDOUT, metavar="FILE",
                        help="the held-out messages (default: tests/data/heldout.yml)")
    parser.add_argument("--test", type=Path, default=None, metavar="AFRISENTI_DIR",
                        help="an AfriSenti-like folder with <lang>/test.tsv, scored instead "
                             "of dev")
    args = parser.parse_args()
    datasets = Datasets.from_option(args.datasets)
    if args.test:
        afrisenti = afrisenti_messages(must_exist(args.test, "the AfriSenti test folder",
                                                  "--test"), "test")
    else:
        afrisenti = afrisenti_messages(datasets.find("afrisenti/", "AfriSenti",
                                                     "--afrisenti DIR", args.afrisenti), "dev")
    clinc = datasets.find("clinc150/train_val.json", "CLINC150", "--clinc FILE", args.clinc)
    heldout = must_exist(args.heldout, "the held-out messages", "--heldout")
    messages = heldout_messages(heldout) + afrisenti + clinc_messages(clinc) \
        + injongo_messages(INJONGO)
    table(messages, predictions(messages))


if __name__ == "__main__":
    main()
