# Two commands do everything on a fresh machine: `make up` (run the system) and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := $(UV) run --frozen

.PHONY: up down infra-up infra-down token test lint typecheck unit bench install uv

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --all-packages --quiet

infra-up: install
	@$(PY) python -m portal_infra up

infra-down: install
	@$(PY) python -m portal_infra down

token: install
	@$(PY) python -m portal_infra token --office "$(OFFICE)" --user "$(USER_ID)$(if $(USER_ID),,$(USER))" --role "$(or $(ROLE),admin)" --groups "$(GROUPS)"

lint: install
	$(PY) ruff check .
	$(PY) ruff format --check .

typecheck: install
	$(PY) mypy contracts/src libs/client-rules/src $(wildcard services/*/src/portal_*/domain)

test: install lint typecheck
	$(PY) pytest

