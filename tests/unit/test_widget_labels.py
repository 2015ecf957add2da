"""The web chat widget's texts are data (chat_labels/<code>.yml), one file per language the
assistant speaks, written into widget.js as it is served; and widget.js stays within its
size budget on weak networks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from teranga import runtime
from teranga.channels.widget import LABELS, LABELS_MARK, STATIC, read_labels, widget_script
from teranga.languages import default_language

# widget.js as served, the texts of every language included, and the only request the widget
# makes besides its socket: at most this many bytes, uncompressed.
BUDGET_BYTES = 24 * 1024


def labels_file(code: str) -> dict:
    return yaml.safe_load((LABELS / f"{code}.yml").read_text("utf-8"))


def test_every_language_has_every_label_of_the_default_language():
    default = labels_file(default_language())
    assert default and all(isinstance(text, str) and text for text in default.values())
    for code in (path.stem for path in Path("data/nlu").glob("*.yml")):
        assert (LABELS / f"{code}.yml").exists(), f"chat_labels/{code}.yml is missing"
        texts = labels_file(code)
        missing = set(default) - set(texts)
        assert not missing, f"chat_labels/{code}.yml lacks {sorted(missing)}"
        assert all(isinstance(text, str) and text.strip() for text in texts.values()), code


def test_widget_js_as_served_is_within_its_size_budget():
    size = len(widget_script().encode("utf-8"))
    assert size <= BUDGET_BYTES, f"widget.js is {size} bytes served, over {BUDGET_BYTES}"
    source = "\n".join(line for line in (STATIC / "widget.js").read_text("utf-8").splitlines()
                        if not line.lstrip().startswith("//"))  # the code, not its comments
    for other_request in ("fetch(", "XMLHttpRequest", "url(", "@import", "import(", "src=",
                          "EventSource"):
        assert other_request not in source, f"widget.js makes another request: {other_request}"


def test_the_labels_are_written_into_widget_js():
    served = widget_script()
    assert LABELS_MARK in (STATIC / "widget.js").read_text("utf-8")
    assert LABELS_MARK not in served
    written = json.loads(re.search(r"const LABELS = (\{.*\});", served).group(1))
    assert written == read_labels()
    assert written["default"] == default_language()
    assert set(written["languages"]) == {p.stem for p in Path("data/nlu").glob("*.yml")}


def test_a_missing_label_is_the_default_language_s(tmp_path):
    (tmp_path / "fr.yml").write_text("send: Envoyer\ntyping: En train d'écrire…\n", "utf-8")
    (tmp_path / "wo.yml").write_text("send: Yónnee\n", "utf-8")
    labels = read_labels(tmp_path, default="fr")
    assert labels == {"default": "fr", "languages": {
        "fr": {"send": "Envoyer", "typing": "En train d'écrire…"},
        "wo": {"send": "Yónnee", "typing": "En train d'écrire…"}}}


def test_no_language_is_named_in_the_widget():
    source = (STATIC / "widget.js").read_text("utf-8")
    for code in (path.stem for path in Path("data/nlu").glob("*.yml")):
        assert not re.search(rf"""["'/^]{code}\b""", source), code


def test_the_labels_train_nothing():
    root = Path(runtime.__file__).resolve().parent.parent
    for name in runtime.TRAINING_INPUTS:
        assert not LABELS.resolve().is_relative_to((root / name).resolve()), name
