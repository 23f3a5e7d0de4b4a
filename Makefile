# One name per task. `make run` and `make test` are the two README commands.
VENV ?= .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi

.PHONY: install run test lint fmt check bench bench-matching browser-deps

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian's chromium drives the browser test; installed once per machine.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -q && apt-get install -y -q chromium chromium-driver)

run: install
	MARKETPLACE_ENV=development $(PY) -m flask migrate
	MARKETPLACE_ENV=development $(PY) -m flask load-demo
	MARKETPLACE_ENV=development MARKETPLACE_SCHEDULER=$${MARKETPLACE_SCHEDULER:-on} \
		$(PY) -m flask run --host 127.0.0.1 --port 8000

test: install browser-deps
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: lint test

bench: install
	$(PY) bench/search_latency.py

bench-matching: install
	$(PY) bench/matching_quality.py --fit
	$(PY) bench/matching_speed.py
