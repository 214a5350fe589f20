#!/usr/bin/env bash
# Installs everything the local stack needs, idempotently, under the git-ignored
# .local/ folder of the repository:
#   - Java 17 (apt, only when `java` is missing or older than 17)
#   - DynamoDB Local (the jar shipped in the npm package amplify-dynamodb-simulator)
#     -> .local/dynamodb/DynamoDBLocal.jar, .local/dynamodb/DynamoDBLocal_lib/
#   - a Python venv with moto[server], cfn-lint, aws-sam-cli, cargo-lambda (+ziglang),
#     awscli, pinned in infra/requirements.txt -> .local/venv
#   - schemathesis (the API fuzz test), pinned in infra/fuzz-requirements.txt -> .local/fuzz-venv
# A second run finds everything in place and returns in well under a second.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$REPO/.local"
CACHE="$LOCAL/cache"
DDB_DIR="$LOCAL/dynamodb"
VENV="$LOCAL/venv"
REQUIREMENTS="$REPO/infra/requirements.txt"
FUZZ_VENV="$LOCAL/fuzz-venv"
FUZZ_REQUIREMENTS="$REPO/infra/fuzz-requirements.txt"

# DynamoDB Local 1.25.1 ships in this release of the npm package.
DDB_SIM_VERSION="2.9.30"
DDB_SIM_SHA256="3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"

PYTHON="${PYTHON:-python3}"

log() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

apt_updated=0
apt_install() {
    local apt_log="$LOCAL/apt.log"
    if [ "$apt_updated" -eq 0 ]; then
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$apt_log" 2>&1 \
            || { tail -n 20 "$apt_log" >&2; die "apt-get update failed (log: $apt_log)"; }
        apt_updated=1
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        >>"$apt_log" 2>&1 || { tail -n 20 "$apt_log" >&2; die "apt-get install $* failed (log: $apt_log)"; }
}

java_major() {
    # Prints the major version of `java` on PATH (e.g. 17), or nothing.
    java -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n1
}

mkdir -p "$LOCAL" "$CACHE"

# --- Java 17 -------------------------------------------------------------------
major=""
if command -v java >/dev/null 2>&1; then major="$(java_major)"; fi
if [ -n "$major" ] && [ "$major" -ge 17 ]; then
    log "java $major: present"
else
    log "java 17: installing openjdk-17-jre-headless with apt"
    apt_install openjdk-17-jre-headless
    major="$(java_major)"
    if [ -z "$major" ] || [ "$major" -lt 17 ]; then
        die "java on PATH is still not >= 17 (got '${major:-none}')"
    fi
    log "java $major: installed"
fi

# --- DynamoDB Local ------------------------------------------------------------
if [ -f "$DDB_DIR/DynamoDBLocal.jar" ] && [ -d "$DDB_DIR/DynamoDBLocal_lib" ]; then
    log "DynamoDB Local: present"
else
    command -v npm >/dev/null 2>&1 || { log "npm: installing with apt"; apt_install npm; }
    tgz="$CACHE/amplify-dynamodb-simulator-$DDB_SIM_VERSION.tgz"
    if [ ! -f "$tgz" ]; then
        log "DynamoDB Local: npm pack amplify-dynamodb-simulator@$DDB_SIM_VERSION"
        (cd "$CACHE" && npm pack --silent --loglevel=error "amplify-dynamodb-simulator@$DDB_SIM_VERSION" >/dev/null)
    fi
    actual="$(sha256sum "$tgz" | cut -d' ' -f1)"
    if [ "$actual" != "$DDB_SIM_SHA256" ]; then
        rm -f "$tgz"
        die "checksum mismatch for $(basename "$tgz"): $actual (expected $DDB_SIM_SHA256)"
    fi
    tmp="$(mktemp -d "$LOCAL/.dynamodb.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    tar -xzf "$tgz" -C "$tmp" package/emulator
    rm -rf "$DDB_DIR"
    mv "$tmp/package/emulator" "$DDB_DIR"
    rm -rf "$tmp"
    trap - EXIT
    if [ ! -f "$DDB_DIR/DynamoDBLocal.jar" ] || [ ! -d "$DDB_DIR/DynamoDBLocal_lib" ]; then
        die "the package did not contain emulator/DynamoDBLocal.jar and DynamoDBLocal_lib/"
    fi
    log "DynamoDB Local: installed into ${DDB_DIR#"$REPO"/}"
fi

# --- Python venvs -------------------------------------------------------------
# install_venv DIR REQUIREMENTS LABEL: a venv at DIR with exactly the pinned
# REQUIREMENTS. The marker names the requirements and the interpreter, so
# changing either reinstalls.
install_venv() {
    local venv="$1" requirements="$2" label="$3" req_hash marker
    req_hash="$( { cat "$requirements"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)"
    marker="$venv/.installed-$req_hash"
    if [ -f "$marker" ] && "$venv/bin/python" -c '' 2>/dev/null; then
        log "$label: present (${venv#"$REPO"/})"
        return
    fi
    if ! "$venv/bin/python" -c '' 2>/dev/null; then
        rm -rf "$venv"
        if ! "$PYTHON" -m venv "$venv" 2>/dev/null; then
            log "python venv module missing: installing python3-venv with apt"
            rm -rf "$venv"
            apt_install python3-venv
            "$PYTHON" -m venv "$venv"
        fi
    fi
    rm -f "$venv"/.installed-*
    log "$label: pip install -r ${requirements#"$REPO"/} (first time takes a minute or two)"
    # The file pins every package (transitive ones too), so skip the resolver
    # (--no-deps; `pip check` below catches a gap).
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-virtualenv --no-deps --no-compile -r "$requirements"
    # Byte-compile once, on all cores (pip would do it serially). Without .pyc files
    # every cfn-lint/sam/moto start recompiles, since PYTHONDONTWRITEBYTECODE may be set.
    log "$label: byte-compiling"
    "$venv/bin/python" -m compileall -q -j 0 "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
        || log "$label: some files did not byte-compile (harmless)"
    "$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null \
        || die "pip check failed in $venv"
    touch "$marker"
    log "$label: installed (${venv#"$REPO"/})"
}

install_venv "$VENV" "$REQUIREMENTS" "python venv"
"$VENV/bin/python" -m ziglang version >/dev/null || die "python -m ziglang does not run in $VENV"
# The API fuzzer (schemathesis) in its own venv: its pins never meet the stack's tools.
install_venv "$FUZZ_VENV" "$FUZZ_REQUIREMENTS" "fuzz venv"

log "done"
