# Teranga: `make demo` runs the assistant, `make test` runs the tests.
# Both create or reuse .venv (Python 3.10, as Rasa 3.6 requires).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test train lint bench-latency bench-kb bench-handoff bench-clinc bench-banking77 \
	bench-sentiment bench-langid bench-scale bench-footprint clean

demo: $(STAMP)
	$(BIN)/teranga demo

test: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

train: $(STAMP)
	$(BIN)/teranga train

lint: $(STAMP)
	$(BIN)/ruff check .

bench-latency: $(STAMP)
	$(BIN)/python bench/latency.py

bench-handoff: $(STAMP)
	$(BIN)/python bench/handoff.py

bench-clinc: $(STAMP)
	$(BIN)/python bench/intents.py clinc150

bench-banking77: $(STAMP)
	$(BIN)/python bench/intents.py banking77
	$(BIN)/python bench/intents.py banking77 --pipeline rasa-init

bench-sentiment: $(STAMP)
	$(BIN)/python bench/sentiment.py

bench-langid: $(STAMP)
	$(BIN)/python bench/langid.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

bench-footprint: $(STAMP)
	$(BIN)/python bench/footprint.py

bench-kb: $(STAMP)
	$(BIN)/python bench/kb_eval.py
	$(BIN)/python bench/kb_scale.py

$(STAMP): pyproject.toml
	@python310=$$(scripts/find-python310) || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
		rm -rf $(VENV) && "$$python310" -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --upgrade "pip<25" "setuptools==70.3.0" "packaging>=20,<21"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

clean:
	rm -rf models .teranga .pytest_cache
