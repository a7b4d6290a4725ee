# The two commands of the README. Both bootstrap first (idempotent: a second
# run reuses the checkout and the virtualenvs and takes seconds).
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

ODOO_SRC ?= /opt/odoo-src
DB ?= mcp
PORT ?= 8069
export ODOO_SRC

.PHONY: run test bootstrap lint

bootstrap:
	@bash .ci/bootstrap > /dev/null

# Serve Odoo with the addon on 127.0.0.1:$(PORT), creating or upgrading $(DB).
run:
	@eval "$$(bash .ci/bootstrap)"
	"$$MCP_VENV/bin/python" .ci/serve.py --db "$(DB)" --port "$(PORT)"

# bandit (medium severity and up fails), then the whole pytest suite.
test:
	@eval "$$(bash .ci/bootstrap)"
	"$$MCP_VENV/bin/bandit" -q -c pyproject.toml -r mcp_server_odoo --severity-level medium
	"$$MCP_VENV/bin/python" -m pytest $(PYTEST_ARGS)

lint:
	@eval "$$(bash .ci/bootstrap)"
	"$$MCP_VENV/bin/ruff" check mcp_server_odoo tests security_tests bench
