# The two commands the README promises: `make demo` and `make test`.
# Installs are keyed on stamp files newer than requirements.txt / package-lock.json,
# so a second run goes straight to the demo or the tests.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PYTHON_STAMP := $(VENV)/.requirements.stamp
NODE_STAMP := node_modules/.package-lock.stamp
FRONTEND_BUILD := webapp/static/build/app.css
FRONTEND_SOURCES := $(shell find webapp/static/src -type f) webapp/static/build.mjs

.PHONY: demo test install

demo: install
	$(VENV_PYTHON) -m webapp.demo

test: install
	$(VENV_PYTHON) -m pytest -q

install: $(PYTHON_STAMP) $(FRONTEND_BUILD)

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

$(PYTHON_STAMP): requirements.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# npm ci installs exactly what the committed lock file says.
$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

$(FRONTEND_BUILD): $(NODE_STAMP) $(FRONTEND_SOURCES)
	npm run build
