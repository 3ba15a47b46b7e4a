#!/usr/bin/env bash
# The whole test suite: formatting and clippy (warnings refused), the front end's
# catalogue tests and type check against the types the core generates, unit tests of
# every crate (among them the check that ui/src/lib/
# types.ts is what the core's answers generate, and the check of the core's layers), the
# whole-system tests in tests/ (CLI, several databases syncing), the real window's
# end-to-end tests, sync carried by two real Syncthing instances on loopback, and the
# packages built, installed, upgraded and removed. CI runs
# exactly this (.ci/run); so should you before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Habits before tests: a commit that is not formatted or that clippy warns about fails here.
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd ui && npm test && npm run check --silent)
cargo build --workspace --locked
cargo test --workspace --lib --tests --locked
tests/e2e/run.sh
python3 tests/syncthing/test_sync.py
python3 tests/workflow/check.py
tests/package/run.sh
