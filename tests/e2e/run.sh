#!/usr/bin/env bash
# Runs the end-to-end tests against the real window: a virtual display, tauri-driver in
# front of WebKitWebDriver, and node's test runner. Expects `cargo build` to have built
# target/debug/masar-desktop and target/debug/masar.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
# tauri-driver is pinned: a new release is taken on purpose, not by whoever runs this first.
TAURI_DRIVER=2.1.0
cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER:" || cargo install tauri-driver --version "$TAURI_DRIVER" --locked
# The window follows the system's language: these tests run on a French system. Its
# support log goes to a folder of this run's own, checked below.
unset LC_ALL LC_MESSAGES
export LANG=fr_FR.UTF-8 LANGUAGE=fr
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
rc=0
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  tauri-driver --port 4444 > target/tauri-driver.log 2>&1 & td=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:4444/status >/dev/null && break; sleep 0.1; done
  node --test --test-concurrency=1 tests/e2e/; rc=$?
  kill $td 2>/dev/null || true
  exit $rc' || rc=$?
# The support log holds what happened, and no name or phone that the tests typed.
python3 tests/e2e/check_log.py "$XDG_DATA_HOME/org.masar.desktop/logs" || rc=1
rm -rf "$XDG_DATA_HOME"
exit $rc
