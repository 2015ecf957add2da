# Teranga: `make demo` runs the assistant, `make test` runs the tests.
# Both create or reuse .venv (Python 3.10, as Rasa 3.6 requires).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast fuzz train lint bench-latency bench-hostile bench-kb bench-handoff bench-clinc bench-banking77 \
	bench-sentiment bench-langid bench-langswitch bench-answers bench-scale bench-footprint bench-history bench-chaos \
	bench-cluster clean

demo: $(STAMP)
	$(BIN)/teranga demo

test: $(STAMP)
	scripts/ensure-test-packages
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The quick lane while working: the lint, then the tests that train no model and start no
# servers (not marked `e2e` or `model`; pyproject.toml). `make test` runs everything.
test-fast: lint
	scripts/ensure-test-packages
	$(BIN)/python -m pytest -q -m "not e2e and not model"

# The long fuzz run: many more random inputs per endpoint than `make test`, and every Unicode
# code point through the embedder's guard (tests/fuzz, tests/e2e/test_fuzz_inputs.py).
fuzz: $(STAMP)
	scripts/ensure-test-packages
	TERANGA_FUZZ_FULL=1 TERANGA_FUZZ_EXAMPLES=$${TERANGA_FUZZ_EXAMPLES:-1000} \
		$(BIN)/python -m pytest -q --hypothesis-show-statistics \
		tests/fuzz tests/e2e/test_fuzz_inputs.py

train: $(STAMP)
	$(BIN)/teranga train

# ruff, then the import contracts of pyproject.toml's [tool.importlinter] (the library's
# layers; teranga never imports actions/ or connectors/).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench-latency: $(STAMP)
	$(BIN)/python bench/latency.py

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py

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

bench-langswitch: $(STAMP)
	$(BIN)/python bench/langswitch.py

bench-answers: $(STAMP)
	$(BIN)/python bench/answers.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

bench-footprint: $(STAMP)
	$(BIN)/python bench/footprint.py

# Two Rasa processes and two desks behind the shipped nginx, Redis with Sentinel: kills a
# Rasa process, a desk and the Redis master under traffic (docs/deploying.md).
bench-cluster: $(STAMP)
	scripts/ensure-test-packages
	$(BIN)/python bench/cluster.py

# Kills Rasa, the action server and Redis while customers write on every channel
# (docs/reliability.md); `make test` runs its short version.
bench-chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

bench-history: $(STAMP)
	$(BIN)/python bench/history.py

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

# 500 conversations waiting and 50 agents connected to a real desk process: the list in
# Chromium, a customer's message to the holder's desk, a claim (docs/benchmarks.md).
.PHONY: bench-desk
bench-desk: $(STAMP)
	$(BIN)/python bench/desk.py

# Customers' answers to the satisfaction question in five languages: the reader against
# today's intent, per language and split (data/satisfaction/answers.yml, docs/benchmarks.md).
.PHONY: bench-satisfaction
bench-satisfaction: $(STAMP)
	$(BIN)/python bench/satisfaction.py

# Personal data in customers' messages: precision and recall per kind and language, secrets
# included, and the time per message (data/privacy/messages.yml, docs/benchmarks.md).
.PHONY: bench-privacy
bench-privacy: $(STAMP)
	$(BIN)/python bench/privacy.py

# Insights at scale: the dashboard's queries at 10k, 100k and 1M conversations and the feed's
# ingest rate, on SQLite and PostgreSQL (docs/benchmarks.md).
.PHONY: bench-insights
bench-insights: $(STAMP)
	$(BIN)/python bench/insights.py
