# The two commands a newcomer needs: `make demo` and `make test`. Everything else is optional.
# Only Python 3.11+ and make are assumed: uv is bootstrapped into .uv/, the project into .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
RUN := $(UV) run --frozen
export UV_PROJECT_ENVIRONMENT := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install demo test test-fast reliability lint format bench clean

$(UV):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: .venv/.installed
	$(RUN) python -m gcx.warehouse.dbt

## demo: start PostgreSQL, simulate 90 trading days of GCX data, build the warehouse, train and score the
## models, make the compliance reports, then serve the live feed, the API, the dashboards and the Dagster UI
demo: install
	$(RUN) gcx db start
	$(RUN) gcx simulate --days 90 --seed 7 --bad-rate 0.01
	$(RUN) gcx materialize
	$(RUN) gcx materialize --job ml_job
	$(RUN) gcx materialize --job compliance_reports_job
	$(RUN) gcx up --demo-keys

## test: the whole test suite against a throwaway embedded PostgreSQL
test: install
	$(RUN) pytest

## test-fast: the tests that need no built platform, browser or live server (a minute, for every edit)
test-fast: install
	$(RUN) pytest --fast

## reliability: faults, bad input, security, load, and every `attack` test; prints the summary table
RELIABILITY_LEDGER := .gcx-reliability.jsonl
reliability: install
	rm -f $(RELIABILITY_LEDGER)
	GCX_RELIABILITY_LEDGER=$(CURDIR)/$(RELIABILITY_LEDGER) $(RUN) pytest tests/reliability -m reliability; \
	status=$$?; \
	GCX_RELIABILITY_LEDGER=$(CURDIR)/$(RELIABILITY_LEDGER) $(RUN) pytest tests -m attack || status=1; \
	$(RUN) python tests/reliability/summary.py $(RELIABILITY_LEDGER) --record || status=1; exit $$status

## lint: ruff on the Python, sqlfluff on the dbt project's SQL (.sqlfluff); CI runs it before the tests
lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) sqlfluff lint dbt_project/models dbt_project/tests

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

## bench: throughput figures, appended to bench/RESULTS.md
bench: install
	$(RUN) python -m bench

clean:
	-$(RUN) gcx db stop
	rm -rf .gcx .venv .uv
