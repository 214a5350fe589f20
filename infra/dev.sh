#!/usr/bin/env bash
# Runs the backend's data locally: installs the toolchain, starts a local stack in
# .local/run-dev (left running), creates the table from template.yaml and seeds demo
# data, then shows how to look at it. `make dev-stop` stops the stack.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export STACK_DIR=.local/run-dev
ENV_FILE="$STACK_DIR/stack.env"

infra/install.sh
infra/stack.sh start
# shellcheck source=/dev/null
source "$ENV_FILE"

cargo run -q -p expenzez-devtool --bin dev-seed

TABLE=expenzez-local
cat <<EOT

Local stack is running (DynamoDB Local $AWS_ENDPOINT_URL_DYNAMODB, KMS/Cognito $AWS_ENDPOINT_URL_KMS).
Look at the data (the AWS CLI is in .local/venv/bin):

  source $ENV_FILE
  export PATH="\$PWD/.local/venv/bin:\$PATH"
  aws dynamodb scan --endpoint-url "\$AWS_ENDPOINT_URL_DYNAMODB" --table-name $TABLE --max-items 5
  aws dynamodb query --endpoint-url "\$AWS_ENDPOINT_URL_DYNAMODB" --table-name $TABLE \\
      --key-condition-expression 'PK = :pk AND begins_with(SK, :sk)' \\
      --expression-attribute-values '{":pk":{"S":"USER#<userId>"},":sk":{"S":"TRANSACTION#"}}' --max-items 5
  aws dynamodb query --endpoint-url "\$AWS_ENDPOINT_URL_DYNAMODB" --table-name $TABLE --index-name GSI2 \\
      --key-condition-expression 'GSI2PK = :pk' --no-scan-index-forward \\
      --expression-attribute-values '{":pk":{"S":"USER#<userId>"}}' --max-items 5

(take a <userId> from the scan's PK values, without the USER# prefix)
Stop it with: make dev-stop
EOT
