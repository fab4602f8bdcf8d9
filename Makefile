# Two commands do everything on a fresh machine: `make up` (run the system) and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := $(UV) run --frozen

# `up` runs in the foreground (Ctrl-C stops all); `up-detached` + `down` for a background run.
.PHONY: up up-detached down infra-up infra-down token test lint typecheck unit bench install uv

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --all-packages --quiet

infra-up: install
	@$(PY) python -m portal_infra up

infra-down: install
	@$(PY) python -m portal_infra down

token: install
	@test -n "$(OFFICE)" || { echo "usage: make token OFFICE=<id> USER=<id> ROLE=admin|staff [GROUPS=a,b]"; exit 2; }
	@$(PY) python -m portal_infra token --office "$(OFFICE)" --user "$(USER)" --role "$(or $(ROLE),admin)" --groups "$(GROUPS)"

lint: install
	$(PY) ruff check .
	$(PY) ruff format --check .

typecheck: install
	$(PY) mypy contracts/src libs/client-rules/src $(wildcard services/*/src/portal_*/domain)

test: install lint typecheck
	$(PY) pytest

up: install
	@$(PY) python -m portal_infra.stack up

up-detached: install
	@$(PY) python -m portal_infra.stack up --detach

down: install
	@$(PY) python -m portal_infra.stack down
