from pathlib import Path

import pytest

from teranga import corpora
from teranga.nlu.sentiment import Lexicon, SentimentScorer, label_for
from teranga.text import MAX_SYMBOLS

pytestmark = pytest.mark.model  # trains the Hausa sentiment model


@pytest.fixture(scope="module")
def lexicons():
    return {p.stem: Lexicon.read(p) for p in Path("data/sentiment/lexicon").glob("*.tsv")}


@pytest.fixture(scope="module")
def scorer(lexicons):
    rows = [(label, text) for text, label in corpora.labelled_rows(Path("data/corpora/ha"))]
    return SentimentScorer({"ha": SentimentScorer.train(rows[:6000])}, lexicons)


@pytest.mark.parametrize("text, language, label", [
    ("votre service est nul, on m'a volé mon argent", "fr", "negative"),
    ("merci beaucoup, c'est parfait", "fr", "positive"),
    ("this is a scam, you stole my money", "en", "negative"),
    ("thank you so much, great help", "en", "positive"),
    ("how do i check my balance", "en", "neutral"),
])
def test_lexicons_for_french_and_english(scorer, text, language, label):
    sentiment = scorer.score(text, language)
    assert sentiment.label == label
    # VADER, or the language's customer-service idioms (data/sentiment/lexicon/<lang>.tsv)
    assert sentiment.model in {f"vader-{language}", f"lexicon-{language}"}


def test_trained_model_for_hausa(scorer):
    assert scorer.score("na gode sosai, kun yi kokari", "ha").label == "positive"
    assert scorer.score("barayi ne ku, kun cinye min kudi", "ha").label == "negative"
    # No lexicon word: the classifier decides.
    assert scorer.score("yaya zan duba balance dina?", "ha").model == "classifier-ha"


def test_one_angry_word_speaks_but_one_topical_word_does_not(scorer):
    angry = scorer.score("barayi ne ku", "ha")  # thieves, you are
    assert (angry.label, angry.model) == ("negative", "lexicon-ha")
    assert scorer.score("yaya zan gane sakon damfara?", "ha").label != "negative"  # spot a scam


def test_a_negated_good_word_is_bad(scorer):
    assert scorer.score("wannan sabis ba shi da kyau", "ha").label == "negative"
    assert scorer.score("sabis din yana da kyau", "ha").label == "positive"


@pytest.mark.parametrize("text, language", [
    ("i lost my sim card, how can i block it?", "en"),
    ("hi, i want to report a fraud attempt", "en"),
    ("j'ai perdu ma carte, comment la bloquer ?", "fr"),
    ("comment reconnaitre une arnaque par sms", "fr"),
])
def test_topical_words_are_no_mood_in_french_and_english(scorer, text, language):
    assert scorer.score(text, language).label != "negative"


@pytest.mark.parametrize("text, language", [
    ("great, another outage. thanks for nothing", "en"),
    ("bravo, encore une panne, merci pour rien", "fr"),
    ("je suis tres decu", "fr"),  # "déçu" typed without accents
    ("ras le bol de vos coupures", "fr"),
])
def test_customer_service_idioms_and_unaccented_french(scorer, text, language):
    assert scorer.score(text, language).label == "negative"


def test_a_wolof_word_is_not_read_as_its_english_false_friend(scorer):
    # "ban" is "which" in Wolof, and "ban" a strongly negative English word to VADER.
    assert scorer.score("ban waxtu la agence bi di tej", "wo").label == "neutral"
    assert scorer.score("ban this app", "en").label == "negative"


class _Probabilities:
    """A classifier that always gives the same probabilities."""

    classes_ = ["negative", "neutral", "positive"]

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def predict_proba(self, texts):
        return [self.probabilities for _ in texts]


def test_swahili_is_negative_from_its_threshold_on():
    unsure = _Probabilities([0.40, 0.45, 0.15])  # P(negative) 0.40 >= 0.38, not the argmax
    scorer = SentimentScorer({"sw": unsure, "ha": unsure}, {})
    swahili = scorer.score("maneno", "sw")
    assert swahili.label == "negative" and swahili.score <= -0.05
    assert scorer.score("maneno", "ha").label == "neutral"  # argmax elsewhere


def test_language_without_a_model_uses_its_lexicon_or_french_and_english(scorer):
    own = scorer.score("dama mer, seen service bi dafa naxe", "wo")
    assert own.label == "negative"
    mixed = scorer.score("service bi dafa nul", "wo")  # French word in Wolof
    assert mixed.label == "negative"
    unknown = scorer.score("mbote, nazali malamu", "ln")  # no lexicon, no model
    assert unknown.label == "neutral"


def test_emoji_count_in_every_language(scorer):
    assert scorer.score("😡😡😡", "sw").label == "negative"
    assert scorer.score("😡😡", "ha").label == "negative"


def test_labels_follow_vader_cutoffs():
    assert label_for(0.05) == "positive"
    assert label_for(-0.05) == "negative"
    assert label_for(0.0) == "neutral"


@pytest.fixture
def model_inputs(scorer, monkeypatch):
    """The texts each VADER analyser and the Hausa classifier read."""
    seen = []
    for analyser in scorer.vader.values():
        read = analyser.polarity_scores
        monkeypatch.setattr(analyser, "polarity_scores",
                            lambda text, read=read: seen.append(text) or read(text))
    classifier = scorer.classifiers["ha"]
    predict = classifier.predict_proba
    monkeypatch.setattr(classifier, "predict_proba",
                        lambda texts: seen.extend(texts) or predict(texts), raising=False)
    return seen


@pytest.mark.parametrize("language", ["fr", "wo", "ha"])
def test_two_thousand_emoji_reach_the_models_bounded(scorer, model_inputs, language):
    # 2000 emoji cost VADER 4 s per lexicon: it reads each as its name, quadratically.
    assert scorer.score("😡" * 2000, language).label == "negative"
    scorer.score("".join(["😡", "🤬", "😠", "😤"][i % 4] for i in range(2000)), language)
    assert model_inputs
    for seen in model_inputs:
        assert len(seen) <= MAX_SYMBOLS


def test_a_long_message_reaches_vader_whole(scorer, model_inputs):
    text = "vous m'avez volé mon argent, " * 20 + "c'est nul"
    assert scorer.score(text, "fr").label == "negative"
    assert model_inputs == [text]


def test_a_small_corpus_adds_sentence_vectors_and_the_model_pickles(tmp_path):
    import joblib

    rows = [("negative", "mmetuibia pesa, wezi nyinyi"), ("negative", "huduma mbovu sana"),
            ("neutral", "salio langu ni kiasi gani"), ("neutral", "duka liko wapi"),
            ("positive", "asante sana, huduma nzuri"), ("positive", "safi sana, nimefurahi")] * 3
    model = SentimentScorer.train(rows)
    assert [name for name, _ in model.estimators] == ["ngrams", "vectors"]
    joblib.dump(model, tmp_path / "sw.joblib")  # the C engine is not pickled ...
    loaded = joblib.load(tmp_path / "sw.joblib")
    probabilities = loaded.predict_proba(["huduma mbovu sana"])[0]  # ... and comes back
    assert list(loaded.classes_) == ["negative", "neutral", "positive"]
    assert probabilities.argmax() == 0


@pytest.mark.parametrize("text, language", [
    ("dañu sàcc sama telefon, naka laa koy bloquer", "wo"),  # my phone was stolen
    ("sama puce dafa yàqu, dama bëgg beneen", "wo"),  # my SIM is broken
    ("my transfer failed, what should i do", "en"),
])
def test_a_theft_or_a_breakdown_asked_about_is_no_mood(scorer, text, language):
    assert scorer.score(text, language).label != "negative"


@pytest.mark.parametrize("text, language", [
    ("sàcc ngeen sama xaalis, mer naa", "wo"),  # you stole my money, I am angry
    ("seen service bi dafa yàqu, mer naa lool", "wo"),
])
def test_an_accusation_or_anger_stays_negative(scorer, text, language):
    assert scorer.score(text, language).label == "negative"


def test_the_service_model_makes_a_message_negative_but_never_hands_over_alone(lexicons):
    sure = SentimentScorer({}, lexicons, _Probabilities([0.9, 0.05, 0.05]))
    polite = sure.score("bonjour, mon transfert n'est toujours pas arrive", "fr")
    assert polite.label == "negative" and polite.model == "service-fr"
    # The label puts the customer first in the queue; the score, which hands over, stays
    # the language's own (VADER's 0.0 here, at most -0.05 so that label_for agrees).
    assert polite.score == -0.05
    angry = sure.score("vous etes des voleurs, c'est nul", "fr")
    assert angry.model in {"vader-fr", "lexicon-fr"} and angry.score <= -0.5  # its own first


def test_the_service_model_below_its_threshold_changes_nothing(lexicons):
    text = "merci beaucoup, c'est parfait"
    unsure = SentimentScorer({}, lexicons, _Probabilities([0.49, 0.01, 0.5]))
    assert unsure.score(text, "fr") == SentimentScorer({}, lexicons).score(text, "fr")
    sure = SentimentScorer({}, lexicons, _Probabilities([0.5, 0.0, 0.5]))
    assert sure.score(text, "fr").label == "negative"  # from SERVICE_NEGATIVE (0.5) on
