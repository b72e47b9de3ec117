#!/usr/bin/env bash
# Harvest benchmark (release build):
#   1. a 100 MB Claude Code session log through the extractor (`promptdb harvest --dry-run`,
#      which needs no database), timed, with its peak memory;
#   2. POST /api/v1/harvest on a running server: a 16 MiB session log, and a 16 MiB text log
#      built to make grouping as costly as it can be (long messages that share their first
#      words and half their vocabulary), each timed at the client.
#
#   benches/harvest.sh [MEGABYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-100}"
echo "==> building the release binary"
cargo build --release --quiet -p promptdb-http --bin promptdb
BIN="$PWD/target/release/promptdb"
WORK="$(mktemp -d)"
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

echo "==> $MB MB Claude Code log, promptdb harvest --dry-run"
python3 benches/harvest_gen.py "$WORK/big.jsonl" "$MB"
for run in 1 2 3; do
    /usr/bin/time -f "run $run: %e s wall, %M KiB peak memory" \
        "$BIN" --json harvest --dry-run "$WORK/big.jsonl" >"$WORK/out.json"
done
python3 - "$WORK/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r, e = d["read"], d["extract"]
print(f"read {r['records']} records, {r['messages']} user messages, {r['malformed']} malformed; "
      f"{e['groups']} groups ({e['noise']} noise, {e['dropped']} dropped); {len(d['proposals'])} proposals")
PY

echo "==> POST /api/v1/harvest on a running server"
RUST_LOG=warn PROMPTDB_RATE_LIMIT=off "$BIN" --data-dir "$WORK/data" serve --bind 127.0.0.1:0 >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  grep -q "^listening on " "$WORK/stdout" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/stderr"; exit 1; }
  sleep 0.05
done
URL="$(sed -n 's/^listening on //p' "$WORK/stdout")"
KEY="$(grep -o 'pdb_[A-Za-z0-9]*' "$WORK/stderr" | head -1)"
python3 benches/harvest_gen.py "$WORK/upload.jsonl" 15 >/dev/null
python3 - "$WORK/hard.txt" <<'PY'
import random, sys
rng = random.Random(3)
vocab = [f"w{i}" for i in range(400)]
out, size = open(sys.argv[1], "w"), 0
while size < 15 * 1024 * 1024:
    words = " ".join(rng.choice(vocab) for _ in range(290))
    turn = f"User: Please review {words}\n\nAssistant: ok\n\n"
    out.write(turn)
    size += len(turn)
PY
upload() {
  curl -s -o "$WORK/reply.json" -w "%{http_code} in %{time_total} s" -X POST "$URL/api/v1/harvest?name=$2" \
    -H "Authorization: Bearer $KEY" -H "Content-Type: $1" --data-binary "@$WORK/$2"
}
echo "16 MiB session log: $(upload application/x-ndjson upload.jsonl)"
echo "16 MiB of look-alike 300-word messages: $(upload text/plain hard.txt)"
curl -sf "$URL/health" >/dev/null && echo "server healthy afterwards"
