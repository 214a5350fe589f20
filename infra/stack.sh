#!/usr/bin/env bash
# Local stack: DynamoDB Local (java) + moto's server (KMS, Cognito user pools, SQS, S3).
#
#   infra/stack.sh start    start both on free loopback ports, wait until they answer,
#                           write $STACK_DIR/stack.env (source it to point the SDKs there)
#   infra/stack.sh stop     stop both, remove the pid files and stack.env
#   infra/stack.sh status   print what runs where (exit 0 when running, 1 when not)
#   infra/stack.sh env      print the path of stack.env (exit 1 when not running)
#
# STACK_DIR (default .local/run, relative paths are taken from the repository root)
# holds the pid files, logs and stack.env, and is the working directory of DynamoDB
# Local (which writes dynamodb-local-metadata.json there even in memory). Separate
# STACK_DIRs give separate stacks that can run at the same time.
# Needs infra/install.sh to have run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$REPO/.local"
DDB_DIR="$LOCAL/dynamodb"
VENV="$LOCAL/venv"
STACK_DIR="${STACK_DIR:-.local/run}"
case "$STACK_DIR" in
    /*) ;;
    *) STACK_DIR="$REPO/$STACK_DIR" ;;
esac
START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
DDB_JAVA_OPTS="${DDB_JAVA_OPTS:--Xmx1g}"
REGION="eu-west-2"

DDB_PID="$STACK_DIR/dynamodb.pid"
DDB_LOG="$STACK_DIR/dynamodb.log"
MOTO_PID="$STACK_DIR/moto.pid"
MOTO_LOG="$STACK_DIR/moto.log"
ENV_FILE="$STACK_DIR/stack.env"

log() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# pid_of FILE PATTERN: prints the pid recorded in FILE if that process is alive and
# its command line contains PATTERN (guards against a recycled pid); else fails.
pid_of() {
    local file="$1" pattern="$2" pid cmd
    [ -f "$file" ] || return 1
    pid="$(cat "$file" 2>/dev/null)" || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/cmdline" ]; then
        cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
        case "$cmd" in *"$pattern"*) ;; *) return 1 ;; esac
    fi
    printf '%s\n' "$pid"
}

ddb_pid() { pid_of "$DDB_PID" DynamoDBLocal.jar; }
moto_pid() { pid_of "$MOTO_PID" moto_server; }

port_of() { sed -n "s|^export $1=http://127.0.0.1:\([0-9]*\)$|\1|p" "$ENV_FILE" 2>/dev/null; }

log_tail() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 25 "$f" >&2 || true
    done
}

# Two distinct free TCP ports; the sockets are held together so they differ.
free_ports() {
    "$VENV/bin/python" - <<'EOF'
import socket
socks = []
for host in ("0.0.0.0", "127.0.0.1"):  # DynamoDB Local listens on all interfaces
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# wait_ready: polls both servers until they answer HTTP (any status counts).
# Exit 0 ready, 3 a process died, 4 timed out.
wait_ready() {
    "$VENV/bin/python" - "$START_TIMEOUT" "$1" "$2" "$3" "$4" <<'EOF'
import os, sys, time, urllib.request, urllib.error

timeout, ddb_port, ddb_pid, moto_port, moto_pid = sys.argv[1:]
deadline = time.monotonic() + float(timeout)

def answers(req):
    try:
        urllib.request.urlopen(req, timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True  # an HTTP error status is still an answer
    except Exception:
        return False

def alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except OSError:
        return False

ddb_req = lambda: urllib.request.Request(
    f"http://127.0.0.1:{ddb_port}/", data=b"{}", method="POST",
    headers={"Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": "DynamoDB_20120810.ListTables"})
moto_req = lambda: urllib.request.Request(f"http://127.0.0.1:{moto_port}/moto-api/")
pending = {"dynamodb": (ddb_pid, ddb_req), "moto": (moto_pid, moto_req)}
while pending:
    for name, (pid, req) in list(pending.items()):
        if answers(req()):
            del pending[name]
        elif not alive(pid):
            print(f"{name} (pid {pid}) exited before answering", file=sys.stderr)
            sys.exit(3)
    if not pending:
        break
    if time.monotonic() > deadline:
        print(f"{', '.join(pending)} did not answer within {timeout}s", file=sys.stderr)
        sys.exit(4)
    time.sleep(0.2)
EOF
}

# Launch a command in its own session (so a Ctrl-C in the calling terminal does not
# reach it), cwd STACK_DIR, output to LOG; prints its pid.
launch() {
    local log="$1"
    shift
    if command -v setsid >/dev/null 2>&1; then
        (cd "$STACK_DIR" && exec setsid "$@" </dev/null >"$log" 2>&1) &
    else
        (cd "$STACK_DIR" && exec "$@" </dev/null >"$log" 2>&1) &
    fi
    printf '%s\n' "$!"
}

# kill_wait PID...: TERM, wait up to 10 s, then KILL and wait up to 5 s more.
kill_wait() {
    local pid i left
    [ "$#" -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for i in $(seq 1 75); do
        left=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left=1; done
        [ "$left" -eq 0 ] && return 0
        if [ "$i" -eq 50 ]; then kill -KILL "$@" 2>/dev/null || true; fi
        sleep 0.2
    done
    for pid in "$@"; do
        kill -0 "$pid" 2>/dev/null && die "process $pid did not stop"
    done
    return 0
}

cmd_stop() {
    local pids=() pid
    if pid="$(ddb_pid)"; then pids+=("$pid"); fi
    if pid="$(moto_pid)"; then pids+=("$pid"); fi
    kill_wait "${pids[@]}"
    rm -f "$DDB_PID" "$MOTO_PID" "$ENV_FILE"
    if [ "${#pids[@]}" -gt 0 ]; then
        log "stopped (pids ${pids[*]}) in ${STACK_DIR#"$REPO"/}"
    else
        log "not running in ${STACK_DIR#"$REPO"/}"
    fi
}

cmd_start() {
    [ -f "$DDB_DIR/DynamoDBLocal.jar" ] || die "DynamoDB Local is not installed: run infra/install.sh"
    [ -x "$VENV/bin/moto_server" ] || die "moto_server is not installed: run infra/install.sh"
    command -v java >/dev/null 2>&1 || die "java is not on PATH: run infra/install.sh"

    if ddb_pid >/dev/null && moto_pid >/dev/null && [ -f "$ENV_FILE" ]; then
        log "already running in ${STACK_DIR#"$REPO"/}: DynamoDB :$(port_of AWS_ENDPOINT_URL_DYNAMODB), moto :$(port_of AWS_ENDPOINT_URL_KMS)"
        return 0
    fi
    # Half a stack (one process died) is stopped before starting afresh.
    cmd_stop >/dev/null
    mkdir -p "$STACK_DIR"

    local attempt ports ddb_port moto_port dpid mpid rc started
    started="$(date +%s)"
    for attempt in 1 2 3; do
        ports="$(free_ports)"
        ddb_port="${ports% *}"
        moto_port="${ports#* }"
        # shellcheck disable=SC2086 # DDB_JAVA_OPTS is a list of JVM options
        dpid="$(launch "$DDB_LOG" java $DDB_JAVA_OPTS \
            "-Djava.library.path=$DDB_DIR/DynamoDBLocal_lib" -jar "$DDB_DIR/DynamoDBLocal.jar" \
            -inMemory -sharedDb -disableTelemetry -port "$ddb_port")"
        echo "$dpid" >"$DDB_PID"
        mpid="$(launch "$MOTO_LOG" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port")"
        echo "$mpid" >"$MOTO_PID"

        rc=0
        wait_ready "$ddb_port" "$dpid" "$moto_port" "$mpid" || rc=$?
        [ "$rc" -eq 0 ] && break
        # A process that died may have lost a race for its port: retry on new ports.
        if [ "$rc" -eq 3 ] && [ "$attempt" -lt 3 ] \
            && grep -qi 'address already in use' "$DDB_LOG" "$MOTO_LOG" 2>/dev/null; then
            log "port clash, retrying on new ports"
            cmd_stop >/dev/null
            continue
        fi
        log_tail "$DDB_LOG" "$MOTO_LOG"
        cmd_stop >/dev/null
        die "local stack did not start in ${STACK_DIR#"$REPO"/} (logs above)"
    done

    cat >"$ENV_FILE.tmp" <<EOF
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$moto_port
export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=http://127.0.0.1:$moto_port
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$moto_port
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$moto_port
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    log "started in ${STACK_DIR#"$REPO"/} ($(($(date +%s) - started)) s): DynamoDB Local :$ddb_port (pid $dpid), moto :$moto_port (pid $mpid)"
    log "env: source ${ENV_FILE#"$REPO"/}"
}

cmd_status() {
    local pid running=0
    if pid="$(ddb_pid)"; then
        log "DynamoDB Local: running, pid $pid, http://127.0.0.1:$(port_of AWS_ENDPOINT_URL_DYNAMODB)"
        running=$((running + 1))
    else
        log "DynamoDB Local: stopped"
    fi
    if pid="$(moto_pid)"; then
        log "moto (KMS, Cognito): running, pid $pid, http://127.0.0.1:$(port_of AWS_ENDPOINT_URL_KMS)"
        running=$((running + 1))
    else
        log "moto (KMS, Cognito): stopped"
    fi
    if [ "$running" -eq 2 ] && [ -f "$ENV_FILE" ]; then
        log "env: source ${ENV_FILE#"$REPO"/}"
        return 0
    fi
    return 1
}

cmd_env() {
    if ddb_pid >/dev/null && moto_pid >/dev/null && [ -f "$ENV_FILE" ]; then
        printf '%s\n' "$ENV_FILE"
    else
        die "not running in ${STACK_DIR#"$REPO"/}"
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
        echo "usage: $0 start|stop|status|env   (STACK_DIR=${STACK_DIR#"$REPO"/})" >&2
        exit 2
        ;;
esac
