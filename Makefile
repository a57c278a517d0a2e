# Veritalk. `make demo` and `make test` create .venv when missing and install what they need.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  := torch==2.13.0
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test lint serve prod bench bench-load migrate signing chromium messages

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

# The browser tests drive Debian's chromium (never a downloaded browser); they skip,
# saying why, where it cannot be installed.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser tests will be skipped"

# Lint first (ruff: style and import order; lint-imports: the layers and no import circles,
# see docs/architecture.md), then the tests.
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	PYTHONPATH=platform $(VENV)/bin/lint-imports

test: lint chromium
	$(PY) -m pytest --durations=15
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/veritalk $(PY) -m pytest tests/platform tests/live -m "not redis" -q --durations=10

# After changing translatable strings (needs gettext): makemessages adds the new strings to the
# French catalogue, platform/locale/fr/LC_MESSAGES/django.po, and keeps every existing translation;
# translate the new (empty) ones there, then compile. From the root, so the libraries'
# error templates (gettext_noop) are collected too.
messages: $(VENV)/.deps
	$(PY) manage.py makemessages -l fr --no-location --no-obsolete --ignore=var --ignore=tests \
		--ignore=bench --ignore=docs --ignore=node_modules --ignore=.venv
	cd platform && ../$(PY) ../manage.py compilemessages -l fr

# The worker takes every queue the deployment offers (jobs.backends.offered_queues: intake, the
# face check of each submission; generation; detection, the moderation analyses; gpu, diffusion
# jobs, only where VERITALK_DIFFUSION_WEIGHTS names the weights: otherwise the backend is not offered).
serve: migrate signing
	@echo "portal on http://$(HOST):$(PORT)/ ; Ctrl-C stops the portal and the worker"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py runworker --queues offered --loglevel WARNING & \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production mode: PostgreSQL, Redis or RabbitMQ, gunicorn, workers on named queues.
# Needs VERITALK_ENV=production, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and
# CELERY_BROKER_URL in the environment or in .env (see README). FORMATION picks how many of
# each process run, e.g. FORMATION="web=1,intake=1,generation=2,detection=1,gpu=0,beat=1,live=1";
# the Procfile sizes each (README, "Limits and sizing").
FORMATION ?= web=1,intake=1,generation=2,detection=1,gpu=0,beat=1,live=1
prod: $(VENV)/.deps
	$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py init_signing --if-missing
	$(VENV)/bin/honcho start -f Procfile -c $(FORMATION)

bench: $(VENV)/.deps
	$(PY) -m bench.generation --json

# Three consecutive runs, each on a fresh private stack; prints each run and the worst.
bench-load: $(VENV)/.dev
	$(PIP) install --quiet 'locust>=2.30,<3' 'psutil>=5.9,<8'
	$(PY) -m bench.load --runs 3 --json
