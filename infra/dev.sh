#!/usr/bin/env bash
# `make dev`: the backend on your laptop. Installs the toolchain, starts a local
# stack (DynamoDB Local + moto for KMS and Cognito) in .local/run-dev, creates the
# table from template.yaml, creates a demo Cognito user with a year of data, and
# serves template.yaml's HttpApi routes on http://127.0.0.1:${PORT:-3000}.
# Ctrl-C stops the server and the stack.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export STACK_DIR=.local/run-dev
ENV_FILE="$STACK_DIR/stack.env"

infra/install.sh
cargo build -q -p expenzez-local-api --bin local-api
infra/stack.sh start
trap 'infra/stack.sh stop' EXIT
# shellcheck source=/dev/null
source "$ENV_FILE"

export TABLE_NAME=expenzez-local
# Signs pagination keys locally; deployed stacks take CursorSecret as a parameter.
export CURSOR_SECRET="${CURSOR_SECRET:-local-development-cursor-secret-0001}"
export RUST_LOG="${RUST_LOG:-info}"
# Restricted fields are encrypted with a local key here (KMS when deployed);
# the stack is in memory, so a fresh key per run loses nothing.
export FIELD_KEY_PROVIDER=local
FIELD_LOCAL_KEY="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
export FIELD_LOCAL_KEY

cat <<EOT
Local stack: DynamoDB Local $AWS_ENDPOINT_URL_DYNAMODB, KMS/Cognito $AWS_ENDPOINT_URL_KMS
Look at the raw table: source $ENV_FILE; .local/venv/bin/aws dynamodb scan \\
    --endpoint-url "\$AWS_ENDPOINT_URL_DYNAMODB" --table-name $TABLE_NAME --max-items 5
EOT
cargo run -q -p expenzez-local-api --bin local-api
