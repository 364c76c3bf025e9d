#!/usr/bin/env bash
# Loopback load benchmark of Portcullis, side by side with the node-oidc-provider peer when
# ../shared/peer exists. See bench/README.md.
#
#   bench/run.sh             every scenario, plus the peer; writes bench/RESULTS.md
#   bench/run.sh --growth    the scenarios again at each store size of GROWTH_STEPS
#   bench/run.sh --smoke     ~1 s per scenario, checks every answer is 2xx; writes nothing
#   bench/run.sh --nodes N   N nodes on a fresh PostgreSQL database (one issuer, one port each),
#                            wrk's threads spread over them; writes results/nodes.json and
#                            RESULTS.md (with --smoke: checks only, writes nothing)
#
# Environment: DURATION (s, 10) CONCURRENCY (32) THREADS (2) WARMUP (s, 2) SCENARIOS (all)
#   GROWTH_STEPS ("10000 100000 1000000") PORTCULLIS_BIN (skip the build) PEER_DIR PEER (auto|off)
#   CODE_MARGIN (1.5) KEEP_TMP (0) OUT (bench/: where results/ and RESULTS.md go)
#   BENCH_POSTGRES_URL (with --nodes: a database to connect to for CREATE DATABASE; default
#   $PORTCULLIS_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres). Other
#   PORTCULLIS_* variables reach the server unchanged.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
LIB="$HERE/lib"
MODE="${MODE:-normal}"
NODES="${NODES:-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --growth) MODE=growth ;;
    --smoke) MODE=smoke ;;
    --normal) MODE=normal ;;
    --nodes) NODES="${2:-}"; shift ;;
    --nodes=*) NODES="${1#*=}" ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$MODE" in normal|growth|smoke) ;; *) echo "MODE must be normal, growth or smoke" >&2; exit 2 ;; esac
case "$NODES" in [1-9]|[1-9][0-9]) ;; *) echo "--nodes takes a number of nodes, 1 to 99" >&2; exit 2 ;; esac
[ "$NODES" = 1 ] || [ "$MODE" != growth ] || { echo "--growth grows a SQLite file: one node only" >&2; exit 2; }

if [ "$MODE" = smoke ]; then
  # Low load on purpose: the smoke run checks the wiring (seeding, every scenario answering 2xx)
  # and must stay fast on a debug binary.
  DURATION="${DURATION:-1}" CONCURRENCY="${CONCURRENCY:-2}" THREADS="${THREADS:-1}" WARMUP="${WARMUP:-0}"
  export WRK_STRICT=1 PEER="${PEER:-off}"
else
  DURATION="${DURATION:-10}" CONCURRENCY="${CONCURRENCY:-32}" THREADS="${THREADS:-2}" WARMUP="${WARMUP:-2}"
fi
if [ "$NODES" -gt 1 ]; then
  # wrk gives each thread one node (lib/load.lua), so threads come in multiples of the nodes,
  # and every thread needs a connection.
  THREADS=$(( (THREADS + NODES - 1) / NODES * NODES ))
  [ "$CONCURRENCY" -ge "$THREADS" ] || CONCURRENCY=$THREADS
  SCENARIOS="${SCENARIOS:-livez client_credentials client_credentials_opaque introspection introspection_opaque me_api_key me_jwt me_opaque login_personal_token browser_flow browser_flow_opaque}"
fi
SCENARIOS="${SCENARIOS:-livez client_credentials client_credentials_opaque introspection introspection_opaque me_api_key me_jwt me_opaque login_personal_token browser_flow browser_flow_opaque authorization_code refresh_token}"
GROWTH_STEPS="${GROWTH_STEPS:-10000 100000 1000000}"
PEER="${PEER:-auto}"
PEER_DIR="${PEER_DIR:-$ROOT/../shared/peer}"
CODE_MARGIN="${CODE_MARGIN:-1.5}"
OUT="${OUT:-$HERE}"   # another directory keeps experiments out of the committed results
REDIRECT_URI="http://127.0.0.1:9/cb"   # never contacted: codes are read from the 303 Location
py() { python3 "$LIB/util.py" "$@"; }
say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }
[ "$NODES" = 1 ] || command -v psql >/dev/null || die "psql not found (--nodes needs PostgreSQL)"
for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ "$DURATION" -le 30 ] || die "DURATION must be at most 30 s: codes minted before a run live 60 s"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")"
SERVER_PID="" PEER_PID="" MINT_PID="" PG_DB=""
cleanup() {
  local rc=$?
  for pid in $MINT_PID $SERVER_PID $PEER_PID; do stop_pid "$pid"; done
  [ -z "$PG_DB" ] || psql "$PG_ADMIN" -qAt -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ] || [ "${KEEP_TMP:-0}" = 1 ]; then say "bench: files kept in $TMP"; else rm -rf "$TMP"; fi
}
stop_pid() {  # TERM, then KILL after 10 s: a stuck process must not outlive the run
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- binary ----------------------------------------------------------------------------------
if [ -n "${PORTCULLIS_BIN:-}" ]; then
  BIN="$(cd "$(dirname "$PORTCULLIS_BIN")" && pwd)/$(basename "$PORTCULLIS_BIN")"
else
  say "bench: cargo build --release (a no-op when up to date)"
  (cd "$ROOT" && nice -n 19 cargo build --release --workspace --quiet) || die "release build failed"
  BIN="$ROOT/target/release/portcullis"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# ---- /proc sampling --------------------------------------------------------------------------
TCK="$(getconf CLK_TCK)"
# Each takes one pid or several (the nodes): CPU is summed, the peak is the largest node's.
cpu_ticks() {  # utime+stime, all threads
  local pid t=0; for pid in $1; do t=$((t + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'))); done; echo "$t"
}
hwm_kb() { local pid; for pid in $1; do awk '/^VmHWM/{print $2}' "/proc/$pid/status"; done | sort -n | tail -1; }
reset_hwm() {  # per-scenario peaks
  local pid ok=1; for pid in $1; do { echo 5 > "/proc/$pid/clear_refs"; } 2>/dev/null || ok=0; done; echo "$ok"
}

wait_http() {  # URL SECONDS PID: until the URL answers 2xx, or fail
  local url=$1 deadline=$((SECONDS + $2)) pid=$3
  until curl -sf -o /dev/null --max-time 2 "$url"; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ---- Portcullis ------------------------------------------------------------------------------
PORTS="" ADDRS=""
for i in $(seq "$NODES"); do
  p="$(py port)"; PORTS="$PORTS $p"; ADDRS="${ADDRS:+$ADDRS,}127.0.0.1:$p"
done
PORT="${PORTS# }"; PORT="${PORT%% *}"
BASE="http://127.0.0.1:$PORT"   # the first node's: every node has this issuer; seeding uses it
DB="$TMP/bench.db"
if [ "$NODES" = 1 ]; then
  export PORTCULLIS_DATABASE_URL="sqlite://$DB?mode=rwc"
else
  PG_ADMIN="${BENCH_POSTGRES_URL:-${PORTCULLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
  PG_DB="portcullis_bench_$(basename "$TMP" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
  psql "$PG_ADMIN" -qAt -c "CREATE DATABASE \"$PG_DB\"" >/dev/null || { PG_DB=""; die "cannot create a database through $PG_ADMIN"; }
  export PORTCULLIS_DATABASE_URL="$(py pgurl "$PG_ADMIN" "$PG_DB")"
fi
export PORTCULLIS_BIND="127.0.0.1:$PORT" PORTCULLIS_ISSUER="$BASE"
# One credential carries thousands of requests a second here: lift the per-credential limit so
# runs measure the verification path (the limiter still runs) rather than 429s.
export PORTCULLIS_RATE_LIMIT_PER_MINUTE="${PORTCULLIS_RATE_LIMIT_PER_MINUTE:-1000000000}"

start_server() {  # every node: same database and issuer, its own port
  local p pid
  SERVER_PID=""
  for p in $PORTS; do
    PORTCULLIS_BIND="127.0.0.1:$p" "$BIN" serve >>"$TMP/server.$p.log" 2>&1 &
    pid=$!; SERVER_PID="${SERVER_PID:+$SERVER_PID }$pid"
  done
  set -- $SERVER_PID
  for p in $PORTS; do
    wait_http "http://127.0.0.1:$p/healthz" 60 "$1" || { tail -20 "$TMP/server.$p.log" >&2; die "server on port $p did not become healthy"; }
    shift
  done
}

client_create() {  # NAME OUT EXTRA...: a confidential resource-server client with every grant
  local name=$1 out=$2; shift 2
  "$BIN" client create --name "$name" --redirect-uri "$REDIRECT_URI" --scope "read write" --grant client_credentials \
    --grant authorization_code --grant refresh_token --resource-server "$@" --json >"$out" 2>>"$TMP/cli.log"
}

OPAQUE_WHY=""   # why the opaque-token scenarios cannot run on this binary, when they cannot
seed() {
  say "bench: seeding $BASE (admin, clients, consent, session token, API key, personal token)"
  printf '%s\n' 'bench admin password' | "$BIN" user create --email admin@bench.test --name Admin --admin \
    >/dev/null 2>>"$TMP/cli.log" || die "user create failed (see $TMP/cli.log)"
  client_create Bench "$TMP/client.json" || die "client create failed (see $TMP/cli.log)"
  CLIENT_ID="$(py get "$TMP/client.json" client_id)"
  # The same client issuing opaque access tokens. A binary without the flag refuses it by name
  # (clap): its opaque scenarios are then skipped, and any other failure is a failure.
  local -a opaque=()
  if client_create "Bench opaque" "$TMP/client-opaque.json" --token-format opaque; then
    opaque=("$(py get "$TMP/client-opaque.json" client_id)" "$(py get "$TMP/client-opaque.json" client_secret)")
  elif grep -q -- '--token-format' "$TMP/cli.log"; then
    OPAQUE_WHY="this binary refuses \`client create --token-format opaque\`"
    say "bench: $OPAQUE_WHY ($(grep -m1 -- '--token-format' "$TMP/cli.log")): skipping the opaque Portcullis scenarios"
  else
    die "client create --token-format opaque failed (see $TMP/cli.log)"
  fi
  start_server
  python3 "$LIB/seed.py" all "$BASE" "$CLIENT_ID" "$(py get "$TMP/client.json" client_secret)" \
    admin@bench.test 'bench admin password' "$REDIRECT_URI" "${opaque[@]}" >"$TMP/seed.json" || die "seeding failed"
  BASIC="$(py get "$TMP/seed.json" basic)"
}
S() { py get "$TMP/seed.json" "$1"; }

# ---- one measured scenario -------------------------------------------------------------------
# run NAME TARGET PID URL VAR=VALUE...: probe, warm-up, measured wrk run, one row in rows.jsonl.
# WRK_MODE=flow runs lib/flow.lua (the browser flow), any other mode lib/load.lua. With
# PROBE_ACTIVE=1 the probe must also answer "active": true (introspection of a valid token),
# before the run and again after it (wrk does not read the bodies of fixed requests).
ROWS="$TMP/rows.jsonl"; : >"$ROWS"
STEP=0
run() {
  local name=$1 target=$2 pid=$3 url=$4; shift 4
  local -a vars=("$@" "WRK_THREADS=$THREADS")
  [ "$target" != portcullis ] || [ "$NODES" = 1 ] || vars+=("WRK_ADDRS=$ADDRS")
  local probe=200 mode=static method=GET auth="" body="" script="$LIB/load.lua"
  local v; for v in "$@"; do
    case "$v" in WRK_MODE=*) mode=${v#*=} ;; WRK_METHOD=*) method=${v#*=} ;; WRK_AUTH=*) auth=${v#*=} ;; WRK_BODY=*) body=${v#*=} ;; esac
  done
  [ "$mode" != flow ] || script="$LIB/flow.lua"
  if [ "$mode" = static ]; then  # single-use secrets are not probed: that would spend one
    probe="$(curl -s -o "$TMP/probe.out" -w '%{http_code}' --max-time 10 -X "$method" \
      ${auth:+-H "Authorization: $auth"} ${body:+-H 'Content-Type: application/x-www-form-urlencoded' --data-raw "$body"} "$url")" || probe=000
    [ "${PROBE_ACTIVE:-0}" = 0 ] || [ "$probe" != 200 ] || py active "$TMP/probe.out" \
      || probe="$probe without \"active\": true"
  fi
  if [ "$mode" = static ] || [ "$mode" = flow ]; then  # both repeat themselves without running out
    [ "$WARMUP" -gt 0 ] && env "${vars[@]}" WRK_JSON=/dev/null timeout $((WARMUP + 30)) \
      wrk -t"$THREADS" -c"$CONCURRENCY" -d"${WARMUP}s" -s "$script" "$url" >/dev/null 2>&1 || true
  fi
  local json="$TMP/$name.$target.$STEP.json" reset c0
  reset="$(reset_hwm "$pid")"; c0="$(cpu_ticks "$pid")"
  env "${vars[@]}" WRK_JSON="$json" timeout $((DURATION + 30)) \
    wrk -t"$THREADS" -c"$CONCURRENCY" -d"${DURATION}s" --latency -s "$script" "$url" >"${json%.json}.txt" 2>&1 \
    || die "wrk failed for $name: $(tail -3 "${json%.json}.txt")"
  if [ "$mode" = static ] && [ "${PROBE_ACTIVE:-0}" = 1 ] && [ "$probe" = 200 ]; then  # still valid at the end?
    curl -s -o "$TMP/probe.out" --max-time 10 -X "$method" -H "Authorization: $auth" \
      -H 'Content-Type: application/x-www-form-urlencoded' --data-raw "$body" "$url" || true
    py active "$TMP/probe.out" || probe="200 before the run, without \"active\": true after it"
  fi
  py row scenario="$name" target="$target" step="$STEP" wrk="$json" cpu0="$c0" cpu1="$(cpu_ticks "$pid")" \
    tck="$TCK" hwm_kb="$(hwm_kb "$pid")" hwm_reset="$reset" probe="$probe" c="$CONCURRENCY" t="$THREADS" \
    nodes="$([ "$target" = portcullis ] && echo "$NODES" || echo 1)" note="${NOTE:-}" tokens="${TOKENS:-}" >>"$ROWS"
  python3 "$LIB/report.py" line "$ROWS"
}

# skip NAME TARGET REASON [TOKENS]: a row saying why a scenario was not measured
skip() {
  py skip scenario="$1" target="$2" step="$STEP" reason="$3" tokens="${4:-}" >>"$ROWS"
  python3 "$LIB/report.py" line "$ROWS"
}

# PKCE S256 pairs for the browser flow, "verifier challenge" a line, reused round-robin (flow.lua)
flow_pairs() {
  [ -s "$TMP/flow-pairs" ] && return 0
  py pairs 256 "$TMP/flow-challenges" "$TMP/flow-verifiers"
  paste -d' ' "$TMP/flow-verifiers" "$TMP/flow-challenges" >"$TMP/flow-pairs"
}

# flow NAME TARGET PID BASE AUTHORIZE_PATH TOKEN_PATH CLIENT_ID COOKIE BASIC: the browser flow
flow() {
  flow_pairs
  run "$1" "$2" "$3" "$4/" WRK_MODE=flow FLOW_PAIRS="$TMP/flow-pairs" FLOW_TOKEN="$6" FLOW_COOKIE="$8" FLOW_AUTH="$9" \
    FLOW_REDIRECT="$(py quote "$REDIRECT_URI")" \
    FLOW_AUTHORIZE="$5?response_type=code&client_id=$(py quote "$7")&redirect_uri=$(py quote "$REDIRECT_URI")&scope=read%20write&code_challenge_method=S256&state="
}

# Codes live 60 s and work once: mint them with wrk right before the exchange run, as many as the
# client_credentials rate says the run can use (exchange does strictly more work), times a margin,
# but for at most 50-DURATION s: the run spends the oldest first, so none is older than 50 s.
mint_codes() {
  local n=$1 limit=$((50 - DURATION)) i t0=$SECONDS
  rm -f "$TMP"/minted.*
  py pairs "$n" "$TMP/challenges" "$TMP/verifiers"
  MINT_PATH="/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=$(py quote "$REDIRECT_URI")&scope=read%20write&code_challenge_method=S256&state=" \
  MINT_PAIRS="$TMP/challenges" MINT_COOKIE="$(S cookie)" MINT_OUT="$TMP/minted" WRK_THREADS="$THREADS" \
    wrk -t"$THREADS" -c"$CONCURRENCY" -d"${limit}s" -s "$LIB/mint.lua" "$BASE/" >"$TMP/mint.txt" 2>&1 &
  MINT_PID=$!
  for i in $(seq $((limit * 10))); do  # wrk keeps running after its threads stop: end it once all are done
    [ "$(ls "$TMP"/minted.done.* 2>/dev/null | wc -l)" -ge "$THREADS" ] && break
    kill -0 "$MINT_PID" 2>/dev/null || break
    sleep 0.1
  done
  sleep 0.5  # the last answers are still in flight
  kill -INT "$MINT_PID" 2>/dev/null || true; wait "$MINT_PID" 2>/dev/null || true; MINT_PID=""
  py merge "$TMP/verifiers" "$TMP/minted" "$THREADS" >"$TMP/codes"
  say "bench: minted $(wc -l <"$TMP/codes") of $n codes in $((SECONDS - t0)) s"
}

portcullis_scenarios() {
  local sc cc_rps
  for sc in $SCENARIOS; do
    if [ -n "$OPAQUE_WHY" ] && [ "${sc%_opaque}" != "$sc" ]; then skip "$sc" portcullis "$OPAQUE_WHY"; continue; fi
    case "$sc" in
      livez) run livez portcullis "$SERVER_PID" "$BASE/livez" ;;
      client_credentials) run client_credentials portcullis "$SERVER_PID" "$BASE/oauth/token" WRK_METHOD=POST \
        WRK_AUTH="$BASIC" WRK_BODY="grant_type=client_credentials&scope=read%20write" ;;
      client_credentials_opaque) run "$sc" portcullis "$SERVER_PID" "$BASE/oauth/token" WRK_METHOD=POST \
        WRK_AUTH="$(S opaque_basic)" WRK_BODY="grant_type=client_credentials&scope=read%20write" ;;
      introspection) PROBE_ACTIVE=1 run introspection portcullis "$SERVER_PID" "$BASE/oauth/introspect" WRK_METHOD=POST \
        WRK_AUTH="$BASIC" WRK_BODY="token=$(S cc_access_token)&token_type_hint=access_token" ;;
      introspection_opaque) PROBE_ACTIVE=1 run "$sc" portcullis "$SERVER_PID" "$BASE/oauth/introspect" WRK_METHOD=POST \
        WRK_AUTH="$(S opaque_basic)" WRK_BODY="token=$(py quote "$(S opaque_cc_access_token)")&token_type_hint=access_token" ;;
      me_api_key) run me_api_key portcullis "$SERVER_PID" "$BASE/v1/users/me" WRK_AUTH="Bearer $(S api_key)" ;;
      me_jwt) run me_jwt portcullis "$SERVER_PID" "$BASE/v1/users/me" WRK_AUTH="Bearer $(S user_access_token)" ;;
      me_opaque)
        if [ -z "$(py opt "$TMP/seed.json" opaque_user_access_token)" ]; then
          skip "$sc" portcullis "$(py opt "$TMP/seed.json" opaque_user_error)"
        else
          run "$sc" portcullis "$SERVER_PID" "$BASE/v1/users/me" WRK_AUTH="Bearer $(S opaque_user_access_token)"
        fi ;;
      browser_flow) flow "$sc" portcullis "$SERVER_PID" "$BASE" /oauth/authorize /oauth/token "$CLIENT_ID" "$(S cookie)" "$BASIC" ;;
      browser_flow_opaque) flow "$sc" portcullis "$SERVER_PID" "$BASE" /oauth/authorize /oauth/token \
        "$(S opaque_client_id)" "$(S cookie)" "$(S opaque_basic)" ;;
      login_personal_token) run login_personal_token portcullis "$SERVER_PID" "$BASE/api/v0/login" \
        WRK_METHOD=POST WRK_AUTH="Bearer $(S personal_token)" ;;
      authorization_code)
        cc_rps="$(python3 "$LIB/report.py" rps "$ROWS" client_credentials portcullis "$STEP")"
        mint_codes "$(python3 -c "import math,sys; print(math.ceil(float(sys.argv[1] or 2000) * $DURATION * $CODE_MARGIN) + $CONCURRENCY)" "$cc_rps")"
        run authorization_code portcullis "$SERVER_PID" "$BASE/oauth/token" WRK_METHOD=POST WRK_AUTH="$BASIC" \
          WRK_MODE=codes WRK_FILE="$TMP/codes" WRK_REDIRECT="$REDIRECT_URI" ;;
      refresh_token)
        python3 "$LIB/seed.py" refresh "$BASE" "$TMP/seed.json" "$CONCURRENCY" >"$TMP/refresh" || die "refresh seeding failed"
        NOTE="chained: $CONCURRENCY families, each response's token is the next request's" \
          run refresh_token portcullis "$SERVER_PID" "$BASE/oauth/token" WRK_METHOD=POST WRK_AUTH="$BASIC" \
          WRK_MODE=refresh WRK_FILE="$TMP/refresh" ;;
      *) die "unknown scenario $sc" ;;
    esac
  done
}

# ---- the peer --------------------------------------------------------------------------------
. "$LIB/peer.sh"   # peer_scenarios

# ---- modes -----------------------------------------------------------------------------------
say "bench: mode $MODE, $NODES node(s), $DURATION s per scenario, $CONCURRENCY connections, $THREADS wrk threads, binary $BIN"
py machine >"$TMP/machine.json"
seed
[ "$MODE" = growth ] && python3 "$LIB/report.py" tables "$DB" 0 >"$TMP/steps.jsonl"
portcullis_scenarios
case "$MODE" in
  smoke)
    python3 "$LIB/report.py" check "$ROWS" ;;
  normal)
    if [ "$NODES" -gt 1 ]; then
      # The single-node figures beside these come from the same binary on the same machine
      # minutes later (one node on SQLite, same scenarios and load), not from another run.
      for pid in $SERVER_PID; do stop_pid "$pid"; done; SERVER_PID=""
      say "bench: the same scenarios on one node (SQLite), for comparison"
      env -u NODES PEER=off OUT="$TMP/single" SCENARIOS="$SCENARIOS" THREADS="$THREADS" CONCURRENCY="$CONCURRENCY" \
        PORTCULLIS_BIN="$BIN" bash "$0" --normal >"$TMP/single.log" 2>&1 || { tail -5 "$TMP/single.log" >&2; die "the single-node run failed"; }
      python3 "$LIB/report.py" save nodes "$ROWS" "$TMP/machine.json" "$OUT/results/nodes.json" \
        "duration=$DURATION" "concurrency=$CONCURRENCY" "threads=$THREADS" "warmup=$WARMUP" "nodes=$NODES" \
        "baseline=$TMP/single/results/normal.json" \
        "binary=$(basename "$(dirname "$BIN")")" "postgres=$(psql "$PG_ADMIN" -qAt -c 'SHOW server_version' 2>/dev/null | cut -d' ' -f1)"
      python3 "$LIB/report.py" render "$OUT/results" "$OUT/RESULTS.md"
      exit 0
    fi
    stop_pid "$SERVER_PID"; SERVER_PID=""   # the peer gets the machine to itself, as Portcullis did
    peer_scenarios
    python3 "$LIB/report.py" save normal "$ROWS" "$TMP/machine.json" "$OUT/results/normal.json" \
      "duration=$DURATION" "concurrency=$CONCURRENCY" "threads=$THREADS" "warmup=$WARMUP"
    python3 "$LIB/report.py" render "$OUT/results" "$OUT/RESULTS.md" ;;
  growth)
    prev=0
    for n in $GROWTH_STEPS; do
      stop_pid "$SERVER_PID"; SERVER_PID=""
      say "bench: growing the store to $n rows per token table"
      python3 "$LIB/grow.py" "$DB" "$prev" "$n" "$CLIENT_ID" || die "growing the store failed"
      python3 "$LIB/report.py" tables "$DB" "$n" >>"$TMP/steps.jsonl"
      prev=$n STEP=$n
      start_server
      portcullis_scenarios
    done
    python3 "$LIB/report.py" save growth "$ROWS" "$TMP/machine.json" "$OUT/results/growth.json" \
      "duration=$DURATION" "concurrency=$CONCURRENCY" "threads=$THREADS" "warmup=$WARMUP" "steps=$TMP/steps.jsonl"
    python3 "$LIB/report.py" render "$OUT/results" "$OUT/RESULTS.md" ;;
esac
