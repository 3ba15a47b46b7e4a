#!/usr/bin/env bash
# The whole test suite: unit tests of every crate and the whole-system tests in tests/.
# CI runs exactly this (.ci/run); so should you before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --locked
cargo test --workspace --all-targets --locked
