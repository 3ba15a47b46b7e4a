#!/usr/bin/env bash
# Runs the end-to-end tests against the real window: a virtual display, tauri-driver in
# front of WebKitWebDriver, and node's test runner. Expects `cargo build` to have built
# target/debug/masar-desktop and target/debug/masar.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
# The window follows the system's language: these tests run on a French system.
unset LC_ALL LC_MESSAGES
export LANG=fr_FR.UTF-8 LANGUAGE=fr
exec xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  tauri-driver --port 4444 > target/tauri-driver.log 2>&1 & td=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:4444/status >/dev/null && break; sleep 0.1; done
  node --test --test-concurrency=1 tests/e2e/; rc=$?
  kill $td 2>/dev/null || true
  exit $rc'
