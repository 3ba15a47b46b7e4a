#!/usr/bin/env bash
# W6: builds the release window and the demo database, then measures cold starts under a
# virtual display through tauri-driver, as the end-to-end tests drive the window.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
(cd ui && npm run build --silent)
cargo build --release --locked -p masar-desktop -p masar-cli
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MASAR_DB=$work/demo.db MASAR_USER=demo MASAR_PASSWORD=masar-demo ./target/release/masar demo >/dev/null
export MASAR_APP=$PWD/target/release/masar-desktop MASAR_BENCH_DB=$work/demo.db
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  tauri-driver --port 4444 > target/tauri-driver-bench.log 2>&1 & td=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:4444/status >/dev/null && break; sleep 0.1; done
  node benches/window/cold-start.mjs; rc=$?
  kill $td 2>/dev/null || true
  exit $rc'
