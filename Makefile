# Thin aliases for the scripts in infra/. Everything installs under .local/ (git-ignored).
VENV_BIN := $(CURDIR)/.local/venv/bin
# cargo-lambda, sam and `python -m ziglang` come from the project's venv.
WITH_VENV := PATH="$(VENV_BIN):$$PATH" SAM_CLI_TELEMETRY=0

.PHONY: dev dev-stop test lint install build deploy coldstart

## dev: install, start a local stack (.local/run-dev), seed demo data, show how to look
dev:
	infra/dev.sh

## dev-stop: stop the stack started by `make dev`
dev-stop:
	STACK_DIR=.local/run-dev infra/stack.sh stop

## test: every test (install, lint, private local stack, cargo tests)
test:
	infra/test.sh

## coldstart: cold-start bench (exec -> first response against a local Runtime API stub) and binary sizes
coldstart: install
	infra/coldstart.sh

## lint: cfn-lint + sam validate --lint on template.yaml
lint: install
	infra/lint.sh

## install: Java 17, DynamoDB Local, the Python tools (fast no-op when done)
install:
	infra/install.sh

## build: release Lambda binaries with cargo-lambda (target/lambda/<function>/bootstrap)
build: install
	$(WITH_VENV) $(VENV_BIN)/cargo-lambda lambda build --release --arm64

## deploy: sam build + guided deploy (needs AWS credentials and the internet)
deploy: install
	$(WITH_VENV) $(VENV_BIN)/sam build --beta-features
	$(WITH_VENV) $(VENV_BIN)/sam deploy --guided
