# The two commands a newcomer needs:  make run  (serve the demo)   make test  (the whole suite)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SECRET_FILE := instance/secret_key

.PHONY: run test install translations extract-messages test-sqlite test-postgres static test-browser test-blackbox clean bench bench-xl bench-profile

$(BIN)/lms: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/lms translations

translations: $(BIN)/lms
	$(BIN)/pybabel -q compile -d lms/translations

$(SECRET_FILE):
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@

# Sets up everything, loads the courses and the demo federation, serves http://127.0.0.1:$(PORT)
run: install $(SECRET_FILE)
	LMS_SECRET_KEY=$$(cat $(SECRET_FILE)) LMS_SECURE_COOKIES=false $(BIN)/lms init-db
	LMS_SECRET_KEY=$$(cat $(SECRET_FILE)) LMS_SECURE_COOKIES=false $(BIN)/lms import-courses courses/
	LMS_SECRET_KEY=$$(cat $(SECRET_FILE)) LMS_SECURE_COOKIES=false $(BIN)/lms demo
	LMS_SECRET_KEY=$$(cat $(SECRET_FILE)) LMS_SECURE_COOKIES=false $(BIN)/lms run --host 127.0.0.1 --port $(PORT)

# Static checks: ruff (with its S security rules) and bandit at medium severity and above.
# bandit's stderr (spurious notes about `# nosec` on findings that span lines) is shown only
# when it fails, by running it again.
static: install
	$(BIN)/ruff check lms tests benchmarks
	$(BIN)/bandit -q -r lms --severity-level medium 2>/dev/null || $(BIN)/bandit -q -r lms --severity-level medium

# The whole suite: static checks, then on SQLite, then on PostgreSQL when LMS_TEST_DATABASE_URL is set.
test: static
	LMS_TEST_BACKEND=sqlite $(BIN)/python -m pytest -q
	@if [ -n "$$LMS_TEST_DATABASE_URL" ]; then \
	  LMS_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q; \
	else \
	  echo "PostgreSQL suite skipped: set LMS_TEST_DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/db to run it"; \
	  if [ "$$LMS_REQUIRE_ALL_SUITES" = "1" ]; then exit 1; fi; \
	fi

test-sqlite: install
	LMS_TEST_BACKEND=sqlite $(BIN)/python -m pytest -q

test-postgres: install
	LMS_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q

# One part alone, on SQLite (LMS_TEST_BACKEND=postgresql for the other backend).
test-browser: install
	$(BIN)/python -m pytest -q tests/browser

test-blackbox: install
	$(BIN)/python -m pytest -q tests/blackbox

# The benchmark suite (not part of `make test`): 15-25 minutes at size S on SQLite and PostgreSQL.
# Needs wrk (apt-get install wrk) and PostgreSQL at LMS_BENCH_POSTGRES_URL (see README).
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(BIN)/python -m benchmarks.run --size S $(BENCH_ARGS)

# The national scale: 150k learners, 2M completions; medians of three runs (about an hour).
bench-xl: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(BIN)/python -m benchmarks.run --size XL --seconds 20 --repeat 3 $(BENCH_ARGS)

# Where one scenario's CPU goes under load: py-spy samples the server while wrk drives it, on a
# database made by benchmarks.generate, e.g.
#   make bench-profile PROFILE_ARGS="--database-url sqlite:////tmp/xl.db --scenario home"
PROFILE_ARGS ?= --help
bench-profile: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks.profile $(PROFILE_ARGS)

# After changing user-facing strings: refresh the template and both catalogues, then translate.
extract-messages: $(BIN)/lms
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output -w 100 -o lms/translations/messages.pot .
	$(BIN)/pybabel -q update -w 100 -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
