"""Word and character n-gram features, shared by the intent and sentiment classifiers."""

from __future__ import annotations


def ngram_features(min_char_count: int = 1):
    """TF-IDF over word 1-2-grams and character 2-5-grams (within words), sublinear counts:
    words carry meaning, character n-grams carry spelling variants, typos and shared roots.
    Texts are expected normalised (`teranga.text.normalize`), and at prediction time
    bounded first (`teranga.text.bounded`, which the callers apply)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)),
        TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5),
                        min_df=min_char_count))
