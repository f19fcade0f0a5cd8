# Two commands a new user needs: `make serve` and `make test`. Both install into .venv from this repo's files.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: serve test bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

serve: $(VENV)/.installed
	$(VENV)/bin/ftsim serve

test: $(VENV)/.installed
	scripts/test-prerequisites
	$(PY) -m pytest

bench: $(VENV)/.installed
	scripts/test-prerequisites
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) ftsim.db ftsim.db-wal ftsim.db-shm ftsim.db-lock
