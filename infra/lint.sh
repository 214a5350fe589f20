#!/usr/bin/env bash
# Lints template.yaml with cfn-lint and `sam validate --lint` (both offline).
# Fails on any error; cfn-lint warnings fail too (exit code 4), informational notes do not.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.local/venv"
cd "$REPO"

if [ ! -x "$VENV/bin/cfn-lint" ] || [ ! -x "$VENV/bin/sam" ]; then
    echo "lint: tools missing: run infra/install.sh" >&2
    exit 1
fi

# No account, no network: no telemetry, no instance-metadata lookups, dummy credentials.
export SAM_CLI_TELEMETRY=0
export SAM_CLI_DISABLE_VERSION_CHECK=1
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-eu-west-2}"
export AWS_DEFAULT_REGION="$AWS_REGION"

echo "lint: cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

echo "lint: sam validate --lint"
"$VENV/bin/sam" validate --lint --template template.yaml --region eu-west-2

echo "lint: ok"
