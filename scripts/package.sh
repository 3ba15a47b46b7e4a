#!/usr/bin/env bash
# Builds the packages IT installs, in release mode, into target/release/bundle/: a .deb
# (Debian, Ubuntu) and an .rpm (Fedora, openSUSE), each with the desktop app, its desktop
# entry in French, Arabic and English, its icons, and the `masar` command line on the PATH.
# MASAR_PACKAGE_VERSION=X.Y.Z gives the packages another version (the upgrade test builds
# a higher one). AppImage is left out: its tools are downloaded at build time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p masar-cli
config=()
if [ -n "${MASAR_PACKAGE_VERSION:-}" ]; then
  config=(--config "{\"version\": \"$MASAR_PACKAGE_VERSION\"}")
fi
# The front end was built by setup.sh; the bundler builds the desktop app in release mode.
node ui/node_modules/@tauri-apps/cli/tauri.js build --ci --bundles deb,rpm "${config[@]}"
ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm
