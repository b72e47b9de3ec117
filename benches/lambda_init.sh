#!/usr/bin/env bash
# Cold-start cost of promptdb-lambda, release build, on this machine:
#
#   benches/lambda_init.sh            # 30 starts
#   RUNS=100 benches/lambda_init.sh
#
# Starts the binary RUNS times with a PostgreSQL URL (PROMPTDB_TEST_DATABASE_URL's server, or
# 127.0.0.1:5432) and a Runtime API address where nothing answers, and reads `init_ms` from its
# "PromptDB ready" log line: the time from the start of `main` to the moment it would ask Lambda
# for its first event. Prints the median, p90 and maximum. (The first request then pays for the
# connection and the schema check: the runtime test, `cargo test -p promptdb-lambda --test
# runtime -- --nocapture`, prints the time to the first response.)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-30}"
URL="${PROMPTDB_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

echo "==> building promptdb-lambda (release)"
cargo build --release --quiet -p promptdb-lambda
BIN="$PWD/target/release/promptdb-lambda"

times=()
for _ in $(seq 1 "$RUNS"); do
  log="$(AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 AWS_LAMBDA_FUNCTION_NAME=bench \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 AWS_LAMBDA_FUNCTION_VERSION=1 \
    PROMPTDB_DATABASE_URL="$URL" RUST_LOG=info timeout 5 "$BIN" 2>&1 || true)"
  ms="$(grep -o 'init_ms=[0-9.]*' <<<"$log" | head -1 | cut -d= -f2)"
  [ -n "$ms" ] || { echo "no init_ms in the log:"; echo "$log"; exit 1; }
  times+=("$ms")
done
printf '%s\n' "${times[@]}" | sort -g | awk -v runs="$RUNS" '
  { t[NR] = $1 }
  END { printf "promptdb-lambda init over %d starts: median %.1f ms, p90 %.1f ms, max %.1f ms\n",
        runs, t[int((NR + 1) / 2)], t[int(NR * 0.9 + 0.5)], t[NR] }'
