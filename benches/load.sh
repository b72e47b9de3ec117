#!/usr/bin/env bash
# Load benchmark of the real server, release build, on this machine:
#
#   benches/load.sh                 # 15 s per scenario at 32 connections, then 2,000 connections
#   DURATION=30 CONNECTIONS=64 benches/load.sh
#   PERF=target/perf benches/load.sh   # also records a perf profile of the server per scenario
#                                      # (perf report -i target/perf/rest.data --no-children)
#
# Starts `promptdb serve` on a throwaway SQLite database, seeds prompts, drives it with wrk, and
# prints one table: a plain JSON route of the same binary (GET /health: same middleware, no auth,
# no database) against REST get-by-slug, MCP tools/call get_prompt (stateless 2026-07-28 request)
# and REST search, with requests/s, p50, p99 and the ratios to the plain route. Then it holds
# 2,000 concurrent connections on get-by-slug and counts errors, and finally drives get-by-slug at
# a fixed arrival rate over 2,000 connections (oha, open loop) for p50/p90/p99. The load
# generator shares the machine with the server, so compare ratios, not absolute numbers, across
# machines.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SEEDED="${SEEDED:-1000}"
HIGH_CONNECTIONS="${HIGH_CONNECTIONS:-2000}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "==> installing wrk"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk
fi
if ! command -v oha >/dev/null 2>&1; then
  echo "==> installing oha (open-loop load generator)"
  cargo install --locked oha --no-default-features --features native-tls
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "==> building the release binary"
cargo build --release --quiet -p promptdb-http --bin promptdb
BIN="$PWD/target/release/promptdb"

WORK="$(mktemp -d)"
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

echo "==> starting promptdb serve (rate limits off: one user at full speed is the point here)"
RUST_LOG=warn PROMPTDB_RATE_LIMIT=off "$BIN" --data-dir "$WORK/data" serve --bind 127.0.0.1:0 >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  grep -q "^listening on " "$WORK/stdout" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/stderr"; exit 1; }
  sleep 0.05
done
URL="$(sed -n 's/^listening on //p' "$WORK/stdout")"
KEY="$(grep -o 'pdb_[A-Za-z0-9]*' "$WORK/stderr" | head -1)"
export PROMPTDB_KEY="$KEY" SEEDED

echo "==> seeding $SEEDED prompts"
words=(alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa)
for ((start = 0; start < SEEDED; start += 100)); do
  body='{"prompts":['
  for ((i = start; i < start + 100 && i < SEEDED; i++)); do
    w="${words[$((i % ${#words[@]}))]}"
    [ "$i" -gt "$start" ] && body+=','
    body+="{\"slug\":\"load-$i\",\"name\":\"Load prompt $i $w\",\"description\":\"A $w prompt for load tests\",\"content\":\"Summarise {{text}} in the style of $w number $i. $(printf 'Context %.0s' {1..40})\",\"tags\":[\"load\",\"$w\"]}"
  done
  body+=']}'
  curl -sf -o /dev/null -X POST "$URL/api/v1/prompts" -H "Authorization: Bearer $KEY" \
    -H 'content-type: application/json' --data-binary "$body"
done

cat >"$WORK/plain.lua" <<'LUA'
request = function() return wrk.format("GET", "/health") end
LUA
cat >"$WORK/rest.lua" <<'LUA'
local n = tonumber(os.getenv("SEEDED"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROMPTDB_KEY")
request = function() return wrk.format("GET", "/api/v1/prompts/load-" .. math.random(0, n - 1)) end
LUA
cat >"$WORK/mcp.lua" <<'LUA'
local n = tonumber(os.getenv("SEEDED"))
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROMPTDB_KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "get_prompt"
local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}'
request = function()
  local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_prompt","arguments":{"slug":"load-'
    .. math.random(0, n - 1) .. '"},' .. meta .. '}}'
  return wrk.format("POST", "/mcp", nil, body)
end
LUA
cat >"$WORK/search.lua" <<'LUA'
local words = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel" }
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROMPTDB_KEY")
request = function()
  return wrk.format("GET", "/api/v1/prompts?q=" .. words[math.random(#words)] .. "&limit=10")
end
LUA
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, summary.requests))
end
LUA

# run NAME SCRIPT CONNECTIONS -> prints "rps p50_ms p99_ms errors requests"
# With PERF=DIR, perf samples the server (call graphs) during each scenario into DIR/NAME.data.
run() {
  local script="$WORK/$2.lua" perf_pid=""
  cat "$script" "$WORK/report.lua" >"$WORK/run.lua"
  if [ -n "${PERF:-}" ] && [ "$1" != warm ]; then
    mkdir -p "$PERF"
    perf record -q -F 499 --call-graph dwarf,16384 -p "$SERVER_PID" -o "$PERF/$1.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wrk -t"$THREADS" -c"$3" -d"${DURATION}s" --timeout 10s -s "$WORK/run.lua" "$URL" 2>&1 | sed -n 's/^RESULT //p'
  [ -z "$perf_pid" ] || wait "$perf_pid" || true
}

echo "==> warming up"
DURATION=3 run warm rest "$CONNECTIONS" >/dev/null

declare -A R
for s in plain rest mcp search; do
  echo "==> $s: ${DURATION}s at $CONNECTIONS connections"
  R[$s]="$(run "$s" "$s" "$CONNECTIONS")"
done
echo "==> rest: ${DURATION}s at $HIGH_CONNECTIONS connections"
HIGH="$(run high rest "$HIGH_CONNECTIONS")"

read -r p_rps p_p50 p_p99 _ _ <<<"${R[plain]}"
printf '\n%-34s %12s %9s %9s %9s %9s %7s\n' "scenario ($CONNECTIONS connections)" "requests/s" "p50 ms" "p99 ms" "× rps" "× p99" "errors"
for s in plain rest mcp search; do
  read -r rps p50 p99 errors _ <<<"${R[$s]}"
  case $s in
    plain) label="plain JSON route (GET /health)" ;;
    rest) label="REST get by slug" ;;
    mcp) label="MCP tools/call get_prompt" ;;
    search) label="REST search (q=word, limit 10)" ;;
  esac
  printf '%-34s %12.0f %9.3f %9.3f %9.2f %9.2f %7d\n' "$label" "$rps" "$p50" "$p99" \
    "$(echo "$rps / $p_rps" | bc -l)" "$(echo "$p99 / $p_p99" | bc -l)" "$errors"
done
read -r h_rps h_p50 h_p99 h_errors h_requests <<<"$HIGH"
printf '%-34s %12.0f %9.3f %9.3f %9s %9s %7d\n' "REST get, $HIGH_CONNECTIONS connections" "$h_rps" "$h_p50" "$h_p99" "" "" "$h_errors"

read -r r_rps _ r_p99 _ _ <<<"${R[rest]}"
read -r m_rps _ _ _ _ <<<"${R[mcp]}"

# Open loop: requests arrive at a fixed rate over HIGH_CONNECTIONS connections whether or not
# earlier ones were answered, and each latency counts from when its request was due (oha
# --latency-correction), so a server that stalls some connections cannot hide it the way a
# closed loop lets it (a stalled wrk connection just sends less). The rate defaults to half of
# what REST get sustained above.
OPEN_RATE="${OPEN_RATE:-$(printf '%.0f' "$(echo "$r_rps / 2" | bc -l)")}"
echo
echo "==> open loop: REST get at $OPEN_RATE requests/s over $HIGH_CONNECTIONS connections, ${DURATION}s (oha)"
host_re="$(sed -e 's#^http://##' -e 's#[.]#[.]#g' <<<"$URL")"
oha --no-tui --output-format json -z "${DURATION}s" -q "$OPEN_RATE" -c "$HIGH_CONNECTIONS" \
  --latency-correction --rand-regex-url -H "Authorization: Bearer $KEY" \
  "http://$host_re/api/v1/prompts/load-(0|[1-9][0-9]{0,2})" >"$WORK/open.json"
python3 - "$WORK/open.json" "$OPEN_RATE" "$SEEDED" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
# Requests still in flight when the run's time is up are cut off, not failed.
cut = {k: n for k, n in r.get("errorDistribution", {}).items() if "deadline" in k}
errors = sum(r.get("errorDistribution", {}).values()) - sum(cut.values())
errors += sum(n for c, n in codes.items() if c != "200")
ms = lambda v: (v or 0) * 1000
print(f"{'open loop, target requests/s':34} {float(sys.argv[2]):12.0f}")
print(f"{'  achieved requests/s':34} {s['requestsPerSec']:12.0f}")
print(f"{'  p50 / p90 / p99 / max ms':34} {ms(p['p50']):12.1f} {ms(p['p90']):9.1f} {ms(p['p99']):9.1f} {ms(s['slowest']):9.1f}")
print(f"{'  errors':34} {errors:12d}")
print(f"goal open-loop p99 ≤ 200 ms:       {'met' if ms(p['p99']) <= 200 and errors == 0 else 'MISSED'}")
PY
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
echo
echo "goal REST ≥ 0.8× plain requests/s:  $(verdict "$(echo "$r_rps >= 0.8 * $p_rps" | bc -l)")"
echo "goal REST p99 ≤ 1.5× plain p99:     $(verdict "$(echo "$r_p99 <= 1.5 * $p_p99" | bc -l)")"
echo "goal MCP ≥ 0.5× plain requests/s:   $(verdict "$(echo "$m_rps >= 0.5 * $p_rps" | bc -l)")"
echo "goal $HIGH_CONNECTIONS connections, 0 errors:  $(verdict "$([ "$h_errors" -eq 0 ] && [ "$h_requests" -gt 0 ] && echo 1 || echo 0)") ($h_requests requests, $h_errors errors)"
