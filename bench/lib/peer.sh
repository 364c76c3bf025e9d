# The reference peer (node-oidc-provider), sourced by run.sh: it uses run.sh's helpers (run, flow,
# skip, py, say, stop_pid, wait_http) and settings (PEER, PEER_DIR, SCENARIOS, REDIRECT_URI, TMP,
# LIB). See README.md, "The peer".
# shellcheck shell=bash

peer_scenarios() {
  [ "$PEER" != off ] || return 0
  if [ ! -f "$PEER_DIR/server.js" ]; then say "bench: no peer at $PEER_DIR; measuring Portcullis alone"; return 0; fi
  command -v node >/dev/null && command -v npm >/dev/null || { say "bench: node/npm missing; skipping the peer"; return 0; }
  # The shared copy is read-only: install into a work copy, reused while package-lock.json matches.
  local work="${PEER_WORK:-${TMPDIR:-/tmp}/portcullis-bench-peer}"
  if ! cmp -s "$PEER_DIR/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
    say "bench: npm ci for the peer in $work"
    rm -rf "$work"; mkdir -p "$work"; cp -r "$PEER_DIR/." "$work/"; chmod -R u+w "$work"
    if ! (cd "$work" && nice -n 19 timeout 600 npm ci --no-audit --no-fund >"$TMP/npm.log" 2>&1); then
      say "bench: the peer could not be installed (npm ci failed, see below); continuing without it"
      tail -5 "$TMP/npm.log" >&2; rm -rf "$work"; return 0
    fi
  fi
  cp "$PEER_DIR/server.js" "$work/server.js"
  # Its fastest mode first, then JWT access tokens (RS256), each paired with Portcullis's run of
  # the same scenario in the same token format.
  peer_format "$work" opaque _opaque
  peer_format "$work" jwt ""
}

peer_token() {  # AUTH BODY TOKEN_ENDPOINT: a fresh client-credentials token, form-encoded
  curl -sf -H "Authorization: $1" -d "$2" "$3" >"$TMP/peer-token.json" && py quote "$(py get "$TMP/peer-token.json" access_token)"
}

# peer_format WORK FORMAT SUFFIX: the peer with PEER_AT_FORMAT=FORMAT, the scenarios NAME+SUFFIX
# of SCENARIOS it supports, then stopped
peer_format() {
  local work=$1 fmt=$2 sfx=$3 sc wanted=""
  for sc in client_credentials introspection browser_flow; do
    case " $SCENARIOS " in *" $sc$sfx "*) wanted="$wanted $sc" ;; esac
  done
  [ -n "$wanted" ] || return 0
  local pport; pport="$(py port)"
  local pbase="http://127.0.0.1:$pport"
  (cd "$work" && PEER_HOST=127.0.0.1 PEER_PORT="$pport" PEER_AT_FORMAT="$fmt" PEER_REDIRECT_URI="$REDIRECT_URI" \
    exec node server.js) >"$TMP/peer.$fmt.log" 2>&1 &
  PEER_PID=$!
  wait_http "$pbase/.well-known/openid-configuration" 30 "$PEER_PID" || { say "bench: the peer ($fmt) did not start:"; tail -5 "$TMP/peer.$fmt.log" >&2; return 0; }
  curl -sf "$pbase/.well-known/openid-configuration" -o "$TMP/peer-meta.json"
  local token_ep introspect_ep authz_ep pauth ibody
  token_ep="$(py get "$TMP/peer-meta.json" token_endpoint)"
  introspect_ep="$(py get "$TMP/peer-meta.json" introspection_endpoint)"
  authz_ep="$(py get "$TMP/peer-meta.json" authorization_endpoint)"
  # Client and secret of the peer's server.js (its README); scope as in its bench.sh.
  local client=acceptance-client secret=acceptance-secret-0123456789abcdef
  pauth="Basic $(printf '%s' "$client:$secret" | base64 -w0)"
  local body="grant_type=client_credentials&scope=read%20write"
  peer_token "$pauth" "$body" "$token_ep" >/dev/null || { say "bench: the peer ($fmt) refused client_credentials; skipping it"; stop_pid "$PEER_PID"; PEER_PID=""; return 0; }
  for sc in $wanted; do
    case "$sc" in
      client_credentials) TOKENS=$fmt run "$sc$sfx" peer "$PEER_PID" "$token_ep" WRK_METHOD=POST WRK_AUTH="$pauth" WRK_BODY="$body" ;;
      introspection)
        # Minted now: the peer keeps tokens in an LRU of limited size, so one minted before the
        # client_credentials run has been evicted by the time it is introspected.
        ibody="token=$(peer_token "$pauth" "$body" "$token_ep")&token_type_hint=access_token"
        # node-oidc-provider keeps no JWT access tokens, so it may not introspect them: ask once,
        # and measure only if it answers "active": true (opaque runs are measured and flagged).
        curl -s -o "$TMP/peer-introspect.$fmt.json" -H "Authorization: $pauth" -d "$ibody" "$introspect_ep" || true
        if [ "$fmt" = jwt ] && ! py active "$TMP/peer-introspect.$fmt.json"; then
          say "bench: the peer answers introspection of its own JWT with $(head -c 200 "$TMP/peer-introspect.$fmt.json")"
          skip "$sc$sfx" peer "peer cannot introspect its JWTs" "$fmt"
        else
          PROBE_ACTIVE=1 TOKENS=$fmt run "$sc$sfx" peer "$PEER_PID" "$introspect_ep" WRK_METHOD=POST WRK_AUTH="$pauth" WRK_BODY="$ibody"
        fi ;;
      browser_flow)
        # Signed in once through its dev interaction forms, consent given: then every
        # authorization request answers a redirect with a code, as Portcullis's does.
        if python3 "$LIB/peer_seed.py" "$authz_ep" "$token_ep" "$client" "$secret" "$REDIRECT_URI" "read write" \
          >"$TMP/peer-seed.$fmt.json" 2>"$TMP/peer-seed.$fmt.log"; then
          TOKENS=$fmt flow "$sc$sfx" peer "$PEER_PID" "$pbase" "$(py path "$authz_ep")" "$(py path "$token_ep")" "$client" \
            "$(py get "$TMP/peer-seed.$fmt.json" cookie)" "$pauth"
        else
          say "bench: signing in to the peer failed: $(tail -1 "$TMP/peer-seed.$fmt.log")"
          skip "$sc$sfx" peer "signing in to the peer failed: $(tail -1 "$TMP/peer-seed.$fmt.log")" "$fmt"
        fi ;;
    esac
  done
  stop_pid "$PEER_PID"; PEER_PID=""
}
