# The two commands the README names: `make run` and `make test`. Both install what is missing.
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced
ROUTER_STAMP := router/node_modules/.installed

.PHONY: run test lint install compose clean

run: install
	$(VENV)/bin/shopgraph run

test: install lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

compose: install
	$(VENV)/bin/shopgraph compose

install: $(STAMP) $(ROUTER_STAMP)

# uv installs exactly what uv.lock says; it comes from PyPI into the venv on first use.
$(STAMP): pyproject.toml uv.lock
	test -x $(PY) || python3 -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
	$(UV) sync --frozen --quiet
	touch $@

$(ROUTER_STAMP): router/package.json router/package-lock.json
	cd router && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf var

# Before a release: the fuzz tests with many more examples per operation than `make test` draws,
# new ones each run (SHOPGRAPH_FUZZ_EXAMPLES=2000 make fuzz for more still).
.PHONY: fuzz
fuzz: install
	SHOPGRAPH_FUZZ_EXAMPLES=$${SHOPGRAPH_FUZZ_EXAMPLES:-500} $(PY) -m pytest tests/e2e/test_fuzz.py
