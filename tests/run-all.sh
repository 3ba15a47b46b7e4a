#!/usr/bin/env bash
# The whole test suite: the front end's catalogue tests, unit tests of every crate, the
# whole-system tests in tests/ (CLI, several databases syncing) and the real window's
# end-to-end tests. CI runs exactly this (.ci/run); so should you before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd ui && npm test)
cargo build --workspace --locked
cargo test --workspace --lib --tests --locked
tests/e2e/run.sh
