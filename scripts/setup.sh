#!/usr/bin/env bash
# Installs what building and testing Masar needs on a fresh Debian/Ubuntu machine.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(build-essential pkg-config perl sqlite3)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: install it with rustup" >&2; exit 1; }
