# Two commands do all set-up on a fresh machine:
#   make run   - install everything, build the index, start the chat on http://127.0.0.1:7860
#   make test  - install everything, build the index, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint install index browser servers eval bench train calibrate clean

run: index
	$(BIN)/python app.py

# Every test: unit, model, server and browser (pyproject's addopts run only the fast ones).
test: lint index browser servers
	$(BIN)/python -m pytest -m "" -n 0

# Every day: lint and the fast tests (fake encoder, no model, no browser), in about a minute.
check: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench app.py
	$(BIN)/ruff format --check src tests bench app.py

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU wheel; anything looser pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[app,test]"
	touch $(STAMP)

# Converts the bundled e5 model once (cached outside the repo) and builds index/ if stale.
index: $(STAMP)
	$(BIN)/qa index

# Debian's Chromium for the browser tests (Playwright's own browser download is not reachable).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL, Redis and nginx for the tests that run the app past one process (the tests
# start their own servers in temporary folders: nothing is started or enabled here).
servers:
	@test -x /usr/sbin/nginx && test -x /usr/bin/redis-server && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql redis-server nginx-light >/dev/null; }

# Every evaluation set, pooled, with the naive card and BM25 beside the engine; PIAF also with each
# article alone and with the Inserm article added. Writes the tables into docs/evaluation.md.
EVAL := ../shared/eval
eval: index
	$(BIN)/qa eval $(EVAL)/dev.jsonl $(EVAL)/dev2.jsonl $(EVAL)/dev_oos.jsonl $(EVAL)/dev_oos_near.jsonl \
	  $(EVAL)/dev_conversations.jsonl $(EVAL)/dev_conversations2.jsonl eval/extra.jsonl eval/extra_oos.jsonl \
	  $(EVAL)/piaf --baselines --alone --removed --plus articles/000_77dfe58a8330a326.txt --write docs/evaluation.md

# Fits the decision "the article answers this" on PIAF's training split (reproducible, a minute or
# two), writes src/qa/learn/decision.json and its figures into docs/evaluation.md. make test does not retrain.
train: index
	$(BIN)/qa train $(EVAL)/piaf_train --write docs/evaluation.md

# Chooses when a question means the same as a verified one (qa.verified) on labelled pairs of
# questions; writes the figures into docs/verification.md (the thresholds live in Tuning.verified).
calibrate: index
	$(BIN)/qa verified calibrate $(EVAL)/dev.jsonl $(EVAL)/dev2.jsonl $(EVAL)/dev_oos_near.jsonl \
	  eval/extra.jsonl eval/extra_oos.jsonl --piaf $(EVAL)/piaf $(EVAL)/piaf_train --write docs/verification.md

bench: index
	$(BIN)/qa bench

clean:
	rm -rf $(VENV) index/manifest.json index/units*.faiss
