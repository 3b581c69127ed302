# Quick start: `make run` serves the demo blog on http://127.0.0.1:8000, `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The first interpreter >= 3.12 among the usual names and pyenv's installs (.python-version says 3.13).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$HOME/.pyenv/versions/3.13*/bin/python $$HOME/.pyenv/versions/3.12*/bin/python /usr/local/bin/python3.1[23] /usr/bin/python3.1[23]; do \
	command -v $$p >/dev/null 2>&1 || [ -x "$$p" ] || continue; \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: install mathjax-css run test test-sqlite test-postgres browsers nginx vnu lint format check messages bench bench-readers bench-import bench-import-wordpress faults clean

$(BIN)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Python >= 3.12 is required (Django 6.1); none was found."; \
		echo "       Install Python 3.13 (e.g. 'pyenv install 3.13') or run: make PYTHON=/path/to/python3.13 ..."; \
		exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	@touch $@

# MathJax for typesetting math at save time (blog/mathjax.py). Without Node the blog still runs:
# the browser typesets, and `manage.py typeset_math` catches up once Node is installed.
mathjax-node/node_modules/.installed: mathjax-node/package.json mathjax-node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix mathjax-node --no-audit --no-fund --silent && touch $@; \
	else echo "note: npm not found; math will be typeset in the browser (see docs/math.md)"; fi

install: $(BIN)/.installed mathjax-node/node_modules/.installed

# Regenerate MathJax's CHTML stylesheet after upgrading mathjax-full, then run typeset_math.
mathjax-css: mathjax-node/node_modules/.installed
	node mathjax-node/typeset.mjs --stylesheet > static/css/mathjax-chtml.css

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo_content
	@echo
	@echo "  Blog:  http://$(HOST):$(PORT)/"
	@echo "  Admin: http://$(HOST):$(PORT)/admin/  (log in as the demo author with:"
	@echo "         $(BIN)/python manage.py changepassword sujianlin )"
	@echo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite: unit, integration and real-Chromium browser tests.
# DATABASE_URL selects the database (SQLite by default, e.g. postgres://postgres@127.0.0.1:5432/blog).
test: install browsers nginx vnu
	$(BIN)/python -m pytest $(PYTEST_ARGS)

browsers:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
		echo "Installing Debian chromium for the browser tests (needs root)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

# nginx for the test of deploy/nginx.conf's proxy cache (tests/config/test_deploy.py) and `make bench`.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
		echo "Installing Debian nginx-light for the edge cache tests (needs root)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; }

# The Nu HTML checker (vnu.jar, run with the machine's Java 17+) for tests/blog/test_html_validity.py,
# from the npm package into .tools/ (its postinstall only downloads a Java runtime: skipped).
VNU_VERSION := 26.9.27
VNU_JAR := .tools/node_modules/vnu-jar/build/dist/vnu.jar
$(VNU_JAR):
	@command -v java >/dev/null 2>&1 || { echo "Installing Java for the HTML checker..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; }
	@command -v npm >/dev/null 2>&1 || { echo "Installing npm for the HTML checker..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	mkdir -p .tools
	npm install --prefix .tools --no-save --ignore-scripts --no-audit --no-fund --loglevel=error vnu-jar@$(VNU_VERSION)
	@test -f $@

vnu: $(VNU_JAR)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.prod DJANGO_SECRET_KEY=lint-only-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
		DJANGO_ALLOWED_HOSTS=example.org SITE_URL=https://example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'bench/*' --ignore 'tests/*' --ignore '.tools/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv' --ignore '.tools'

bench: install nginx
	$(BIN)/python -m pip install --quiet '.[dev,bench]'
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)

# The reader beacon under gunicorn on PostgreSQL, driven by wrk (see docs/readers.md).
bench-readers: install
	@command -v wrk >/dev/null 2>&1 || { echo "Installing wrk (needs root)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.readers $(BENCH_ARGS)

# import_typecho at scale (docs/import.md): 10,000 posts and 200,000 comments generated in the
# MariaDB on 127.0.0.1:3306, imported into SQLite (BENCH_ARGS="--database postgres", "--typeset").
bench-import: install
	$(BIN)/python -m bench.import_scale $(BENCH_ARGS)

# import_wordpress at scale (docs/import.md): a generated WXR file, read and imported into SQLite
# against a tenth-size baseline (BENCH_ARGS="--posts 10000 --comments 200000", "--read-only").
bench-import-wordpress: install
	$(BIN)/python -m bench.import_wordpress $(BENCH_ARGS)

# Faults under load (docs/faults.md): kills a worker, restarts PostgreSQL, crashes and freezes Redis
# while clients read posts and send reader beacons. Starts a PostgreSQL cluster and a Redis server
# of its own (needs the postgresql and redis-server packages); FAULTS_ARGS="--services system" uses
# the machine's own instead (root only; everything else using them sees the faults).
faults: install
	@command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing PostgreSQL and Redis for the fault test (needs root)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server; }
	$(BIN)/python -m bench.faults $(FAULTS_ARGS)

clean:
	rm -rf $(VENV) .tools staticfiles db.sqlite3*
