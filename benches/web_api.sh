#!/usr/bin/env bash
# Every API call the web app's pages make, timed at 10,000 prompts (release build):
#   benches/web_api.sh [--prompts N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .e2e/venv/bin/python ] || scripts/setup-e2e
echo "==> building the release binary"
cargo build --release --quiet -p promptdb-http --bin promptdb
exec .e2e/venv/bin/python benches/web_api.py target/release/promptdb "$@"
