# Veritalk. `make demo` and `make test` create .venv when missing and install what they need.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  := torch==2.13.0
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test test-sqlite test-postgres serve bench migrate signing clean-var

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first: invisible-watermark asks for a bare `torch`, which would pull the CUDA build.
$(VENV)/.deps: pyproject.toml | $(PY)
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.deps
	$(PIP) install --quiet -e '.[dev]'
	touch $@

migrate: $(VENV)/.deps
	$(PY) manage.py migrate --noinput -v 0

signing: $(VENV)/.deps
	$(PY) manage.py init_signing --if-missing

demo: migrate signing
	$(PY) manage.py demo $(if $(PHOTO),--photo $(PHOTO)) $(if $(AUDIO),--audio $(AUDIO))

test: $(VENV)/.dev
	$(PY) -m pytest
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/veritalk $(PY) -m pytest tests/platform -m "not redis" -q

serve: migrate signing
	@echo "portal on http://$(HOST):$(PORT)/ ; Ctrl-C stops the portal and the worker"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py runworker --loglevel WARNING & \
	$(PY) manage.py runserver --insecure $(HOST):$(PORT)

bench: $(VENV)/.deps
	$(PY) -m bench.generation --json
