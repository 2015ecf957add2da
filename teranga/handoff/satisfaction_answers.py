"""A customer's answer to the satisfaction question, read as people write it.

After an agent hands a conversation back, the bot asks "Did the agent solve your problem?"
(`utter_ask_satisfaction`). Customers rarely answer with the bare YES or NO the question asks
for: "Oui, merci beaucoup", "waaw jërëjëf", "hapana bado", "a'a", "👍", "oui mais c'est
lent". `read_answer` reads such an answer, offline and in well under a millisecond, with
word and phrase lists per language:

- the text is normalised as for the models (`teranga.text`: no accents, lower case), French
  elisions are split ("n'a" is "n a"), stretched letters are cut ("ouiii" is "oui") and a
  doubled last letter is forgiven ("yess", "thankss");
- the longest phrase wins ("pas de problème" is a yes, "pas" alone a no), then negative verb
  forms (Wolof "doxul", Swahili "haijatatuliwa"), then a one-letter typo of a listed word;
- any sign of "not solved" (a no word, a negation, a complaint such as "lent", "bado",
  "still") makes the answer a no, even after a yes: "oui mais c'est lent" is not satisfied,
  and so is a yes followed by "but" and a reservation without any yes in it;
- emoji count by the valence the sentiment model gives them (data/sentiment/lexicon/emoji.tsv);
- a message with neither (a new question, "je veux un agent") is not an answer: None.

A conversation's language brings its own list, the shared one (words every customer of the
region uses: "ok", "merci", "yes") and the languages its customers mix in (French and
English into Wolof, English into French, Swahili and Hausa). Any other language reads all
the lists. The labelled answers and the measure: data/satisfaction/answers.yml,
bench/satisfaction.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from teranga.nlu.sentiment import Lexicon
from teranga.settings import PROJECT_ROOT
from teranga.text import normalize, replace_surrogates, words

# An answer to a yes/no question is short; what comes after this is a new message, and
# reading no further keeps the cost bounded whatever is sent.
MAX_ANSWER_CHARS = 300
# Typos are looked for among the first words only: an answer says yes or no early.
_MAX_TYPO_WORDS = 12
# Below this length a one-letter difference makes another word ("now" / "non"): shorter
# words are matched only with two neighbouring letters swapped ("yse", "oiu").
_MIN_TYPO_LENGTH = 5

# PLAIN: a word of the domain that the typo and doubled-letter rules would otherwise take
# for an answer word ("pass", an internet bundle, is not "pas").
# REQUEST: a word that asks for something; after "but" it starts a new request, not a
# reservation ("it works, but how do I check my balance?").
YES, NO, BUT, YES_FIRST, PLAIN, REQUEST = "yes", "no", "but", "yes-first", "plain", "request"
# French elided articles and pronouns, split off so that "n'a" carries the "ne" of a
# negation and "c'est bon" meets "c bon". Hausa "a'a" keeps its apostrophe.
_ELISIONS = frozenset({"c", "d", "j", "l", "m", "n", "qu", "s", "t"})
# Three or more of one letter is a stretched word; two may be its spelling ("waaw", "pass").
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_EMOJI_VALENCES = PROJECT_ROOT / "data" / "sentiment" / "lexicon" / "emoji.tsv"
# Answer emoji that emoji.tsv does not score (they carry no mood, only yes or no).
# Emoji this weak say neither yes nor no ("😂" is 1 in emoji.tsv, "🙏" 1.5).
_MIN_EMOJI_VALENCE = 1.5
_ANSWER_EMOJI = {"✅": 2.0, "✔": 2.0, "☑": 2.0, "🆗": 2.0, "❌": -2.0, "✖": -2.0, "🙅": -2.0,
                 "🚫": -2.0, "⛔": -2.0}


@dataclass(frozen=True)
class AnswerWords:
    """One language's words and phrases, written as customers type them (accents, case and
    doubled letters do not matter)."""

    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()  # refusals, negations, complaints ("still", "lent", "bado")
    but: tuple[str, ...] = ()
    # Yes only as the first word: Hausa "to" ("ok") is English "to" elsewhere.
    yes_first: tuple[str, ...] = ()
    # A negative verb form, when the language marks negation inside the word.
    negative_form: re.Pattern | None = None
    plain: tuple[str, ...] = ()
    request: tuple[str, ...] = ()


SHARED = AnswerWords(
    yes=("ok", "okay", "oki", "okey", "oke", "yes", "oui", "merci", "mrc", "thanks",
         "thank you", "thx", "d'accord", "dac"),
    no=("no", "non", "nn"),
    plain=("pass",),
    request=("svp", "please", "pls"),
)

WORDS = {
    "en": AnswerWords(
        yes=("yeah", "yea", "yah", "yep", "yup", "yh", "sure", "of course", "thank u", "thanku",
             "thankyou", "thnx", "tnx", "ty", "many thanks", "solved", "resolved", "sorted",
             "fixed", "working", "works", "worked", "all good", "good", "great", "perfect",
             "fine", "excellent", "awesome", "helpful", "done", "cool", "all set", "nice",
             "happy", "satisfied", "amazing", "brilliant", "appreciated", "back to normal",
             "not bad", "no problem", "no problems", "no issue", "no issues", "no worries",
             "no more problem", "no more problems", "problem solved", "god bless"),
        no=("nope", "nah", "not", "never", "not yet", "not really", "not at all", "still",
            "nothing", "slow", "partly", "partially", "worst", "bad", "terrible", "useless",
            "poor", "rubbish", "unhappy", "disappointed", "angry", "annoyed", "down", "failed",
            "same problem", "same issue", "can't", "cant", "cannot", "don't", "dont",
            "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "wasn't", "wasnt",
            "won't", "wont", "haven't", "havent", "hasn't", "hasnt", "ain't", "aint"),
        but=("but", "though", "however", "except"),
        request=("want", "need", "how", "what", "when", "where", "why", "can you", "could you"),
    ),
    "fr": AnswerWords(
        yes=("ouais", "ouai", "ouaip", "wi", "c bon", "c'est bon", "cest bon", "c ok",
             "c'est ok", "merci beaucoup", "merci bcp", "mci", "parfait", "nickel", "super",
             "génial", "top", "impeccable", "impec", "réglé", "résolu", "marche",
             "remarche", "fonctionne", "refonctionne", "daccord", "très bien", "bien",
             "satisfait", "satisfaite", "content", "contente", "excellent", "ça roule",
             "ça y est", "c'est fait", "pas de problème", "pas de problèmes", "pas de souci",
             "pas de soucis", "pas mal", "plus de problème", "plus de soucis",
             "plus de souci", "n'ai plus de problème", "n'y a plus de problème",
             "y a plus de problème", "sans problème"),
        no=("nan", "pas", "ne", "n", "jamais", "aucun", "aucune", "rien", "toujours",
            "pas encore", "pas vraiment", "pas du tout", "bof", "lent", "lente", "lenteur",
            "persiste", "en partie", "partiellement", "nul", "nulle", "énervé", "fâché",
            "mécontent", "déçu", "déçue", "insatisfait", "mauvais", "panne", "coupe",
            "coupé", "même problème", "n'importe quoi"),
        but=("mais", "par contre", "cependant", "sauf"),
        request=("veux", "voudrais", "comment", "combien", "quand", "pourquoi", "où",
                 "est-ce que", "pouvez"),
    ),
    "wo": AnswerWords(
        yes=("waaw", "waw", "wawaw", "jërëjëf", "jerejef", "dieuredieuf", "jeuredieuf", "jaajeuf",
             "jaajef", "baax na", "baaxna", "dafa baax", "lépp baax na", "dox na", "doxna",
             "dafa dox", "mu ngi dox", "mungi dox", "saafara na", "defaru na", "dafa defaru",
             "sant", "yalla na la yalla fay", "dëgg la", "noonu la", "ok na", "contan",
             "dama contan", "barke"),
        no=("deedeet", "dedet", "deet", "dara", "bëgguma", "begguma", "mu ngi fi rekk",
            "mungi fi rekk", "yàgg", "dafa yàgg", "metti", "mer", "dama mer", "bof", "lent"),
        but=("waaye",),
        request=("bëgg naa", "begg naa", "naka", "ñaata", "kañ", "ndax"),
        # Wolof marks negation on the verb: "doxul", "baaxul", "saafaraawul", "bëgguma".
        negative_form=re.compile(r"^[a-z]{2,}(?:ul|uma)$"),
    ),
    "sw": AnswerWords(
        yes=("ndiyo", "ndio", "ndyo", "eeh", "sawa", "sawa sawa", "iko sawa", "ni sawa",
             "imekaa sawa", "asante", "ahsante", "asanteni", "shukran", "nashukuru",
             "barikiwa", "mungu akubariki", "safi", "poa", "fiti", "freshi", "shwari",
             "imetatuliwa", "limetatuliwa", "imeisha", "limeisha", "imekwisha", "imeweza",
             "inafanya", "inafanyakazi", "imefanya", "imerudi", "umenisaidia",
             "mmenisaidia", "nimesaidika", "nimeridhika", "tayari", "vizuri", "nzuri",
             "hakuna shida", "hakuna tatizo", "hakuna matata", "hamna shida", "hamna noma",
             "bila shida"),
        no=("hapana", "apana", "bado", "sio", "siyo", "si kweli", "si sawa", "hakuna", "hamna",
            "polepole", "chini", "vibaya", "mbaya", "sijaridhika"),
        but=("lakini", "ila"),
        request=("nataka", "ninataka", "naomba", "nawezaje", "vipi", "ngapi", "lini", "kwa nini"),
        # Swahili negative verbs: "haifanyi", "haijatatuliwa", "sijasaidiwa", "hamjanisaidia".
        negative_form=re.compile(
            r"^(?:hai|hali|haku|hau|hamja|hawaja|hatuja|sija|siku)[a-z]{3,}$"),
    ),
    "ha": AnswerWords(
        yes=("eh", "ee", "na gode", "nagode", "mun gode", "godiya", "yawwa", "yauwa", "yayi",
             "ya yi", "madalla", "alhamdulillah", "alhamdu lillah", "an gyara", "an warware",
             "ya warware", "an magance", "yana aiki", "ya yi aiki", "yayi aiki",
             "babu matsala", "ba matsala", "shikenan", "daidai", "ya dawo", "na gamsu",
             "lafiya lau"),
        no=("a'a", "ba", "bai", "ban", "babu", "har yanzu", "jinkiri", "tana nan"),
        but=("amma", "sai dai"),
        request=("ina son", "ina so", "don allah", "yaya", "nawa", "yaushe", "me yasa"),
        yes_first=("to",),
    ),
}

# The languages customers of a conversation's language mix into their answers.
MIXED_IN = {"en": (), "fr": ("en",), "wo": ("fr", "en"), "sw": ("en",), "ha": ("en",)}


def read_answer(text: str, language: str) -> bool | None:
    """True: satisfied; False: not satisfied; None: the message does not answer the
    question. Never raises; reads at most MAX_ANSWER_CHARS characters."""
    if not isinstance(text, str) or not text:
        return None
    text = _STRETCHED.sub(r"\1", text[:MAX_ANSWER_CHARS].replace("’", "'"))
    # Decomposed here and cut again: NFKD makes 18 characters of one (U+FDFA), and NFKC
    # (`teranga.text.encodable`) would cost 0.3 ms to compose them back.
    text = unicodedata.normalize("NFKD", replace_surrogates(text, ""))[:MAX_ANSWER_CHARS]
    kinds = _word_kinds(_tokens(text), _TABLES[_language_key(language)])
    emoji = _emoji_valence(text)
    if abs(emoji) >= _MIN_EMOJI_VALENCE:
        kinds.append(YES if emoji > 0 else NO)
    return _verdict(kinds)


def _language_key(language: object) -> str:
    """"fr", "fr-SN" and "FR" read French; anything else reads every list."""
    if not isinstance(language, str):
        return ""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in WORDS else ""


def _tokens(text: str) -> list[str]:
    tokens = []
    for word in words(normalize(text)):
        head, apostrophe, rest = word.partition("'")
        if apostrophe and head in _ELISIONS and rest:
            tokens.append(head)
            word = rest
        tokens.append(word)
    return tokens


def _verdict(kinds: list[str]) -> bool | None:
    """No wins over yes (a complaint outweighs a thank-you); a yes followed by "but" and a
    reservation (no yes, no new request in it) is a no ("yes but..."); nothing at all is
    no answer."""
    if NO in kinds:
        return False
    if YES not in kinds:
        return None
    if BUT in kinds:
        first_yes, last_but = kinds.index(YES), len(kinds) - 1 - kinds[::-1].index(BUT)
        tail = kinds[last_but + 1:]
        if first_yes < last_but and tail and YES not in tail and REQUEST not in tail:
            return False
    return True


def _word_kinds(tokens: list[str], table: _Table) -> list[str]:
    """The kind of each word or phrase, in order; any other word is "" (so that a
    reservation after "but" counts). Typos and negative verb forms are looked for among
    the first _MAX_TYPO_WORDS words only."""
    kinds = []
    i = 0
    while i < len(tokens):
        size, kind = table.longest_match(tokens, i)
        if kind == YES_FIRST:
            kind = YES if i == 0 else ""
        if not kind and i < _MAX_TYPO_WORDS:
            kind = table.negative_form(tokens[i]) or table.typo_of(tokens[i])
        kinds.append(kind)
        i += size
    return kinds


class _Table:
    """The phrases of some languages' lists, each with its kind, ready to match."""

    def __init__(self, lists: list[AnswerWords]) -> None:
        self.phrases: dict[str, str] = {}
        self.negative_forms = [w.negative_form for w in lists if w.negative_form]
        for answer_words in lists:  # later lists win: the conversation's own comes last
            for kind, entries in ((YES, answer_words.yes), (NO, answer_words.no),
                                  (BUT, answer_words.but), (YES_FIRST, answer_words.yes_first),
                                  (PLAIN, answer_words.plain),
                                  (REQUEST, answer_words.request)):
                for entry in entries:
                    self.phrases[" ".join(_tokens(entry))] = kind
        single = {p: k for p, k in self.phrases.items() if " " not in p and k in (YES, NO)}
        for phrase, kind in single.items():  # "yess", "noo", "okk"
            self.phrases.setdefault(phrase + phrase[-1], kind)
        # The longest phrase each word starts: most words start none, and cost one lookup.
        self.longest_from: dict[str, int] = {}
        for phrase in self.phrases:
            first, *rest = phrase.split(" ")
            self.longest_from[first] = max(self.longest_from.get(first, 0), 1 + len(rest))
        # One-letter typos of long words: every word with one letter deleted, both ways.
        self.one_deleted: dict[str, str] = {}
        self.short_words = {p: k for p, k in single.items() if len(p) < _MIN_TYPO_LENGTH}
        for phrase, kind in single.items():
            if len(phrase) >= _MIN_TYPO_LENGTH:
                for variant in _deletions(phrase) + [phrase]:
                    self.one_deleted.setdefault(variant, kind)

    def longest_match(self, tokens: list[str], start: int) -> tuple[int, str]:
        longest = self.longest_from.get(tokens[start], 0)
        for size in range(min(longest, len(tokens) - start), 0, -1):
            kind = self.phrases.get(" ".join(tokens[start:start + size]))
            if kind:
                return size, kind
        return 1, ""

    def negative_form(self, token: str) -> str:
        return NO if any(form.match(token) for form in self.negative_forms) else ""

    def typo_of(self, token: str) -> str:
        if len(token) >= _MIN_TYPO_LENGTH:
            for variant in [token] + _deletions(token):
                if variant in self.one_deleted:
                    return self.one_deleted[variant]
            return ""
        for swapped in _swaps(token):
            if swapped in self.short_words:
                return self.short_words[swapped]
        return ""


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1:] for i in range(len(word))]


def _swaps(word: str) -> list[str]:
    return [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)]


def _table(language: str) -> _Table:
    if not language:
        return _Table([SHARED, *WORDS.values()])
    mixed = [WORDS[other] for other in MIXED_IN.get(language, ())]
    return _Table([SHARED, *mixed, WORDS[language]])


def _emoji_valence(text: str) -> float:
    """The summed valence of the emoji (each emoji of a run counts: "😡😡" is angrier)."""
    return sum(_EMOJI.get(char, 0.0) for char in text if not char.isalnum())


# Built at import (about 10 ms), so that no customer's answer pays for it.
_TABLES = {language: _table(language) for language in ["", *WORDS]}
_EMOJI = {**Lexicon.read(_EMOJI_VALENCES).valences, **_ANSWER_EMOJI}
