# Front door of the project. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
ENV     := source scripts/env.sh &&
MODEL   := models/current.tar.gz
DICT    := bot/dictionary/userdict.txt
STAMP   := $(VENV)/.installed
# kubernetes-validate needs a newer jsonschema than Rasa 3.6 allows: its own venv.
DEPLOY_VENV  := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
# Macro-F1 as served (fallbacks count wrong) on each held-out set, and the margin over
# the char n-gram baseline: set just under the last measured figures (README, NLU), so
# a change that makes understanding worse fails `make test-nlu`.
NLU_MIN_F1_IN_HOUSE ?= 0.90
NLU_MIN_F1_REAL ?= 0.78
NLU_VS_BASELINE_IN_HOUSE ?= 0.0
NLU_VS_BASELINE_REAL ?= 0.05
# Fallback or clarification on in-scope messages: issue 13 asks for 5 %; real text
# is at 1.7 % (README, NLU pipeline).
NLU_MAX_FALLBACK_IN_HOUSE ?= 0.05
NLU_MAX_FALLBACK_REAL ?= 0.05
TECHNIQUE_MIN_F1 ?= 0.85
TRAINEE ?= 学员
# FAQ answers live in knowledge/ as retrieval responses: training data too.
DATA    := data knowledge/faq.yml

# What the model is built from: retrain only when one of these changes. The folders
# too: a training file deleted changes no file's time, only its folder's.
TRAIN_INPUTS := config.yml domain.yml knowledge/catalogue.yml knowledge/faq.yml \
  knowledge/policies.yml knowledge/language.yml shop/knowledge.py bot/nlu/lexicon.py \
  bot/nlu/normalizer.py bot/nlu/entity_ruler.py bot/nlu/userdict.py bot/nlu/features.py \
  bot/nlu/intent_classifier.py bot/nlu/ensemble.py bot/nlu/faq_selector.py \
  bot/nlu/linear_model.py bot/nlu/word_vectors.py bot/nlu/pinyin.py $(shell find data -type f -name '*.yml') \
  $(shell find data -type d)

.PHONY: help install dictionary web browser seed train run shell practice practice-report report test lint pytest validate test-practice test-stories test-nlu test-e2e test-security test-scale test-deploy soak test-soak bench-faults nginx bench bench-pipelines bench-thresholds bench-source-out bench-compare backup restore forget retention review-scan review-export review-recheck clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh

install: $(STAMP) ## Create .venv (Python 3.10) and install the pinned dependencies

$(DICT): $(STAMP) knowledge/catalogue.yml knowledge/policies.yml bot/nlu/userdict.py shop/knowledge.py
	@$(ENV) $(PY) -m bot.nlu.userdict

dictionary: $(DICT) ## Generate the jieba user dictionary from knowledge/

WEB_VENDOR := bot/web/static/vendor/socket.io.min.js
$(WEB_VENDOR): package.json package-lock.json scripts/vendor_web.sh
	@scripts/vendor_web.sh

web: $(WEB_VENDOR) ## Vendor socket.io-client (npm) for the web chat and the console

nginx: ## Install Debian's nginx for the scale-out test (if missing)
	@scripts/install_nginx.sh

browser: ## Install Debian's chromium for the browser tests (if missing)
	@scripts/install_browser.sh

seed: $(STAMP) ## Create the database schema and load the seed records from knowledge/
	@$(ENV) $(PY) -m shop.db.seed

# A reinstall alone (e.g. a new test tool) does not retrain: the venv is order-only.
$(MODEL): $(DICT) $(TRAIN_INPUTS) | $(STAMP)
	@echo "==> training (data, config, domain or knowledge changed)"
	@$(ENV) $(RASA) train --data $(DATA) --fixed-model-name current --out models --force

train: $(MODEL) ## Train the model if its inputs changed

run: $(MODEL) $(WEB_VENDOR) seed ## Set everything up and start the assistant
	@scripts/run.sh

shell: $(MODEL) seed ## Chat in the terminal (starts the action server too)
	@scripts/shell.sh

practice: $(STAMP) ## Practise objection handling in the terminal (TRAINEE=name)
	@$(ENV) $(PY) -m shop.practice.cli --trainee "$(TRAINEE)"

practice-report: $(STAMP) ## Progress chart of a trainee (TRAINEE=name) into results/practice/
	@$(ENV) $(PY) -m shop.practice.progress --trainee "$(TRAINEE)"

report: $(STAMP) ## Manager report into results/report/ (SINCE=/UNTIL=YYYY-MM-DD; default last 7 days)
	@$(ENV) $(PY) -m shop.insights.manager_report $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) --out results/report

bench: $(MODEL) ## Benchmark: NLU vs baseline, latency/throughput, cold start, memory, training (~10 min)
	@$(ENV) $(PY) -m bench.run

soak: $(MODEL) ## Soak: half-capacity load for SOAK_MINUTES (30), memory/descriptors/p99 watched
	@$(ENV) $(PY) -m bench.soak

test-soak: $(MODEL) ## The soak, short (8 minutes, the first 5 warm-up), as CI runs it
	@$(ENV) SOAK_MINUTES=$${SOAK_MINUTES:-8} SOAK_SAMPLE_SECONDS=$${SOAK_SAMPLE_SECONDS:-10} \
	  SOAK_WARMUP=$${SOAK_WARMUP:-0.625} SOAK_P99_NOISE_MS=$${SOAK_P99_NOISE_MS:-50} \
	  $(PY) -m bench.soak

bench-faults: $(MODEL) nginx ## Faults under load in the production profile: lost/duplicated messages, recovery (~4 min)
	@$(ENV) $(PY) -m bench.faults

bench-pipelines: $(MODEL) ## Train each candidate NLU pipeline, score both held-out sets as served (~10 min)
	@$(ENV) $(PY) -m bench.pipelines

bench-thresholds: $(STAMP) $(DICT) ## Fallback thresholds and macro-F1 by 5-fold cross-validation on the training data; CONFIG=bench/pipelines/x.yml for a candidate (~5 min)
	@$(ENV) $(PY) -m bench.thresholds --config $(or $(CONFIG),config.yml)

bench-source-out: $(STAMP) $(DICT) ## Each real training source left out of training and parsed: a dev set in real customers' voice, not a test set; CONFIG=… for a candidate (~4 min)
	@$(ENV) $(PY) -m bench.source_out --config $(or $(CONFIG),config.yml) $(if $(OUT),--out $(OUT))

bench-compare: $(STAMP) ## Two bench-source-out runs message by message, with a sign test and a bootstrap interval: make bench-compare A=before.json B=after.json
	@$(ENV) $(PY) -m bench.compare $(A) $(B) --examples $(or $(EXAMPLES),0)

backup: $(STAMP) ## Back up the records and the tracker store into var/backups/<time>/
	@$(ENV) $(PY) -m shop.db.backup backup

restore: $(STAMP) ## Restore a backup: make restore FROM=var/backups/<time> [FORCE=1]
	@test -n "$(FROM)" || { echo "usage: make restore FROM=var/backups/<time> [FORCE=1]"; exit 2; }
	@$(ENV) $(PY) -m shop.db.backup restore "$(FROM)" $(if $(FORCE),--force)

forget: $(STAMP) ## Anonymise one person's data everywhere (PHONE=… or CUSTOMER=… or TRAINEE=…)
	@$(ENV) $(PY) -m shop.erasure.cli forget $(if $(PHONE),--phone "$(PHONE)")$(if $(CUSTOMER),--customer "$(CUSTOMER)")$(if $(filter command line environment,$(origin TRAINEE)),--trainee "$(TRAINEE)")

retention: $(STAMP) ## Anonymise conversations idle longer than RETENTION_DAYS (also a job in the server)
	@$(ENV) $(PY) -m shop.erasure.cli retention $(if $(DAYS),--days $(DAYS))

review-scan: $(STAMP) ## Queue the messages the bot did not understand (四个不漏)
	@$(ENV) $(PY) -m bot.nlu.review_cli scan

review-export: $(STAMP) ## Labelled review items into data/nlu (then make validate train)
	@$(ENV) $(PY) -m bot.nlu.review_cli export

review-recheck: $(MODEL) ## Which labelled misses the model now gets right
	@$(ENV) $(PY) -m bot.nlu.review_cli recheck --model $(MODEL)

lint: $(STAMP) ## ruff
	@$(VENV)/bin/ruff check actions shop bot tests scripts bench

pytest: $(STAMP) $(DICT) ## Unit tests: data layer, components, actions
	@$(ENV) $(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/e2e --ignore=tests/scale \
	  --ignore=tests/security --ignore=tests/deploy

$(DEPLOY_STAMP): $(STAMP) requirements-deploy.txt
	$(PY) -m venv --clear $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	touch $@

test-deploy: $(STAMP) $(DEPLOY_STAMP) ## Kubernetes manifests: schemas (kubernetes-validate) and the scale test's profile
	@$(ENV) $(PY) -m pytest tests/deploy -q -p no:cacheprovider

test-e2e: $(MODEL) $(WEB_VENDOR) browser ## End to end: real servers on free ports, headless chromium
	@$(ENV) $(PY) -m pytest tests/e2e -q -p no:cacheprovider

test-security: $(MODEL) ## Attack tests against a real stack (order enumeration, …)
	@$(ENV) $(PY) -m pytest tests/security -q -p no:cacheprovider

test-scale: $(MODEL) nginx ## Production profile: 2 Rasa + 2 action servers, nginx, PostgreSQL, Redis
	@$(ENV) $(PY) -m pytest tests/scale -q -p no:cacheprovider

validate: $(STAMP) $(DICT) ## rasa data validate
	@$(ENV) $(RASA) data validate --data $(DATA)

test-stories: $(MODEL) ## Conversation tests, failing on any prediction error
	@$(ENV) $(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/stories

test-nlu: $(MODEL) ## Both held-out NLU sets (never trained on) beside the baseline, with thresholds
	@$(ENV) $(PY) -m bench.nlu_quality --out results/nlu/quality.json \
	  --min-f1 in_house=$(NLU_MIN_F1_IN_HOUSE) --min-f1 real=$(NLU_MIN_F1_REAL) \
	  --vs-baseline in_house=$(NLU_VS_BASELINE_IN_HOUSE) --vs-baseline real=$(NLU_VS_BASELINE_REAL) \
	  --max-fallback in_house=$(NLU_MAX_FALLBACK_IN_HOUSE) --max-fallback real=$(NLU_MAX_FALLBACK_REAL)

test-practice: $(STAMP) ## Practice-mode technique classifier on its held-out set
	@$(ENV) $(PY) scripts/check_techniques.py tests/practice/technique_test.yml \
	  --min-f1 $(TECHNIQUE_MIN_F1)

test: lint pytest validate test-practice test-stories test-nlu test-deploy test-e2e test-security test-scale test-soak ## Everything CI runs
	@echo "==> all checks passed"

clean: ## Remove generated files (models, results, dictionary, vendored JS); keeps .venv, var/
	rm -rf models results bot/dictionary bot/web/static/vendor
