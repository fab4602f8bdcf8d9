# Two commands do everything on a fresh machine: `make up` (run the system) and `make test`.
SHELL := /bin/bash
# Recursive (=) so it is looked up again after the `uv` target installed it.
UV = $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY = $(UV) run --frozen

# `up` runs in the foreground (Ctrl-C stops all); `up-detached` + `down` for a background run.
.PHONY: up up-detached down infra-up infra-down servers token test lint typecheck bench install uv system-deps gateway-deps browser-deps api-docs api-docs-check

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --all-packages --quiet

# Kafka's jars from Maven Central and SecantusDB's server built from crates.io (once; cached).
servers: install
	@$(PY) python -m portal_infra build

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

# mypy strict on every package's src/ (pyproject.toml: strict = true).
typecheck: install
	$(PY) mypy contracts/src $(wildcard libs/*/src) tools/infra/src $(wildcard services/*/src)

# LibreOffice is a real peer of the importer's tests (a workbook saved by `soffice`). Installed from
# Debian's packages when missing and we may (root with apt-get); otherwise say how.
system-deps:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "# installing LibreOffice Calc (headless) for the importer's tests"; \
	    (apt-get install -y -q --no-install-recommends libreoffice-calc-nogui >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libreoffice-calc-nogui >/dev/null)); \
	  else echo "# note: LibreOffice (soffice) is missing; install libreoffice-calc-nogui to run the importer's LibreOffice test"; fi; }

# Debian's packages a target needs, installed when missing and we may (root with apt-get).
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
define apt_need
	@command -v $(1) >/dev/null 2>&1 || test -x /usr/sbin/$(1) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "# installing $(2) from Debian's packages"; \
	    ($(APT_INSTALL) $(2) >/dev/null 2>&1 || (apt-get update -q >/dev/null && $(APT_INSTALL) $(2) >/dev/null)); \
	  else echo "# note: $(1) is missing; install the Debian package(s) $(2)"; fi; }
endef

# The gateway of `make up` is nginx (Debian's nginx 1.22).
gateway-deps:
	$(call apt_need,nginx,nginx-light)

# The browser tests drive Debian's Chromium with Playwright (never a downloaded browser).
browser-deps:
	$(call apt_need,chromium,chromium fonts-dejavu-core)

# OpenAPI of every service and AsyncAPI of every FastStream app, committed under docs/api/.
api-docs: install
	@$(PY) python -m portal_infra.api_docs write

api-docs-check: install
	@$(PY) python -m portal_infra.api_docs check

# The official Peppol/EN 16931 rules: $PEPPOL_RULES_DIR, ../shared/peppol-rules, or Maven Central.
test: install system-deps gateway-deps browser-deps lint typecheck api-docs-check servers
	PEPPOL_RULES_DIR="$${PEPPOL_RULES_DIR:-$$($(PY) python -m portal_infra peppol-rules)}" $(PY) pytest

up: install gateway-deps
	@$(PY) python -m portal_infra.stack up

up-detached: install gateway-deps
	@$(PY) python -m portal_infra.stack up --detach

down: install
	@$(PY) python -m portal_infra.stack down

# Every benchmark; each prints its figures next to the baseline measured in the same run.
bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) python $$b || exit 1; done
